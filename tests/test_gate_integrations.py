"""The ready integrations: the pre-commit hook definition and the CI examples actually work."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLES, FIXTURES, ROOT, clean_env, run_cli

HOOKS = ROOT / ".pre-commit-hooks.yaml"
CI = EXAMPLES / "ci"


def ciiguard_commands(text: str) -> list[list[str]]:
    """Every ``ciiguard scan ...`` command line in a CI file (folded scalars already joined)."""
    out = []
    for value in _strings(yaml.safe_load(text)):
        for line in value.splitlines():
            line = line.strip()
            if line.startswith("ciiguard scan"):
                out.append(shlex.split(line, comments=True))
    return out


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def run_in_copy(tmp_path: Path, argv: list[str], variables: dict[str, str] | None = None):
    """Run a documented command in a copy of a failing configuration, as CI would (with the
    CI's variables, e.g. ``$RUNNER_TEMP``, expanded as the shell would)."""
    work = tmp_path / "repo"
    shutil.copytree(FIXTURES / "gate" / "soft", work)
    assert argv[0] == "ciiguard"
    env = clean_env(**(variables or {}))
    args = argv[1:]
    if variables:
        saved = dict(os.environ)
        os.environ.update(variables)
        try:
            args = [os.path.expandvars(a) for a in argv[1:]]
        finally:
            os.environ.clear()
            os.environ.update(saved)
    return run_cli(*args, "--no-cache", env=env, cwd=work), work


# -- pre-commit ----------------------------------------------------------------------------------
def test_pre_commit_manifest_is_valid() -> None:
    exe = Path(sys.executable).with_name("pre-commit")
    if exe.exists():
        proc = subprocess.run(
            [str(exe), "validate-manifest", str(HOOKS)], capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
    hooks = yaml.safe_load(HOOKS.read_text())
    assert isinstance(hooks, list) and len(hooks) == 1
    hook = hooks[0]
    for key in ("id", "name", "entry", "language"):
        assert isinstance(hook[key], str) and hook[key]
    assert hook["language"] == "python" and hook["pass_filenames"] is False


@pytest.mark.parametrize(
    ("path", "runs"),
    [
        ("main.tf", True),
        ("modules/store/variables.tf", True),
        ("stack.tf.json", True),
        ("env/prod.tfvars", True),
        ("terraform.tfvars.json", True),
        ("Pulumi.yaml", True),
        ("infra/Pulumi.prod.yaml", True),
        ("README.md", False),
        ("main.tf.bak", False),
        ("notPulumi.yaml", False),
    ],
)
def test_pre_commit_hook_runs_on_changed_terraform_and_pulumi_files(path: str, runs: bool) -> None:
    hook = yaml.safe_load(HOOKS.read_text())[0]
    assert bool(re.search(hook["files"], path)) is runs  # pre-commit uses re.search


def test_pre_commit_hook_entry_fails_on_a_violation(tmp_path: Path) -> None:
    hook = yaml.safe_load(HOOKS.read_text())[0]
    run, _ = run_in_copy(tmp_path, shlex.split(hook["entry"]))
    assert run.code == 1 and "CII001 [BLOCKING]" in run.stdout


# -- GitHub Actions ------------------------------------------------------------------------------
def test_github_workflow_scans_uploads_sarif_and_annotates(tmp_path: Path) -> None:
    text = (CI / "github-actions.yml").read_text()
    flow = yaml.safe_load(text)
    assert flow["permissions"]["security-events"] == "write"
    steps = flow["jobs"]["data-residency"]["steps"]
    upload = next(
        s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif")
    )
    (command,) = ciiguard_commands(text)
    # the policy step writes the pipeline's config outside the checkout; the scan uses it
    (policy,) = [
        s for s in steps if 'cat > "$RUNNER_TEMP/ciiguard-policy.toml"' in str(s.get("run", ""))
    ]
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    variables = {"RUNNER_TEMP": str(runner_temp)}
    subprocess.run(["bash", "-c", policy["run"]], env=clean_env(**variables), check=True)
    assert "--policy-config" in command
    run, work = run_in_copy(tmp_path, command, variables)
    assert run.code == 1, run.stdout + run.stderr
    assert run.stderr == ""
    # text for the log and workflow commands on stdout, SARIF and the comment in files
    assert any(line.startswith("::error file=main.tf,line=") for line in run.stdout.splitlines())
    assert any(line.startswith("CII001 [BLOCKING]") for line in run.stdout.splitlines())
    sarif = json.loads((work / upload["with"]["sarif_file"]).read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    md = next(a.split(":", 1)[1] for a in command if a.startswith("markdown:"))
    assert (work / md).read_text().startswith("<!-- ciiguard-report -->")
    assert any(
        md in str(s.get("run", "")) for s in steps if "gh pr comment" in str(s.get("run", ""))
    )


# -- GitLab CI -----------------------------------------------------------------------------------
def test_gitlab_job_writes_the_junit_report_it_declares(tmp_path: Path) -> None:
    text = (CI / "gitlab-ci.yml").read_text()
    job = yaml.safe_load(text)["ciiguard"]
    (command,) = ciiguard_commands(text)
    # the policy comes from a File-type CI/CD variable: GitLab passes the file's path
    policy = tmp_path / "gitlab-file-variable"
    policy.write_text('fail_on = "mandatory"\nsuppressions = "require-reason"\n')
    run, work = run_in_copy(tmp_path, command, {"CIIGUARD_POLICY_CONFIG": str(policy)})
    assert run.code == 1, run.stdout + run.stderr
    unset, _ = run_in_copy(tmp_path / "unset", command, {"CIIGUARD_POLICY_CONFIG": ""})
    assert unset.code == 2 and "--policy-config: empty file name" in unset.stderr
    junit = work / job["artifacts"]["reports"]["junit"]
    root = ET.parse(junit).getroot()
    assert int(root.get("failures")) >= 1
    assert job["artifacts"]["when"] == "always"
    for path in job["artifacts"]["paths"]:
        assert (work / path).is_file(), path


def test_example_pre_commit_config_matches_the_shipped_hook() -> None:
    config = yaml.safe_load((CI / "pre-commit-config.yaml").read_text())
    (repo,) = config["repos"]
    assert repo["repo"] == "local"  # works as shipped: no placeholder repository or revision
    (hook,) = repo["hooks"]
    (shipped,) = yaml.safe_load(HOOKS.read_text())
    for key in ("id", "entry", "pass_filenames", "require_serial", "files"):
        assert hook[key] == shipped[key], key


def _pre_commit_repo(tmp_path: Path, case: Path, config: str) -> tuple[Path, dict[str, str]]:
    """A git repository holding ``case`` and a .pre-commit-config.yaml."""
    git = shutil.which("git")
    assert git is not None
    work = tmp_path / case.name
    shutil.copytree(case, work)
    (work / ".pre-commit-config.yaml").write_text(config)
    env = clean_env(PRE_COMMIT_HOME=str(tmp_path / "cache"), GIT_CONFIG_GLOBAL=str(tmp_path / "gc"))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for args in (["init", "-q"], ["add", "-A"]):
        subprocess.run([git, *args], cwd=work, env=env, check=True)
    return work, env


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "code"), [("gate/soft", 1), ("../../examples/terraform/compliant", 0)]
)
def test_pre_commit_run_all_files_with_the_hook_from_a_pinned_clone(
    tmp_path: Path, case: str, code: int
) -> None:
    """pre-commit as users run it: the repository referenced by path at a commit (rev), the
    hook installed by pre-commit from it, failing on a violating tree, passing on a compliant one."""
    exe = Path(sys.executable).with_name("pre-commit")
    git = shutil.which("git")
    if not exe.exists() or git is None:
        pytest.skip("pre-commit or git not installed")
    clone = tmp_path / "ciiguard"
    subprocess.run([git, "clone", "-q", str(ROOT), str(clone)], check=True)
    rev = subprocess.run(
        [git, "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout.strip()
    config = f"repos:\n  - repo: {clone}\n    rev: {rev}\n    hooks:\n      - id: ciiguard\n"
    work, env = _pre_commit_repo(tmp_path, (FIXTURES / case).resolve(), config)
    proc = subprocess.run(
        [str(exe), "run", "--all-files"], cwd=work, env=env, capture_output=True, text=True,
        timeout=900,
    )  # fmt: skip
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert ("Failed" in proc.stdout) is (code == 1)


@pytest.mark.slow
def test_the_shipped_example_config_runs_the_installed_ciiguard(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("pre-commit")
    if not exe.exists() or shutil.which("git") is None:
        pytest.skip("pre-commit or git not installed")
    config = (CI / "pre-commit-config.yaml").read_text()
    work, env = _pre_commit_repo(tmp_path, FIXTURES / "gate" / "soft", config)
    proc = subprocess.run(
        [str(exe), "run", "--all-files"], cwd=work, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "CII001 [BLOCKING]" in proc.stdout


@pytest.mark.slow
def test_pre_commit_try_repo_runs_the_hook(tmp_path: Path) -> None:
    """The real thing: pre-commit installs ciiguard from this repository and runs the hook."""
    exe = Path(sys.executable).with_name("pre-commit")
    git = shutil.which("git")
    if not exe.exists() or git is None:
        pytest.skip("pre-commit or git not installed")
    work = tmp_path / "repo"
    shutil.copytree(FIXTURES / "gate" / "soft", work)
    env = clean_env(PRE_COMMIT_HOME=str(tmp_path / "cache"), GIT_CONFIG_GLOBAL=str(tmp_path / "gc"))
    for args in (["init", "-q"], ["add", "main.tf"]):
        subprocess.run([git, *args], cwd=work, env=env, check=True)
    # a clean clone: the committed hook and code, not whatever a working tree holds right now
    clone = tmp_path / "ciiguard"
    subprocess.run([git, "clone", "-q", str(ROOT), str(clone)], env=env, check=True)
    proc = subprocess.run(
        [str(exe), "try-repo", str(clone), "ciiguard", "--files", "main.tf"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "CII001 [BLOCKING]" in proc.stdout


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_ci_examples_install_from_one_pinned_reference_never_an_index_name(name: str) -> None:
    """No release of ciiguard is published on a package index: the examples install a pinned
    VCS reference defined once (CIIGUARD_PACKAGE), the one thing a user substitutes."""
    text = (CI / name).read_text()
    installs = [line for line in text.splitlines() if "pip install" in line]
    assert installs and all('"$CIIGUARD_PACKAGE"' in line for line in installs), installs
    (defined,) = re.findall(r'CIIGUARD_PACKAGE: "([^"]+)"', text)
    assert re.fullmatch(r"ciiguard @ git\+https://\S+@v\d+\.\d+\.\d+", defined)
