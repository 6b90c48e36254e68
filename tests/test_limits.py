"""Limits, each with a clear outcome: file size, nesting depth, expansion and evaluation work,
symbolic links (loops, devices, links out of the scanned tree), permission-denied files and
directories, and what may be read from outside the scanned directory.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from ciiguard.parsers import reading
from ciiguard.testing import scan_path
from tests.conftest import FIXTURES, run_cli

PROVIDER = 'provider "aws" {\n  region = "cn-north-1"\n}\n'
TAGS = '  tags = {\n    data-classification = "personal"\n  }\n'
BUCKET = 'resource "aws_s3_bucket" "b" {\n' + TAGS + "}\n"


def tree(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            target.write_text(data)
        else:
            target.write_bytes(data)
    return root


def scan(root: Path, **options: Any) -> Any:
    return scan_path(root, check=False, **options)


def errors(outcome: Any) -> list[tuple[str | None, int | None, str]]:
    return [(e.file, e.line, e.message) for e in outcome.issues]


# -- file size ----------------------------------------------------------------------------------
def test_max_file_size_refuses_every_kind_of_input(tmp_path: Path) -> None:
    padding = "# " + "x" * 2000 + "\n"
    root = tree(
        tmp_path / "t",
        {
            "main.tf": PROVIDER + BUCKET + padding,
            "terraform.tfvars.json": '{"pad": "' + "x" * 2000 + '"}',
            "plan/tfplan.json": (FIXTURES / "adversarial/plan-alias-key/tfplan.json").read_text(),
            "pulumi/Pulumi.yaml": (
                FIXTURES / "adversarial/pulumi-stack-config/Pulumi.yaml"
            ).read_text()
            + "# "
            + "x" * 2000
            + "\n",
        },
    )
    args = ("scan", ".", "--no-cache", "--no-config", "--format", "json")
    run = run_cli(*args, "--max-file-size", "1KiB", cwd=root)
    assert run.code == 2
    assert sorted((e["file"], e["message"]) for e in run.json["errors"]) == [
        (name, "file is larger than the limit (1KiB)")
        for name in ("main.tf", "plan/tfplan.json", "pulumi/Pulumi.yaml", "terraform.tfvars.json")
    ]
    ok = run_cli(*args, "--max-file-size", "64KiB", cwd=root)
    assert ok.code == 1 and ok.json["errors"] == []


@pytest.mark.parametrize("value", ["12XB", "-1", "0", "ten"])
def test_max_file_size_rejects_bad_values(value: str, tmp_path: Path) -> None:
    run = run_cli("scan", ".", f"--max-file-size={value}", cwd=tmp_path)
    assert run.code == 2
    assert run.stderr.startswith("ciiguard: error: argument --max-file-size:")
    assert len(run.stderr.strip().splitlines()) == 1


def test_default_size_cap_is_checked_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "t" / "main.tf"
    big.parent.mkdir()
    with big.open("wb") as fh:  # sparse: 21 MiB on paper, nothing to parse
        fh.truncate(21 * 1024 * 1024)
    start = time.monotonic()
    outcome = scan(tmp_path / "t")
    assert time.monotonic() - start < 10
    assert errors(outcome) == [("main.tf", None, "file is larger than the limit (20MiB)")]


def test_a_file_is_read_whole_up_to_the_limit_by_its_size_and_past_a_stale_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``read_bytes`` reads what the file's size says and one byte more; a file that grew after
    its size was taken is still read whole, and refused once it passes the limit."""
    from ciiguard.errors import InputError

    f = tmp_path / "main.tf"
    cap = 64
    for size in (0, 1, cap - 1, cap):
        f.write_bytes(bytes(range(size)))
        assert reading.read_bytes(f, "main.tf", cap) == bytes(range(size))
    f.write_bytes(b"x" * (cap + 1))
    with pytest.raises(InputError, match="larger than the limit"):
        reading.read_bytes(f, "main.tf", cap)

    real_stat = os.stat

    def stale(path: Any, *args: Any, **kwargs: Any) -> Any:  # the size before the file grew
        st = real_stat(path, *args, **kwargs)
        return os.stat_result((*st[:6], 3, *st[7:]))

    monkeypatch.setattr(reading.os, "stat", stale)
    for size in (10, cap):
        f.write_bytes(b"y" * size)
        assert reading.read_bytes(f, "main.tf", cap) == b"y" * size
    f.write_bytes(b"z" * (cap + 5))
    with pytest.raises(InputError, match="larger than the limit"):
        reading.read_bytes(f, "main.tf", cap)


# -- depth, expansion and work ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("tuple", "locals {\n  a = 1\n  x = " + "[" * 30000 + "]" * 30000 + "\n}\n", 3),
        ("blocks", "a {\n" * 4000 + "}\n" * 4000, 4000),
        ("object", "locals {\n\n  x = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n}\n", 3),
    ],
)
def test_nesting_beyond_the_parser_is_one_line_with_file_and_line(
    name: str, text: str, line: int, tmp_path: Path
) -> None:
    outcome = scan(tree(tmp_path / name, {"main.tf": text}))
    assert outcome.exit_code == 2
    ((file, at, message),) = errors(outcome)
    assert (file, at) == ("main.tf", line) and "nest" in message and "\n" not in message


def test_expression_nesting_beyond_the_evaluator_is_unknown_not_a_crash(tmp_path: Path) -> None:
    region = "lower(" * 300 + '"us-east-1"' + ")" * 300  # parses; deeper than MAX_DEPTH
    outcome = scan(
        tree(tmp_path / "t", {"main.tf": f'provider "aws" {{\n  region = {region}\n}}\n' + BUCKET})
    )
    assert outcome.errors == []
    assert [(v.policy, v.resource) for v in outcome.violations] == [("CII003", "aws_s3_bucket.b")]
    assert "nested too deeply" in outcome.violations[0].message


@pytest.mark.parametrize(
    ("what", "meta", "needle"),
    [
        ("count", "count = 100000000", "100000000"),
        (
            "for_each",
            'for_each = toset(flatten([for i in range(40) : [for j in range(1000) : "${i}-${j}"]]))',
            "40000",
        ),
        ("module-count", None, "100000000"),
    ],
)
def test_expansion_over_the_cap_is_a_finding_not_a_hang(
    what: str, meta: str | None, needle: str, tmp_path: Path
) -> None:
    if meta is not None:
        files = {
            "main.tf": PROVIDER + f'resource "aws_s3_bucket" "b" {{\n  {meta}\n' + TAGS + "}\n"
        }
        address = "aws_s3_bucket.b"
    else:
        files = {
            "main.tf": PROVIDER + 'module "m" {\n  source = "./m"\n  count  = 100000000\n}\n',
            "m/main.tf": BUCKET,
        }
        address = "module.m"
    start = time.monotonic()
    outcome = scan(tree(tmp_path / what, files))
    assert time.monotonic() - start < 30
    assert outcome.exit_code == 1
    (v,) = outcome.violations
    assert (v.policy, v.resource) == ("CII003", address)
    assert needle in v.message and "limit" in v.message


def test_dynamic_blocks_over_the_cap_are_unknown_not_truncated(tmp_path: Path) -> None:
    """10011 replicas, the last one abroad: a truncated list would have passed."""
    main = (
        PROVIDER
        + """
locals {
  replicas = concat(flatten([for i in range(10) : [for j in range(1001) : "cn-northwest-1"]]), ["us-east-1"])
}

resource "aws_dynamodb_table" "orders" {
  name     = "orders"
  hash_key = "id"

  dynamic "replica" {
    for_each = local.replicas
    content {
      region_name = replica.value
    }
  }
"""
        + TAGS
        + "}\n"
    )
    outcome = scan(tree(tmp_path / "t", {"main.tf": main}))
    assert [(v.policy, v.resource) for v in outcome.violations] == [
        ("CII003", "aws_dynamodb_table.orders")
    ]
    assert "10011 elements" in outcome.violations[0].message


@pytest.mark.parametrize(
    "expression",
    [
        'element(flatten([for a in range(1024) : [for b in range(1024) : [for c in range(1024) : "us-east-1"]]]), 0)',
        'join("", [for i in range(1024) : join(",", [for j in range(1024) : j])]) == "" ? "cn-north-1" : "cn-north-1"',
        'format("%999999999s", "us-east-1")',
        'replace("' + "a" * 40 + '!", "/(a+)+$/", "") == "" ? "cn-north-1" : "ap-east-1"',
        'regex("(a|aa)+$", "' + "a" * 60 + '!") == "" ? "cn-north-1" : "ap-east-1"',
    ],
    ids=["product", "nested-join", "format-width", "redos-nested", "redos-alternation"],
)
def test_expensive_expressions_stop_at_the_work_cap(expression: str, tmp_path: Path) -> None:
    main = f'provider "aws" {{\n  region = {expression}\n}}\n' + BUCKET
    start = time.monotonic()
    outcome = scan(tree(tmp_path / "t", {"main.tf": main}))
    assert time.monotonic() - start < 20
    assert [(v.policy, v.resource) for v in outcome.violations] == [("CII003", "aws_s3_bucket.b")]


# -- symbolic links and special files ---------------------------------------------------------
def test_symlink_loops_are_one_line_errors(tmp_path: Path) -> None:
    root = tree(tmp_path / "t", {"main.tf": PROVIDER + 'module "m" {\n  source = "./m"\n}\n'})
    (root / "m").symlink_to(root / "m")  # a directory loop used as a module source
    (root / "a.tf").symlink_to(root / "b.tf")
    (root / "b.tf").symlink_to(root / "a.tf")
    (root / "self").symlink_to(root)  # a directory link back into the tree: not walked twice
    start = time.monotonic()
    outcome = scan(root)
    assert time.monotonic() - start < 10
    assert outcome.exit_code == 2
    assert sorted(errors(outcome)) == [
        ("a.tf", None, "a dangling symbolic link or a symbolic link loop"),
        ("b.tf", None, "a dangling symbolic link or a symbolic link loop"),
        ("main.tf", 4, "module 'm' source './m' is a symbolic link loop"),
    ]


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_fifos_and_devices_are_never_opened(kind: str, tmp_path: Path) -> None:
    root = tree(tmp_path / kind, {"variables.tf": 'variable "x" {}\n'})
    if kind == "fifo":
        os.mkfifo(root / "main.tf")
        os.mkfifo(root / "tfplan.json")
    else:
        (root / "main.tf").symlink_to("/dev/zero")
        (root / "Pulumi.yaml").symlink_to("/dev/urandom")
    start = time.monotonic()
    outcome = scan(root)
    assert time.monotonic() - start < 10
    assert outcome.exit_code == 2
    assert all("not a regular file" in m for _, _, m in errors(outcome))
    assert len(errors(outcome)) == 2


def test_links_out_of_the_tree_are_refused_unless_allowed(tmp_path: Path) -> None:
    outside = tree(tmp_path / "outside", {"main.tf": BUCKET})
    root = tree(tmp_path / "t", {"main.tf": PROVIDER})
    (root / "prod").symlink_to(outside)  # a directory of configuration elsewhere
    (root / "extra.tf").symlink_to(outside / "main.tf")
    outcome = scan(root)
    assert outcome.exit_code == 2
    assert sorted(f for f, _, _ in errors(outcome)) == ["extra.tf", "prod"]
    assert all("outside the scanned directory" in m for _, _, m in errors(outcome))
    allowed = scan(root, allow_outside_root=True)
    assert allowed.errors == []
    # the linked directory is a root of its own, without a provider region: CII003 there
    assert [(v.policy, v.resource, v.file) for v in allowed.violations] == [
        ("CII003", "aws_s3_bucket.b", "prod/main.tf")
    ]


def test_module_sources_leaving_the_tree_are_refused_unless_allowed(tmp_path: Path) -> None:
    tree(tmp_path / "shared", {"main.tf": BUCKET})
    root = tree(tmp_path / "t", {"main.tf": PROVIDER + 'module "m" {\n  source = "../shared"\n}\n'})
    outcome = scan(root)
    assert errors(outcome) == [
        (
            "main.tf",
            4,
            "module 'm' source '../shared' is outside the scanned directory "
            "(use --allow-outside-root to follow it)",
        )
    ]
    assert scan(root, allow_outside_root=True).exit_code == 0


def test_a_var_file_named_on_the_command_line_may_live_anywhere(tmp_path: Path) -> None:
    """The operator's own --var-file is explicit permission; files the scanned tree pulls in
    (symlinked tfvars, modules, links) are not (see the tests above)."""
    (tmp_path / "prod.tfvars").write_text('region = "ap-east-1"\n')
    root = tree(
        tmp_path / "t",
        {
            "main.tf": 'variable "region" {\n  default = "cn-north-1"\n}\n\nprovider "aws" {\n  region = var.region\n}\n\n'
            + BUCKET
        },
    )
    run = run_cli(
        "scan",
        ".",
        "--var-file",
        "../prod.tfvars",
        "--no-cache",
        "--no-config",
        "--format",
        "json",
        cwd=root,
    )
    assert run.code == 1
    assert [(v["policy"], v["region"]) for v in run.json["violations"]] == [("CII001", "ap-east-1")]


# -- permissions ------------------------------------------------------------------------------
def test_a_file_that_cannot_be_read_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tree(
        tmp_path / "t", {"main.tf": PROVIDER + BUCKET, "secret.tf": "locals {\n  x = 1\n}\n"}
    )
    secret = root / "secret.tf"
    if os.geteuid() != 0:
        secret.chmod(0)
    else:  # root reads everything: make the read itself fail as it would for anyone else
        real_open = open

        def guarded(file: Any, *args: Any, **kwargs: Any) -> Any:
            if Path(file).name == "secret.tf":
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(reading, "open", guarded, raising=False)
    outcome = scan(root, use_cache=False)
    assert outcome.exit_code == 2
    assert errors(outcome) == [("secret.tf", None, "permission denied")]


def test_a_directory_that_cannot_be_listed_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tree(tmp_path / "t", {"main.tf": PROVIDER, "locked/main.tf": BUCKET})
    locked = root / "locked"
    if os.geteuid() != 0:
        locked.chmod(0)
    else:
        real_scandir = os.scandir

        def guarded(path: Any = ".") -> Any:
            if Path(path).name == "locked":
                raise PermissionError(13, "Permission denied", str(path))
            return real_scandir(path)

        monkeypatch.setattr(os, "scandir", guarded)
    try:
        outcome = scan(root)
    finally:
        locked.chmod(0o755)
    assert outcome.exit_code == 2
    assert errors(outcome) == [("locked", None, "cannot list directory: Permission denied")]


# -- config includes ----------------------------------------------------------------------------
def test_a_config_file_cannot_pull_a_baseline_from_outside_its_directory(tmp_path: Path) -> None:
    import json

    from ciiguard.gate.baseline import SCHEMA

    (tmp_path / "elsewhere.json").write_text(json.dumps({"schema": SCHEMA, "findings": []}))
    root = tree(
        tmp_path / "repo",
        {"main.tf": PROVIDER + BUCKET, "ciiguard.toml": 'baseline = "../elsewhere.json"\n'},
    )
    refused = run_cli("scan", ".", "--no-cache", cwd=root)
    assert refused.code == 2
    assert refused.stderr.strip().splitlines() == [
        "ciiguard: error: ciiguard.toml: baseline ../elsewhere.json is outside the config "
        "file's directory (use --allow-outside-root to read it)"
    ]
    allowed = run_cli("scan", ".", "--no-cache", "--allow-outside-root", cwd=root)
    assert allowed.code == 0, allowed.stderr
    inside = tree(root, {"ciiguard.toml": 'baseline = "baselines/ok.json"\n'})
    tree(inside, {"baselines/ok.json": json.dumps({"schema": SCHEMA, "findings": []})})
    assert run_cli("scan", ".", "--no-cache", cwd=root).code == 0


def test_max_total_size_refuses_the_whole_scan_with_one_line(tmp_path: Path) -> None:
    """A limit on everything a scan reads, so a huge estate fails closed (exit 2) before it can
    exhaust a CI runner's memory; under the limit the same tree scans as usual."""
    root = tree(
        tmp_path / "t", {"main.tf": PROVIDER + BUCKET, "more.tf": BUCKET.replace('"b"', '"c"')}
    )
    total = sum(f.stat().st_size for f in root.iterdir())
    over = run_cli("scan", str(root), "--no-cache", "--max-total-size", f"{total - 1}B")
    assert over.code == 2
    (line,) = [x for x in over.stderr.splitlines() if x.startswith("error:")] or [
        x for x in over.stdout.splitlines() if x.startswith("error:")
    ]
    assert f"the inputs total {total}B, more than --max-total-size {total - 1}B" in line
    assert run_cli("scan", str(root), "--no-cache", "--max-total-size", f"{total}B").code != 2
    bad = run_cli("scan", str(root), "--max-total-size", "lots")
    assert bad.code == 2 and "not a size" in bad.stderr


def test_no_input_says_what_was_looked_for_and_allow_empty_passes(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("nothing to scan\n")
    run = run_cli("scan", str(tmp_path), "--no-cache")
    assert run.code == 2
    assert "looked for *.tf, *.tf.json, *.tfvars, terragrunt.hcl, Pulumi.yaml" in run.stdout
    assert "terraform show -json PLAN > plan.json" in run.stdout
    allowed = run_cli("scan", str(tmp_path), "--no-cache", "--allow-empty", "--format", "json")
    assert allowed.code == 0
    assert (
        "no Terraform, Terragrunt or Pulumi input found" in allowed.json["warnings"][0]["message"]
    )
