"""What keeps big inputs cheap without changing an answer: sections of a plan ciiguard does not
use are checked but never built, the JSON report is streamed, and the command exits without
tearing down what the scan built (issue 24). Speed and memory themselves are measured in
``benchmarks/``, not here."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT, ciiguard_exe, clean_env, run_cli

PLAN = ROOT / "tests" / "fixtures" / "plan" / "actions.json"


def _plan_with(tmp_path: Path, **sections: object) -> Path:
    doc = json.loads(PLAN.read_text())
    doc.update(sections)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc, indent=1))
    return path


def test_unused_plan_sections_are_read_but_change_nothing(tmp_path: Path) -> None:
    base = run_cli("scan", str(PLAN), "--format", "json", "--no-config", "--no-cache")
    deep = {"values": {"root_module": {"resources": [{"a": [[[[{"b": [1, 2, {"c": None}]}]]]]}],
                                       "child_modules": [{"resources": []}]}}}  # fmt: skip
    shown = _plan_with(tmp_path, prior_state=deep, resource_drift=[{"address": "x", "n": 1e3}])
    run = run_cli("scan", str(shown), "--format", "json", "--no-config", "--no-cache")
    assert run.code == base.code

    def verdicts(doc: dict) -> tuple[list, list]:
        res = [(r["address"], r["region"], r["location"], r["in_scope"]) for r in doc["resources"]]
        return res, [(v["policy"], v["resource"], v["line"]) for v in doc["violations"]]

    assert verdicts(run.json)[0] == verdicts(base.json)[0]
    assert [v[:2] for v in verdicts(run.json)[1]] == [v[:2] for v in verdicts(base.json)[1]]


@pytest.mark.parametrize(
    "broken, line_of",
    [
        ('"prior_state": {"values": {"root_module": {"resources": [{"a": 1,}]}}}', '{"a": 1,}'),
        ('"prior_state": {"values": [1, 2 3]}', "[1, 2 3]"),
        ('"resource_drift": [{"address": "x"} {"address": "y"}]', '{"address": "x"} {'),
        ('"prior_state": {1: 2}', "{1: 2}"),
    ],
)
def test_malformed_json_in_an_unused_section_is_an_error_at_its_line(
    tmp_path: Path, broken: str, line_of: str
) -> None:
    text = json.dumps(json.loads(PLAN.read_text()), indent=1)
    text = text.replace('\n "configuration"', f'\n {broken},\n "configuration"', 1)
    path = tmp_path / "plan.json"
    path.write_text(text)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if line_of in t)
    run = run_cli("scan", str(path), "--no-config", "--no-cache")
    assert run.code == 2, run.stdout
    said = run.stdout + run.stderr
    assert f"plan.json:{line}: invalid JSON" in said
    assert "Traceback" not in said


def test_the_streamed_json_report_is_the_same_on_stdout_and_in_a_file(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    args = ("scan", str(EXAMPLES / "terraform"), "--format", "json", "--no-config", "--no-cache")
    to_stdout = run_cli(*args)
    to_file = run_cli(*args, "--output", str(out))
    assert to_stdout.code == to_file.code == 1
    assert out.read_text(encoding="utf-8") == to_stdout.stdout
    assert to_stdout.json["summary"]["resources"] == len(to_stdout.json["resources"])


def test_empty_report_arrays_are_written_as_empty_lists(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('provider "aws" {\n  region = "cn-north-1"\n}\n')
    run = run_cli("scan", str(tmp_path), "--format", "json", "--no-config", "--no-cache")
    assert run.code == 0
    assert run.json["resources"] == [] and run.json["violations"] == []


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    """``ciiguard scan . | head -1``: the command exits fast (``console``) yet still flushes;
    a closed pipe is an exit status, never a traceback."""
    proc = subprocess.Popen(
        [*ciiguard_exe(), "scan", str(EXAMPLES / "terraform"), "--no-config", "--no-cache"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=120)
    assert first
    assert "Traceback" not in err
    assert code in (1, 120)


def test_python_dash_m_and_the_console_script_agree() -> None:
    import sys

    args = ["scan", str(EXAMPLES / "terraform" / "foreign-region"), "--format", "json",
            "--no-config", "--no-cache"]  # fmt: skip
    script = subprocess.run([*ciiguard_exe(), *args], capture_output=True, text=True,
                            env=clean_env(), timeout=120, cwd=ROOT)  # fmt: skip
    module = subprocess.run([sys.executable, "-m", "ciiguard", *args], capture_output=True,
                            text=True, env=clean_env(), timeout=120, cwd=ROOT)  # fmt: skip
    assert (script.returncode, script.stdout) == (module.returncode, module.stdout)
    assert script.returncode == 1
    bad = subprocess.run([*ciiguard_exe(), "scan", "--no-such-option"], capture_output=True,
                         text=True, env=clean_env(), timeout=120)  # fmt: skip
    assert bad.returncode == 2 and "unrecognized arguments" in bad.stderr
