"""examples/policy-plugin as its users get it: its own tests pass, and once pip-installed into a
fresh environment it is discovered by entry point, listed, run, described in SARIF and can be
turned off from the command line and from the config file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, FIXTURES, ROOT, Run, clean_env, run_cli

PLUGIN = EXAMPLES / "policy-plugin"
WORKLOAD = FIXTURES / "plugins" / "cn-kms-workload"
ENTRY_POINT = "cn-kms"
MODULE = "ciiguard_cn_kms.plugin"


def source_env(**extra: str) -> dict[str, str]:
    """The plugin importable from its source tree, no entry-point plugins."""
    env = clean_env(CIIGUARD_DISABLE_PLUGIN_AUTOLOAD="1", **extra)
    env["PYTHONPATH"] = str(PLUGIN / "src")
    return env


def cnkms(report: dict) -> list[str]:
    return [v["resource"] for v in report["violations"] if v["policy"] == "CNKMS001"]


def test_the_example_plugins_own_tests_pass() -> None:
    env = {k: v for k, v in source_env().items() if not k.startswith("PYTEST_")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=PLUGIN,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed" in proc.stdout and "skipped" not in proc.stdout


def test_the_example_loaded_with_p_reports_cnkms001() -> None:
    run = run_cli("scan", str(WORKLOAD), "-p", MODULE, "--format", "json", env=source_env())
    assert run.code == 1, run.stderr
    assert cnkms(run.json) == ["aws_db_instance.customers"]
    assert {v["policy"] for v in run.json["violations"]} == {"CNKMS001"}
    without = run_cli("scan", str(WORKLOAD), "--format", "json", env=source_env())
    assert without.code == 0 and without.json["violations"] == []


def test_the_example_is_packaged_with_a_ciiguard_entry_point() -> None:
    text = (PLUGIN / "pyproject.toml").read_text()
    assert f'[project.entry-points.ciiguard]\n{ENTRY_POINT} = "{MODULE}"' in text
    assert (PLUGIN / "src" / "ciiguard_cn_kms" / "encryption.json").is_file()


def sarif_supported(run: Run) -> bool:
    return not (run.code == 2 and "unknown --format" in run.stderr)


# --- a fresh environment, as a user installs it (slow: a venv and two pip installs) -------------


@dataclass
class FreshEnv:
    bin: Path
    home: Path

    def ciiguard(self, *args: str, cwd: Path | None = None, **env: str) -> Run:
        base = clean_env(**env)
        for k in (
            "PYTHONPATH",
            "VIRTUAL_ENV",
            "CIIGUARD_DISABLE_PLUGIN_AUTOLOAD",
            "CIIGUARD_DEBUG",
        ):
            if k not in env:
                base.pop(k, None)
        proc = subprocess.run(
            [str(self.bin / "ciiguard"), *args],
            capture_output=True,
            text=True,
            env=base,
            cwd=cwd or self.home,
            timeout=300,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)


def _copy_tree(src: Path, dest: Path, *names: str) -> Path:
    """Build from a clean copy, so the install sees only tracked-looking sources and writes no
    build/ or *.egg-info into the working tree."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", ".pytest_cache")
    dest.mkdir(parents=True)
    for name in names:
        s = src / name
        if s.is_dir():
            shutil.copytree(s, dest / name, ignore=ignore)
        else:
            shutil.copy2(s, dest / name)
    return dest


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreshEnv]:
    home = tmp_path_factory.mktemp("fresh-env")
    main = _copy_tree(ROOT, home / "src" / "ciiguard", "pyproject.toml", "README.md", "ciiguard")
    plugin = _copy_tree(PLUGIN, home / "src" / "policy-plugin", "pyproject.toml", "README.md", "src", "tests")  # fmt: skip
    env_dir = home / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False, clear=True).create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    pip = [str(bindir / "python"), "-m", "pip", "install", "-q", "--no-compile"]
    pip_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    pip_env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"

    def install(*args: str) -> None:
        proc = subprocess.run(
            [*pip, *args], capture_output=True, text=True, env=pip_env, timeout=900
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr

    # build requirements once, then no per-project isolated build environments; the plugin
    # resolves its `ciiguard` dependency to the local project in the same install
    install("setuptools>=68", "wheel")
    install("--no-build-isolation", str(main), str(plugin), "pytest")
    yield FreshEnv(bindir, home)


@pytest.mark.slow
def test_fresh_env_discovers_the_plugin_by_entry_point(fresh: FreshEnv) -> None:
    run = fresh.ciiguard("plugins")
    assert run.code == 0, run.stderr
    (line,) = [x for x in run.stdout.splitlines() if x.startswith(ENTRY_POINT + " ")]
    assert "0.1.0" in line and "entry point" in line and "CNKMS001" in line
    policies = fresh.ciiguard("policies")
    assert (
        policies.code == 0
        and "CNKMS001" in policies.stdout
        and f"[{ENTRY_POINT}]" in policies.stdout
    )
    blocked = fresh.ciiguard("plugins", CIIGUARD_DISABLE_PLUGIN_AUTOLOAD="1")
    assert blocked.code == 0 and ENTRY_POINT not in blocked.stdout


@pytest.mark.slow
def test_fresh_env_runs_the_plugin_and_disable_plugin_turns_it_off(fresh: FreshEnv) -> None:
    run = fresh.ciiguard("scan", str(WORKLOAD), "--format", "json")
    assert run.code == 1, run.stderr
    assert cnkms(run.json) == ["aws_db_instance.customers"]
    off = fresh.ciiguard("scan", str(WORKLOAD), "--format", "json", "--disable-plugin", ENTRY_POINT)
    assert off.code == 0, off.stderr
    assert cnkms(off.json) == []
    listed = fresh.ciiguard("plugins", "--disable-plugin", ENTRY_POINT)
    assert ENTRY_POINT not in listed.stdout


@pytest.mark.slow
def test_fresh_env_sarif_describes_the_plugin_policy(fresh: FreshEnv) -> None:
    run = fresh.ciiguard("scan", str(WORKLOAD), "--format", "sarif")
    if not sarif_supported(run):
        pytest.skip("the SARIF reporter (issue 7) has not landed: --format sarif is unknown")
    assert run.code == 1, run.stderr
    sarif = json.loads(run.stdout)
    rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert "CNKMS001" in rules and {"CII001", "CII002", "CII003"} <= set(rules)
    assert "customer-managed" in json.dumps(rules["CNKMS001"])
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["CNKMS001"]


@pytest.mark.slow
def test_fresh_env_config_file_disables_the_plugin(fresh: FreshEnv, tmp_path: Path) -> None:
    help_text = fresh.ciiguard("scan", "--help").stdout
    if "--config" not in help_text:
        pytest.skip("config file support (issue 7) has not landed: scan has no --config")
    work = tmp_path / "infra"
    shutil.copytree(WORKLOAD, work)
    assert cnkms(fresh.ciiguard("scan", str(work), "--format", "json").json)  # found upward
    (work / "ciiguard.toml").write_text(f'disable_plugins = ["{ENTRY_POINT}"]\n')
    run = fresh.ciiguard("scan", str(work), "--format", "json")
    assert run.code == 0, run.stderr
    assert cnkms(run.json) == []
    (work / "ciiguard.toml").unlink()
    (work / "pyproject.toml").write_text(f'[tool.ciiguard]\ndisable_plugins = ["{ENTRY_POINT}"]\n')
    assert cnkms(fresh.ciiguard("scan", str(work), "--format", "json").json) == []


@pytest.mark.slow
def test_fresh_env_runs_the_plugins_tests_against_the_installed_plugin(fresh: FreshEnv) -> None:
    tests = fresh.home / "src" / "policy-plugin"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env = {k: v for k, v in env.items() if not k.startswith(("PYTEST_", "CIIGUARD_"))}
    proc = subprocess.run(
        [str(fresh.bin / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tests,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed" in proc.stdout
    # the plugin was imported from the installed distribution, not the copied source tree
    where = subprocess.run(
        [
            str(fresh.bin / "python"),
            "-c",
            "import ciiguard_cn_kms; print(ciiguard_cn_kms.__file__)",
        ],
        cwd=fresh.home,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "site-packages" in where.stdout
