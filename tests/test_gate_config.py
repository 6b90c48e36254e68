"""The config file: discovery, every setting it carries, and one-line errors naming file and key."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, Run, clean_env, run_cli

GATE = FIXTURES / "gate"
PLUGIN_DIR = GATE / "plugin"

OUTSIDE_TF = (
    'provider "aws" {\n  region = "us-east-1"\n}\n\n'
    'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n'
    '  tags   = { "data-classification" = "personal" }\n}\n'
)


def scan(path: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return run_cli("scan", str(path), "--no-cache", *args, env=env, cwd=cwd)


def run_in_process(*args: str, cwd: Path) -> Run:
    """``ciiguard.cli.app.main`` in this process: for the many usage-error cases that stop before
    any input is read (each subprocess would pay the start-up cost again)."""
    from ciiguard.cli.app import main

    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    os.chdir(cwd)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse errors
                code = int(exc.code or 0)
    finally:
        os.chdir(old)
    return Run(code, out.getvalue(), err.getvalue())


def project(tmp_path: Path, toml: str, name: str = "ciiguard.toml", tf: str = OUTSIDE_TF) -> Path:
    (tmp_path / "infra").mkdir(exist_ok=True)
    (tmp_path / "infra" / "main.tf").write_text(tf)
    (tmp_path / name).write_text(toml)
    return tmp_path / "infra"


def assert_config_error(run, *parts: str) -> None:
    assert run.code == 2, (run.stdout, run.stderr)
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr  # one line, never a traceback
    assert lines[0].startswith("ciiguard: error: ")
    for part in parts:
        assert part in lines[0], lines[0]


# -- allowed regions narrower than the mainland ---------------------------------------------------
def test_allowed_regions_found_upward_make_other_mainland_regions_cii001() -> None:
    run = scan(GATE / "allowed", "--format", "json")
    assert run.code == 1, run.stderr
    (v,) = run.json["violations"]
    assert (v["policy"], v["resource"], v["region"]) == (
        "CII001",
        "aws_s3_bucket.ningxia",
        "cn-northwest-1",
    )
    assert "in mainland China but not in the allowed regions (cn-north-1)" in v["message"]
    assert "cn-north-1" in v["fix"]
    assert run.json["gate"]["config"].endswith("gate/allowed/ciiguard.toml")


def test_allowed_regions_as_a_list_in_pyproject(tmp_path: Path) -> None:
    tf = (GATE / "allowed" / "main.tf").read_text()
    infra = project(
        tmp_path,
        '[project]\nname = "x"\n\n[tool.ciiguard]\nallowed_regions = ["cn-northwest-1"]\n',
        "pyproject.toml",
        tf,
    )
    run = scan(infra, "--format", "json")
    assert run.code == 1
    assert [v["resource"] for v in run.json["violations"]] == ["aws_s3_bucket.beijing"]


def test_no_config_and_explicit_config(tmp_path: Path) -> None:
    run = scan(GATE / "allowed", "--no-config")
    assert run.code == 0, run.stdout
    other = tmp_path / "strict.toml"
    other.write_text('allowed_regions = ["cn-northwest-1"]\n')
    run = scan(GATE / "allowed", "--config", str(other), "--format", "json")
    assert [v["resource"] for v in run.json["violations"]] == ["aws_s3_bucket.beijing"]


def test_a_pyproject_without_our_section_is_skipped_on_the_way_up(tmp_path: Path) -> None:
    (tmp_path / "ciiguard.toml").write_text('[enforcement]\nCII001 = "advisory"\n')
    sub = tmp_path / "svc"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[project]\nname = "svc"\n')
    (sub / "main.tf").write_text(OUTSIDE_TF)
    run = scan(sub, "--format", "json")
    assert run.code == 0  # CII001 advisory from the ciiguard.toml above
    assert run.json["violations"][0]["enforcement"] == "advisory"


# -- classification, workload switch, enforcement ------------------------------------------------
def test_classification_keys_and_values(tmp_path: Path) -> None:
    tf = (
        'provider "aws" {\n  region = "us-east-1"\n}\n'
        'resource "aws_s3_bucket" "pii" {\n  tags = { "DataClass" = "PII" }\n}\n'
        'resource "aws_s3_bucket" "open" {\n  tags = { "DataClass" = "open-data" }\n}\n'
        'resource "aws_s3_bucket" "old_key" {\n  tags = { "data-classification" = "personal" }\n}\n'
    )
    infra = project(
        tmp_path,
        '[classification]\nkey = "DataClass"\nin_scope = ["pii"]\nout_of_scope = ["open-data"]\n',
        tf=tf,
    )
    run = scan(infra, "--format", "json")
    assert run.code == 1
    assert [v["resource"] for v in run.json["violations"]] == ["aws_s3_bucket.pii"]


def test_cii_workload_switch(tmp_path: Path) -> None:
    tf = 'provider "aws" {\n  region = "us-east-1"\n}\nresource "aws_s3_bucket" "untagged" {}\n'
    infra = project(tmp_path, "cii_workload = false\n", tf=tf)
    assert scan(infra).code == 0
    (tmp_path / "ciiguard.toml").write_text("cii_workload = true\n")
    run = scan(infra, "--format", "json")
    assert run.code == 1 and run.json["violations"][0]["resource"] == "aws_s3_bucket.untagged"


@pytest.mark.parametrize(
    ("level", "fail_on", "code", "present"),
    [
        ("mandatory", None, 1, True),
        ("advisory", None, 0, True),
        ("advisory", "advisory", 1, True),
        ("disabled", "advisory", 0, False),
    ],
)
def test_enforcement_per_policy(tmp_path: Path, level, fail_on, code, present) -> None:
    toml = (f'fail_on = "{fail_on}"\n' if fail_on else "") + f'[enforcement]\nCII001 = "{level}"\n'
    infra = project(tmp_path, toml)
    run = scan(infra, "--format", "json")
    assert run.code == code
    assert bool(run.json["violations"]) is present
    if present:
        assert run.json["violations"][0]["enforcement"] == level


def test_policies_command_shows_the_configured_enforcement(tmp_path: Path) -> None:
    (tmp_path / "ciiguard.toml").write_text('[enforcement]\nCII003 = "advisory"\n')
    run = run_cli("policies", cwd=tmp_path)
    assert run.code == 0, run.stderr
    line = next(x for x in run.stdout.splitlines() if x.startswith("CII003"))
    assert line.split()[2] == "advisory"
    assert next(x for x in run.stdout.splitlines() if x.startswith("CII001")).split()[2] == (
        "mandatory"
    )


# -- plugins from the config ---------------------------------------------------------------------
def test_plugins_to_load_and_disable_plugins(tmp_path: Path) -> None:
    env = clean_env(PYTHONPATH=str(PLUGIN_DIR))
    infra = project(tmp_path, "")
    # the entry-point plugin is loaded by default ...
    run = run_cli("policies", env=env, cwd=tmp_path)
    assert "ACME001" in run.stdout
    # ... disable_plugins in the config disables it by its entry-point name
    (tmp_path / "ciiguard.toml").write_text('disable_plugins = ["acme"]\n')
    run = run_cli("policies", env=env, cwd=tmp_path)
    assert run.code == 0 and "ACME001" not in run.stdout
    run = scan(infra, "--format", "json", env=env)
    assert {v["policy"] for v in run.json["violations"]} == {"CII001"}
    # plugins = [...] in a file of the scanned tree never makes ciiguard import a module ...
    (tmp_path / "ciiguard.toml").write_text('plugins = ["gate_fixture_plugin"]\n')
    env_no_auto = clean_env(PYTHONPATH=str(PLUGIN_DIR), CIIGUARD_DISABLE_PLUGIN_AUTOLOAD="1")
    run = scan(infra, "--format", "json", env=env_no_auto)
    assert {v["policy"] for v in run.json["violations"]} == {"CII001"}
    assert any("plugins = ['gate_fixture_plugin']" in w["message"] and "ignored" in w["message"]
               for w in run.json["warnings"])  # fmt: skip
    # ... the pipeline's own --policy-config loads it by import path
    policy = tmp_path.parent / f"{tmp_path.name}-policy.toml"
    policy.write_text('plugins = ["gate_fixture_plugin"]\n')
    (tmp_path / "ciiguard.toml").unlink()
    run = scan(infra, "--format", "json", "--policy-config", str(policy), env=env_no_auto)
    assert {v["policy"] for v in run.json["violations"]} == {"CII001", "ACME001"}
    assert run.code == 1


# -- exemptions ----------------------------------------------------------------------------------
def test_exemptions_with_expiry(tmp_path: Path) -> None:
    today = dt.date.today()
    future, soon, past = (
        today + dt.timedelta(days=300),
        today + dt.timedelta(days=10),
        today - dt.timedelta(days=3),
    )
    tf = 'provider "aws" {\n  region = "us-east-1"\n}\n' + "".join(
        f'resource "aws_s3_bucket" "{n}" {{\n  tags = {{ "data-classification" = "personal" }}\n}}\n'
        for n in ("legacy_a", "legacy_b", "soon", "lapsed")
    )
    toml = (
        "[[exemptions]]\n"
        'resource = "aws_s3_bucket.legacy_*"\npolicy = "CII001"\n'
        f'reason = "decommissioned in Q3, ticket OPS-9"\nexpires = {future.isoformat()}\n\n'
        "[[exemptions]]\n"
        f'resource = "aws_s3_bucket.soon"\npolicy = "*"\nreason = "vendor migration"\nexpires = "{soon.isoformat()}"\n\n'
        "[[exemptions]]\n"
        f'resource = "aws_s3_bucket.lapsed"\npolicy = "CII001"\nreason = "old"\nexpires = {past.isoformat()}\n'
    )
    infra = project(tmp_path, toml, tf=tf)
    run = scan(infra, "--format", "json")
    assert run.code == 1
    by = {v["resource"]: v for v in run.json["violations"]}
    for name in ("legacy_a", "legacy_b", "soon"):
        v = by[f"aws_s3_bucket.{name}"]
        assert v["status"] == "exempted" and v["suppressed"] is True and v["blocking"] is False
        assert "ciiguard.toml exemptions[" in v["suppression_source"]
    assert (
        by["aws_s3_bucket.legacy_a"]["suppression_reason"] == "decommissioned in Q3, ticket OPS-9"
    )
    assert by["aws_s3_bucket.lapsed"]["status"] == "violation"
    assert by["aws_s3_bucket.lapsed"]["blocking"] is True
    messages = [w["message"] for w in run.json["warnings"]]
    assert any("exemptions[2]" in m and f"expired on {past.isoformat()}" in m for m in messages)
    assert any("exemptions[1]" in m and "in 10 days" in m for m in messages)


# -- errors: exit 2, one line, file and key named -----------------------------------------------
@pytest.mark.parametrize(
    ("toml", "parts"),
    [
        ("colour = true\n", ("ciiguard.toml: colour: unknown key",)),
        ("alowed_regions = []\n", ("alowed_regions", "did you mean 'allowed_regions'?")),
        ('[classification]\nkeys = "x"\n', ("ciiguard.toml: classification.keys: unknown key",)),
        ('cii_workload = "yes"\n', ("cii_workload: expected true or false",)),
        ('fail_on = "everything"\n', ("fail_on: expected one of mandatory, advisory",)),
        (
            '[enforcement]\nCII001 = "warn"\n',
            ("enforcement.CII001", "mandatory, advisory, disabled"),
        ),
        ('[enforcement]\nCII009 = "advisory"\n', ("enforcement.CII009", "unknown policy 'CII009'")),
        (
            '[allowed_regions]\naws = ["us-east-1"]\n',
            ("allowed_regions.aws", "'us-east-1' is not a mainland-China region"),
        ),
        (
            '[allowed_regions]\nawz = ["cn-north-1"]\n',
            ("allowed_regions.awz", "unknown provider 'awz'"),
        ),
        ("allowed_regions = []\n", ("allowed_regions", "would allow no region")),
        ('plugins = "acme"\n', ("plugins: expected a list of strings",)),
        (
            '[[exemptions]]\nresource = "a.b"\npolicy = "CII001"\nreason = "r"\n',
            ("exemptions[0].expires: missing",),
        ),
        (
            '[[exemptions]]\nresource = "a.b"\npolicy = "CII001"\nreason = ""\nexpires = 2030-01-01\n',
            ("exemptions[0].reason: expected a non-empty string",),
        ),
        (
            '[[exemptions]]\nresource = "a.b"\npolicy = "CII001"\nreason = "r"\nexpires = "soon"\n',
            ("exemptions[0].expires: expected a date",),
        ),
        ("[approval]\nwarn_days = -1\n", ("approval.warn_days",)),
        ("cii_workload = true\n[enforcement\n", ("ciiguard.toml:2: invalid TOML",)),
    ],
)
def test_bad_config_is_a_one_line_error_naming_file_and_key(tmp_path: Path, toml, parts) -> None:
    infra = project(tmp_path, toml)
    assert_config_error(run_in_process("scan", infra.name, cwd=tmp_path), *parts)


def test_bad_config_through_the_installed_command(tmp_path: Path) -> None:
    infra = project(tmp_path, '[enforcement]\nCII009 = "advisory"\n')
    assert_config_error(scan(infra), "ciiguard.toml: enforcement.CII009: unknown policy 'CII009'")


def test_pyproject_keys_are_named_with_their_table(tmp_path: Path) -> None:
    infra = project(tmp_path, '[tool.ciiguard]\nfail_on = "sometimes"\n', "pyproject.toml")
    assert_config_error(scan(infra), "pyproject.toml: tool.ciiguard.fail_on: expected one of")


def test_broken_pyproject_with_our_section_is_an_error(tmp_path: Path) -> None:
    infra = project(tmp_path, '[tool.ciiguard]\nfail_on = "mandatory\n', "pyproject.toml")
    assert_config_error(scan(infra), "pyproject.toml:2: invalid TOML")


def test_missing_config_file_and_config_errors_in_other_commands(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.toml")
    assert_config_error(
        run_in_process("scan", str(GATE / "allowed"), "--config", missing, cwd=tmp_path),
        "nope.toml",
    )
    (tmp_path / "ciiguard.toml").write_text("colour = 1\n")
    for command in (["policies"], ["plugins"], ["explain", "CII001"]):
        assert_config_error(run_in_process(*command, cwd=tmp_path), "colour: unknown key")
    assert_config_error(run_cli("policies", cwd=tmp_path), "colour: unknown key")


def test_config_in_a_copied_tree_is_relative_to_that_tree(tmp_path: Path) -> None:
    shutil.copytree(GATE / "allowed", tmp_path / "allowed")
    run = scan(Path("allowed"), "--format", "json", cwd=tmp_path)
    assert run.code == 1
    assert run.json["gate"]["config"] == "allowed/ciiguard.toml"
