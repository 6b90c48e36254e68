"""What Terraform knows before apply, ciiguard knows too: the selected workspace, converted
meta-arguments, and module sources mapped to directories (``[module_sources]``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ciiguard.settings import module_source_key
from ciiguard.testing import scan_path
from tests.conftest import FIXTURES, clean_env, run_cli
from tests.test_differential import Terraform, ciiguard_root, same, terraform  # noqa: F401

PT = FIXTURES / "plan-time"


def regions(outcome: object) -> dict[str, str | None]:
    return {r.address: r.region.region for r in outcome.resources}  # type: ignore[attr-defined]


# -- terraform.workspace ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "environment_file", "region"),
    [
        ({}, None, "cn-north-1"),
        ({"TF_WORKSPACE": "prod"}, None, "cn-northwest-1"),
        ({}, "prod\n", "cn-northwest-1"),
        ({"TF_WORKSPACE": "hk"}, "prod\n", "ap-east-1"),  # the environment variable wins
    ],
)
def test_the_selected_workspace_decides(
    tmp_path: Path, env: dict[str, str], environment_file: str | None, region: str
) -> None:
    work = tmp_path / "ws"
    shutil.copytree(PT / "workspace", work)
    if environment_file is not None:
        (work / ".terraform").mkdir()
        (work / ".terraform" / "environment").write_text(environment_file)
    outcome = scan_path(work, check=False, env=env, use_cache=False)
    assert regions(outcome) == {"aws_s3_bucket.orders": region}


def test_terraform_workspace_select_is_what_a_scan_evaluates(tmp_path: Path) -> None:
    """`terraform workspace select hk` writes .terraform/environment: the scan must follow it
    (it used to evaluate "default" and pass), say where the name came from, and a cached run
    must not answer for the workspace selected before."""
    work = tmp_path / "ws"
    shutil.copytree(PT / "workspace", work)
    env = clean_env(CIIGUARD_CACHE_DIR=str(tmp_path / "cache"))
    assert run_cli("scan", str(work), "--no-config", env=env).code == 0
    (work / ".terraform").mkdir()
    (work / ".terraform" / "environment").write_text("hk")
    run = run_cli("scan", str(work), "--no-config", "--explain", "aws_s3_bucket.orders", env=env)
    assert "terraform.workspace" in run.stdout and "environment:1" in run.stdout, run.stdout
    run = run_cli("scan", str(work), "--no-config", "--format", "json", env=env)
    assert run.code == 1
    assert [v["region"] for v in run.json["violations"]] == ["ap-east-1"]


def test_tf_data_dir_moves_the_environment_file(tmp_path: Path) -> None:
    work = tmp_path / "ws"
    shutil.copytree(PT / "workspace", work)
    (work / "state").mkdir()
    (work / "state" / "environment").write_text("prod")
    outcome = scan_path(work, check=False, env={"TF_DATA_DIR": "state"}, use_cache=False)
    assert regions(outcome) == {"aws_s3_bucket.orders": "cn-northwest-1"}


@pytest.mark.parametrize("name", ["../../etc", "a b", "x/y", ""])
def test_an_invalid_workspace_name_is_not_evaluated(tmp_path: Path, name: str) -> None:
    work = tmp_path / "ws"
    shutil.copytree(PT / "workspace", work)
    (work / ".terraform").mkdir()
    (work / ".terraform" / "environment").write_text(name)
    outcome = scan_path(work, check=False, use_cache=False)
    if name == "":  # an empty file: Terraform's default
        assert regions(outcome) == {"aws_s3_bucket.orders": "cn-north-1"}
        return
    assert regions(outcome) == {"aws_s3_bucket.orders": None}
    assert [v.policy for v in outcome.violations] == ["CII003"]


@pytest.mark.slow
def test_workspace_matches_terraform(terraform: Terraform, tmp_path: Path) -> None:  # noqa: F811
    work = tmp_path / "ws"
    work.mkdir()
    (work / "main.tf").write_text('output "ws" {\n  value = terraform.workspace\n}\n')
    terraform.init(work)
    made = terraform.run(work, "workspace", "new", "prod-cn")
    assert made.returncode == 0, made.stderr
    plan = terraform.plan_json(work)
    assert plan["planned_values"]["outputs"]["ws"]["value"] == "prod-cn"
    root, _ = ciiguard_root(work, env={"TF_DATA_DIR": str(work / ".tfdata")})
    assert root.output("ws") == "prod-cn"


# -- conversions and meta-arguments ------------------------------------------------------------


def test_meta_arguments_convert_like_terraform_and_never_drop_a_resource() -> None:
    outcome = scan_path(PT / "conversions", check=False, use_cache=False)
    assert sorted(regions(outcome)) == [
        "aws_s3_bucket.condition_string[0]",
        'aws_s3_bucket.count_is_a_bool["*"]',
        "aws_s3_bucket.counted_by_string[0]",
        'aws_s3_bucket.each_over_a_list["*"]',
    ]
    errors = sorted((e.line, e.message) for e in outcome.issues)
    assert errors == [
        (
            26,
            "for_each of aws_s3_bucket.each_over_a_list must be a map or a set of strings, not "
            '["a", "b"] (a list becomes a set with toset())',
        ),
        (
            34,
            "count of aws_s3_bucket.count_is_a_bool is not a whole number of zero or more (true)",
        ),
    ]
    assert outcome.exit_code == 2
    assert {v.resource for v in outcome.violations} == set(regions(outcome))


@pytest.mark.slow
def test_terraform_agrees_on_the_conversions(terraform: Terraform, tmp_path: Path) -> None:  # noqa: F811
    """`count = "1"` and a string condition are valid; a list for_each and a bool count are not."""
    work = tmp_path / "conv"
    work.mkdir()
    terraform.init(work)
    valid = (
        'variable "n" {\n  default = "1"\n}\n'
        'resource "terraform_data" "a" {\n  count = var.n\n}\n'
        'resource "terraform_data" "b" {\n  count = "true" ? 1 : 0\n}\n'
    )
    (work / "main.tf").write_text(valid)
    assert terraform.run(work, "plan", "-input=false").returncode == 0
    for bad in (
        'resource "terraform_data" "c" {\n  for_each = ["a", "b"]\n}\n',
        'resource "terraform_data" "d" {\n  count = true\n}\n',
        'resource "terraform_data" "e" {\n  for_each = toset([1, 2])\n}\n',
    ):
        (work / "main.tf").write_text(bad)
        assert terraform.run(work, "plan", "-input=false").returncode != 0, bad
        (work / "main.tf").write_text(bad.replace("terraform_data", "aws_s3_bucket"))
        outcome = scan_path(work, check=False, use_cache=False)
        assert outcome.exit_code == 2 and len(outcome.resources) == 1, bad


NULL_LIST_OR_EMPTY = (
    'variable "disk" {\n  type = object({ schedules = optional(list(string)) })\n'
    "  default = {}\n}\n"
    'resource "%s" "attach" {\n'
    "  for_each = var.disk.schedules != null ? toset(var.disk.schedules) : []\n}\n"
)


def test_a_null_set_or_an_empty_tuple_is_no_instance(tmp_path: Path) -> None:
    """``x != null ? toset(x) : []`` (cloud-foundation-fabric's compute-vm): Terraform types the
    null ``toset(x)`` a set, so the ``[]`` chosen is an empty set. It exited 2 (fourth audit)."""
    (tmp_path / "main.tf").write_text(NULL_LIST_OR_EMPTY % "aws_s3_bucket")
    outcome = scan_path(tmp_path, check=False, use_cache=False)
    assert (outcome.exit_code, outcome.issues, outcome.resources) == (0, [], [])


@pytest.mark.slow
def test_terraform_plans_no_instance_of_a_null_set_or_an_empty_tuple(
    terraform: Terraform,  # noqa: F811
    tmp_path: Path,
) -> None:
    (tmp_path / "main.tf").write_text(
        NULL_LIST_OR_EMPTY % "terraform_data"
        + 'output "n" {\n  value = length(terraform_data.attach)\n}\n'
    )
    terraform.init(tmp_path)
    assert terraform.plan_json(tmp_path)["planned_values"]["outputs"]["n"]["value"].text == "0"


# -- [module_sources] -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "key", "subdir"),
    [
        ("terraform-google-modules/sql-db/google", "terraform-google-modules/sql-db/google", ""),
        (
            "terraform-google-modules/sql-db/google//modules/mysql",
            "terraform-google-modules/sql-db/google",
            "modules/mysql",
        ),
        ("registry.terraform.io/hashicorp/consul/aws", "hashicorp/consul/aws", ""),
        ("git::https://example.com/net.git?ref=v1.2.0", "git::https://example.com/net.git", ""),
        (
            "git::https://example.com/net.git//modules/vpc?ref=v1.2.0",
            "git::https://example.com/net.git",
            "modules/vpc",
        ),
        ("github.com/acme/net//vpc", "github.com/acme/net", "vpc"),
        ("https://example.com/net.zip", "https://example.com/net.zip", ""),
    ],
)
def test_module_source_keys(source: str, key: str, subdir: str) -> None:
    assert module_source_key(source) == (key, subdir)


def test_a_module_repository_scans_its_examples_through_the_mapping() -> None:
    """The examples call the module by its registry address; mapped to ".", the module is read
    like a local one, with its //subdirectory, and is not also scanned as a root of its own."""
    run = run_cli("scan", str(PT / "module-repo"), "--format", "json", "--no-cache")
    assert run.code == 1, run.stderr
    assert [(v["policy"], v["resource"], v["region"]) for v in run.json["violations"]] == [
        ("CII001", "module.mysql.aws_db_instance.db", "ap-east-1")
    ]
    assert [r["address"] for r in run.json["resources"]] == ["module.mysql.aws_db_instance.db"]


def test_a_vendored_git_module_is_read_and_an_unmapped_one_stays_cii003() -> None:
    run = run_cli("scan", str(PT / "vendored"), "--format", "json", "--no-cache")
    found = sorted((v["policy"], v["resource"]) for v in run.json["violations"])
    assert found == [
        ("CII001", "module.net.aws_s3_bucket.flow_logs"),
        ("CII003", "module.unmapped"),
    ]


def test_a_mapping_out_of_the_scanned_tree_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(PT / "vendored", repo)
    outside = tmp_path / "elsewhere"
    shutil.copytree(PT / "vendored" / "vendor" / "net", outside)
    (repo / "ciiguard.toml").write_text(
        '[module_sources]\n"git::https://example.com/net.git" = "../elsewhere"\n'
    )
    run = run_cli("scan", str(repo / "live"), "--config", str(repo / "ciiguard.toml"))
    assert run.code == 2
    assert "is outside the scanned directory (use --allow-outside-root" in run.stdout + run.stderr
    run = run_cli(
        "scan", str(repo / "live"), "--config", str(repo / "ciiguard.toml"), "--allow-outside-root"
    )
    assert run.code == 1 and "module.net.aws_s3_bucket.flow_logs" in run.stdout


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('"a/b/c//sub" = "."', "without a //subdirectory"),
        ('"./local" = "."', "a local path needs no mapping"),
        ('"a/b/c" = "nowhere"', "'nowhere' is not a directory"),
        ('"a/b/c" = 3', "expected a non-empty string"),
    ],
)
def test_a_malformed_mapping_is_one_line_exit_2(tmp_path: Path, table: str, message: str) -> None:
    (tmp_path / "main.tf").write_text('provider "aws" {\n  region = "cn-north-1"\n}\n')
    (tmp_path / "ciiguard.toml").write_text(f"[module_sources]\n{table}\n")
    run = run_cli("scan", str(tmp_path))
    assert run.code == 2
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "ciiguard.toml: module_sources." in lines[0] and message in lines[0]


def test_the_mapping_is_part_of_what_a_cached_result_depends_on(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(PT / "vendored", repo)
    env = clean_env(CIIGUARD_CACHE_DIR=str(tmp_path / "cache"))
    first = run_cli("scan", str(repo), "--format", "json", env=env).json
    (repo / "ciiguard.toml").write_text("")
    second = run_cli("scan", str(repo), "--format", "json", env=env).json
    assert json.dumps(first["violations"]) != json.dumps(second["violations"])
    # unmapped: both calls are CII003, and vendor/net is a root module of its own
    assert sorted(v["resource"] for v in second["violations"]) == [
        "aws_s3_bucket.flow_logs",
        "module.net",
        "module.unmapped",
    ]


# -- nullable = false ---------------------------------------------------------------------------


def test_a_null_for_a_non_nullable_variable_is_its_default() -> None:
    """``region = null`` in a module call, for a variable declared ``nullable = false``, is its
    default (Terraform's rule), not null: the bucket is in cn-north-1, and a for_each over such
    a variable given null iterates its default (no instances) instead of failing the scan."""
    outcome = scan_path(PT / "nullable", check=False, use_cache=False)
    assert outcome.issues == [] and outcome.exit_code == 0
    assert regions(outcome) == {"module.db.aws_s3_bucket.orders": "cn-north-1"}
    (bucket,) = outcome.resources
    hops = [h.what for h in bucket.region.provenance]
    assert "module.db.var.region (null given; nullable = false takes the default)" in hops


@pytest.mark.slow
def test_nullable_matches_terraform(terraform: Terraform, tmp_path: Path) -> None:  # noqa: F811
    work = tmp_path / "nullable"
    shutil.copytree(PT / "nullable", work)
    (work / "mod" / "aws.tf").unlink()  # the provider: terraform plans the rest offline
    terraform.init(work)
    plan = terraform.plan_json(work)
    root, _ = ciiguard_root(work)
    outputs = plan["planned_values"]["outputs"]
    assert {k: v["value"] for k, v in outputs.items()} == {
        "region": "cn-north-1",
        "diag_settings": {},
        "label": "(null)",  # nullable (the default): the null stays
        "home": "cn-northwest-1",  # a root variable set to null in terraform.tfvars
    }
    for name, v in outputs.items():
        same(v["value"], root.output(name), f"output {name}")


def test_a_null_for_a_non_nullable_variable_without_a_default_is_never_decided(
    tmp_path: Path,
) -> None:
    """Terraform stops ("required variable may not be set to null"): no region is decided."""
    shutil.copytree(PT / "nullable", tmp_path / "w")
    mod = tmp_path / "w" / "mod" / "main.tf"
    mod.write_text(mod.read_text().replace('  default  = "cn-north-1"\n', "", 1))
    outcome = scan_path(tmp_path / "w", check=False, use_cache=False)
    assert regions(outcome) == {"module.db.aws_s3_bucket.orders": None}
    assert [v.policy for v in outcome.violations] == ["CII003"]
    assert "nullable = false" in outcome.violations[0].message


def _plan_passing_null(tmp_path: Path) -> tuple[Path, Path]:
    """modules.json with the store module's region given null, and a default; and its source
    with that variable declared nullable = false."""
    plan = json.loads((FIXTURES / "plan" / "modules.json").read_text())
    call = plan["configuration"]["root_module"]["module_calls"]["store"]
    call["expressions"]["region"] = {"constant_value": None}
    call["module"]["variables"]["region"]["default"] = "cn-north-1"
    # the root provider's var.home_region: given null (as the plan records a tfvars null)
    plan["variables"]["home_region"]["value"] = None
    plan["configuration"]["root_module"].setdefault("variables", {})["home_region"] = {
        "default": "cn-northwest-1"
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    src = tmp_path / "src"
    shutil.copytree(FIXTURES / "plan" / "modules-source", src)
    root = src / "main.tf"
    home = 'variable "home_region" {\n  default = "cn-north-1"\n}\n'
    assert home in root.read_text()
    root.write_text(
        root.read_text().replace(
            home, 'variable "home_region" {\n  default  = "cn-northwest-1"\n  nullable = false\n}\n'
        )
    )
    store = src / "store" / "main.tf"
    declared = 'variable "region" {\n  description = "where the store lives"\n}\n'
    assert declared in store.read_text()
    store.write_text(
        store.read_text().replace(
            declared,
            'variable "region" {\n  description = "where the store lives"\n'
            '  default     = "cn-north-1"\n  nullable    = false\n}\n',
        )
    )
    return path, src


STORE, LOGS = "module.store.aws_s3_bucket.data", "aws_s3_bucket.logs[0]"


def test_a_plan_without_its_source_cannot_tell_a_null_from_the_default(tmp_path: Path) -> None:
    """The configuration JSON does not record ``nullable``: a null given to a variable with a
    default (by a module call, or to a root variable, which the plan records as given) may be
    either, so the region is unknown and says why; with --source it is decided."""
    plan, src = _plan_passing_null(tmp_path)
    outcome = scan_path(plan, check=False, use_cache=False)
    assert {a: r for a, r in regions(outcome).items() if a in (STORE, LOGS)} == {
        STORE: None,
        LOGS: None,
    }
    for address in (STORE, LOGS):
        (why,) = [v.message for v in outcome.violations if v.resource == address]
        assert "given null and has a default" in why and "--source DIR" in why, why
    outcome = scan_path(plan, check=False, use_cache=False, source_dir=str(src))
    assert regions(outcome)[STORE] == "cn-north-1"
    assert regions(outcome)[LOGS] == "cn-northwest-1"
    # declared nullable (no nullable = false): the null stays null, as Terraform keeps it
    for main in (src / "main.tf", src / "store" / "main.tf"):
        text = main.read_text()
        main.write_text(
            text.replace("  nullable    = false\n", "").replace("  nullable = false\n", "")
        )
    outcome = scan_path(plan, check=False, use_cache=False, source_dir=str(src))
    assert (regions(outcome)[STORE], regions(outcome)[LOGS]) == (None, None)


def test_a_region_looked_up_among_apply_time_settings_is_known(tmp_path: Path) -> None:
    """``lookup(local.settings, "region", null)`` where another setting is an apply-time id:
    the keys are known, so Terraform knows the region (tests/fixtures/differential/
    lookup-unknowns holds the evaluator to it). It was unknown, so the bucket was CII003."""
    (tmp_path / "main.tf").write_text(
        """
resource "aws_kms_key" "k" {}
locals {
  settings = { kms_key_id = aws_kms_key.k.arn, region = "ap-east-1" }
}
provider "aws" {
  region = coalesce(lookup(local.settings, "location", null), lookup(local.settings, "region", null))
}
resource "aws_s3_bucket" "b" {
  bucket = "orders"
  tags   = { data-classification = "personal" }
}
"""
    )
    outcome = scan_path(tmp_path, check=False)
    assert regions(outcome)["aws_s3_bucket.b"] == "ap-east-1"
    assert [v.policy for v in outcome.violations] == ["CII001"]
