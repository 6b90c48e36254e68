"""The change under review cannot switch the gate off, nor run code in the CI job.

``tests/fixtures/hostile-pr`` is a pull request that stores personal data in Hong Kong and tries
every relaxation: a ``ciiguard.toml`` with soft fail, ``fail_on``, disabled and advisory
enforcement, an exemption for everything, its own baseline, plugins to import, a plugin to turn
off, another classification and approval key, a wider region list, a subdirectory config that
wins today, an inline suppression and a fake approval; a plugin module, a module named like the
standard library's ``json`` and a ``*.dist-info`` declaring a ``ciiguard`` entry point, each
writing a marker file if imported; and resources with hostile names. Run with the pipeline's
``--policy-config``, as ``ciiguard`` and as ``python -m ciiguard``, it must exit 1 with every
relaxation reported and no marker; without it, every relaxation is a warning.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, Run, ciiguard_exe, clean_env

HOSTILE = FIXTURES / "hostile-pr"
POLICY = """\
fail_on = "advisory"
suppressions = "forbid"
allowed_regions = ["cn-north-1"]

[approval]
reference_pattern = "CAC-SA-[0-9]{4}-[0-9]{4}"
max_valid_days = 1095
"""
# (key as reported, words of its effect) for each relaxation the fixture attempts
RELAXATIONS = {
    ("ciiguard.toml", "soft_fail"): "exit 0",
    ("ciiguard.toml", "fail_on"): "let advisory findings pass",
    ("ciiguard.toml", "baseline"): "accept every finding listed",
    ("ciiguard.toml", "plugins"): "import and run these modules",
    ("ciiguard.toml", "disable_plugins"): "switch off installed plugins",
    ("ciiguard.toml", "allowed_regions"): "allow data in cn-northwest-1",
    ("ciiguard.toml", "classification.key"): "read the classification from another tag",
    ("ciiguard.toml", "classification.out_of_scope"): "take resources tagged restricted out",
    ("ciiguard.toml", "approval.key"): "accept cross-border approvals recorded under another tag",
    ("ciiguard.toml", "enforcement.CII001"): "switch CII001 off",
    ("ciiguard.toml", "enforcement.CII002"): "make CII002 advisory",
    ("ciiguard.toml", "enforcement.CII004"): "switch CII004 off",
    ("ciiguard.toml", "exemptions[0]"): "waive * findings on * until 9999-12-31",
    ("infra/ciiguard.toml", "soft_fail"): "exit 0",
    ("infra/ciiguard.toml", "enforcement.CII003"): "switch CII003 off",
}
MARKERS = ("MARKER-evil-imported", "MARKER-json-shadowed")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    work = tmp_path / "repo"
    shutil.copytree(HOSTILE, work)
    subprocess.run(["git", "init", "-q", str(work)], check=False, capture_output=True)
    (tmp_path / "policy.toml").write_text(POLICY)
    return work


def run(command: list[str], repo: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    proc = subprocess.run(
        [*command, "scan", ".", "--no-cache", *args],
        cwd=repo,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


COMMANDS = {
    "console-script": ciiguard_exe,
    "python-m": lambda: [sys.executable, "-m", "ciiguard"],
}


def assert_no_marker(repo: Path) -> None:
    for marker in MARKERS:
        assert not (repo / marker).exists(), f"{marker}: code from the tree ran"


@pytest.mark.parametrize("how", sorted(COMMANDS))
def test_with_the_policy_config_every_relaxation_blocks_and_nothing_runs(repo: Path, how) -> None:
    out = repo.parent / "report.json"
    result = run(
        COMMANDS[how](), repo, "--policy-config", "../policy.toml",
        "--format", "text", "--format", f"json:{out}",
    )  # fmt: skip
    assert result.code == 1, result.stdout + result.stderr
    assert_no_marker(repo)
    report = json.loads(out.read_text())
    found = {
        (v["file"], v["resource"]): v["message"]
        for v in report["violations"]
        if v["policy"] == "CII004"
    }
    for (file, key), effect in RELAXATIONS.items():
        assert (file, key) in found, (file, key, sorted(found))
        assert effect in found[(file, key)], found[(file, key)]
        assert f"{key} = " in found[(file, key)] and f"in {file}" in found[(file, key)]
    lines = {(v["file"], v["resource"]): v["line"] for v in report["violations"]}
    assert lines[("ciiguard.toml", "soft_fail")] == 2
    assert lines[("infra/ciiguard.toml", "enforcement.CII003")] == 5
    # the suppression is forbidden, the approval does not count, the data abroad still blocks
    assert ("infra/main.tf", "aws_s3_bucket.exports") in found
    blocking = {(v["policy"], v["resource"]) for v in report["violations"] if v["blocking"]}
    assert ("CII001", "aws_s3_bucket.exports") in blocking
    assert ("CII002", "aws_dynamodb_table.orders") in blocking
    orders = next(v for v in report["violations"] if v["policy"] == "CII002")
    assert "does not match the pipeline's pattern" in orders["approval_problem"]
    assert report["gate"]["policy_config"] == "../policy.toml"
    assert sorted(report["gate"]["repository_configs"]) == ["ciiguard.toml", "infra/ciiguard.toml"]
    assert [p["name"] for p in report["plugins"]] == ["builtin"]  # evil never loaded
    kinds = sorted((w["kind"], w["resource"]) for w in report["waivers"])
    assert kinds == [
        ("approval", "aws_dynamodb_table.orders"),
        ("suppression", "aws_s3_bucket.exports"),
    ]
    # the hostile names are in the text log, neutralised
    assert "\x1b" not in result.stdout and "\r" not in result.stdout
    assert not any(line.lstrip().startswith("::") for line in result.stdout.splitlines())
    assert 'aws_s3_bucket.named["\\x1b[2J"]' in result.stdout


def test_the_environment_variable_is_the_policy_config_too(repo: Path) -> None:
    env = clean_env(CIIGUARD_POLICY_CONFIG=str(repo.parent / "policy.toml"))
    result = run(ciiguard_exe(), repo, "--format", "json", env=env)
    assert result.code == 1
    assert sum(v["policy"] == "CII004" for v in result.json["violations"]) == len(RELAXATIONS) + 1
    assert_no_marker(repo)


@pytest.mark.parametrize("how", sorted(COMMANDS))
def test_without_it_every_relaxation_is_a_warning(repo: Path, how) -> None:
    result = run(COMMANDS[how](), repo, "--format", "json")
    assert_no_marker(repo)
    report = result.json
    assert not any(v["policy"] == "CII004" for v in report["violations"])
    warned = {(w["file"], w["message"].split(" = ")[0]) for w in report["warnings"]}
    # the nearest file applies; against the defaults, its fail_on and region list do not relax
    root = {k for k in RELAXATIONS if k[0] == "ciiguard.toml"} - {
        ("ciiguard.toml", "fail_on"),
        ("ciiguard.toml", "allowed_regions"),
    }
    assert root <= warned, sorted(root - warned)
    plugins = next(w for w in report["warnings"] if w["message"].startswith("plugins = "))
    assert (
        "ignored: ciiguard imports plugins only from installed distributions" in plugins["message"]
    )
    # as before: the file applies (it even takes everything out of scope), and says so
    assert result.code == 0 and report["summary"]["violations"] == 0


def test_a_subdirectory_config_can_only_tighten(repo: Path) -> None:
    """Scanning infra/ alone: its own config is the nearest, and still cannot win."""
    (repo / "infra" / "ciiguard.toml").write_text('soft_fail = true\nfail_on = "advisory"\n')
    (repo / "ciiguard.toml").unlink()
    proc = subprocess.run(
        [*ciiguard_exe(), "scan", "infra", "--no-cache", "--format", "json",
         "--policy-config", str(repo.parent / "policy.toml")],
        cwd=repo, env=clean_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    relaxed = [v["resource"] for v in report["violations"] if v["policy"] == "CII004"]
    assert "soft_fail" in relaxed and "fail_on" not in relaxed  # advisory tightens: accepted
    assert report["gate"]["fail_on"] == "advisory"


def test_a_pythonpath_into_the_tree_imports_nothing_from_it(repo: Path, tmp_path: Path) -> None:
    """A CI job whose PYTHONPATH points at the checkout: the tree's dist-info, plugin and
    stdlib-named module are still never imported (the entry is taken off sys.path, and said so)."""
    env = clean_env(PYTHONPATH=str(repo))
    proc = subprocess.run(
        [*ciiguard_exe(), "scan", str(repo), "--no-cache", "--format", "json",
         "--policy-config", str(tmp_path / "policy.toml"), "-p", "evil"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert_no_marker(repo)
    assert proc.returncode == 2  # -p evil cannot be imported: incomplete, never a pass
    assert "lies inside the scanned tree" in proc.stderr
    assert "plugin 'evil' failed in import" in proc.stdout


def test_an_entry_point_whose_code_lives_in_the_tree_is_refused(repo: Path, tmp_path: Path) -> None:
    """An installed distribution (outside the tree) whose module is the tree's own code, as an
    editable install of the checkout would be: refused by name, exit 2, not imported."""
    site = tmp_path / "site"
    (site / "evil-1.0.dist-info").mkdir(parents=True)
    shutil.copy(repo / "evil-1.0.dist-info" / "METADATA", site / "evil-1.0.dist-info")
    shutil.copy(repo / "evil-1.0.dist-info" / "entry_points.txt", site / "evil-1.0.dist-info")
    (site / "evil.py").symlink_to(repo / "evil.py")
    env = clean_env(PYTHONPATH=str(site))
    env.pop("CIIGUARD_DISABLE_PLUGIN_AUTOLOAD", None)
    proc = subprocess.run(
        [*ciiguard_exe(), "scan", str(repo), "--no-cache", "--no-config"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert_no_marker(repo)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "plugin 'evil' failed in entry point: refused: its code" in proc.stdout
    assert os.path.islink(site / "evil.py")
