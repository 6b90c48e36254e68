"""What keeps big inputs cheap without changing an answer: sections of a plan ciiguard does not
use are checked but never built, the JSON report is streamed, and the command exits without
tearing down what the scan built (issue 24). Speed and memory themselves are measured in
``benchmarks/``, not here."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
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


# -- per-resource lookups are by table, not by a pass over the file -------------------------------
# One 2.6 MB file of 20,000 buckets, each with a comment above it, took 30 s when every resource
# filtered every comment of its file; 10,000 buckets each referred to by a versioning resource
# took 12 s when every reference searched the module's resource list. The tables must answer
# exactly what those passes answered.


def test_a_comment_window_gives_what_filtering_every_comment_gives() -> None:
    import random

    from ciiguard.parsers.comments import CommentWindow

    rng = random.Random(24)
    for case in range(300):
        n = rng.randrange(0, 30)
        items = [(rng.randrange(-3, 40), f"# c{i}") for i in range(n)]
        if case % 2:  # half in line order (a reader's usual output), half in any order
            items.sort(key=lambda c: c[0])
        window = CommentWindow(items)
        for _ in range(20):
            first = rng.randrange(-6, 45)
            last = first + rng.randrange(-2, 12)
            expected = tuple(c for c in items if first <= c[0] <= last)
            assert window.between(first, last) == expected, (items, first, last)


def test_windows_are_made_once_per_file_and_answer_for_the_file_asked() -> None:
    from ciiguard.parsers.comments import CommentWindows

    made: list[str] = []
    windows = CommentWindows()

    def comments(name: str) -> list[tuple[int, str]]:
        made.append(name)
        return [(1, f"# {name}"), (5, f"# {name} 5")]

    owner = object()
    for _ in range(3):
        assert windows.window("a", owner, lambda: comments("a")).between(0, 2) == ((1, "# a"),)
        assert windows.window("b", owner, lambda: comments("b")).between(5, 9) == ((5, "# b 5"),)
    assert made == ["a", "b"]


def test_a_resource_reference_finds_the_first_block_declared_with_that_name() -> None:
    from ciiguard.parsers.terraform.hcl.nodes import Block, Body
    from ciiguard.parsers.terraform.module_def import Located, ModuleDef

    def located(file: str, *labels: str) -> Located:
        return Located(file, Block("resource", labels, Body((), ()), 1, 2))

    mod = ModuleDef(Path("m"))
    mod.resources += [located("a.tf", "aws_s3_bucket", "b"), located("b.tf", "aws_s3_bucket", "b")]
    mod.resources.append(located("a.tf", "aws_s3_bucket", "c", "extra"))
    found = mod.resource_block("aws_s3_bucket", "b")
    assert found is mod.resources[0]
    assert mod.resource_block("aws_s3_bucket", "c") is mod.resources[2]
    assert mod.resource_block("aws_s3_bucket", "d") is None
    mod.resources.append(located("c.tf", "aws_s3_bucket", "d"))  # added after a lookup
    assert mod.resource_block("aws_s3_bucket", "d") is mod.resources[3]


def test_comments_near_many_resources_are_each_resources_own(tmp_path: Path) -> None:
    """Inline suppressions still belong to the block they sit above or inside, in a file dense
    with them (the window per file replaces a filter per resource)."""
    blocks = ['provider "aws" {\n  region = "us-east-1"\n}\n']
    for i in range(60):
        ignore = "# ciiguard:ignore CII001 test fixture, ticket T-1\n" if i % 3 == 0 else ""
        blocks.append(
            f"# bucket {i}\n{ignore}"
            f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "acme-{i}" # inline {i}\n'
            '  tags = { "data-classification" = "personal" }\n}\n'
        )
    (tmp_path / "main.tf").write_text("".join(blocks))
    run = run_cli("scan", str(tmp_path), "--format", "json", "--no-config", "--no-cache")
    status = {v["resource"]: v["status"] for v in run.json["violations"] if v["policy"] == "CII001"}
    assert status == {
        f"aws_s3_bucket.b{i}": "violation" if i % 3 else "suppressed" for i in range(60)
    }


@pytest.mark.slow
def test_a_mypyc_build_of_the_plan_stages_gives_the_same_report(tmp_path: Path) -> None:
    """``benchmarks/compiled_benchmark.py`` measures the one compiled core that needs no second
    implementation (docs/performance.md). It must compare what it says: each named module loaded
    as an extension in one copy and as source in the other, and identical reports."""
    if shutil.which("cc") is None or not Path(sysconfig.get_paths()["include"], "Python.h").exists():
        pytest.skip("mypyc needs a C compiler and Python's headers; this machine has not both")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "compiled_benchmark.py"), "--plan-resources",
         "300", "--rounds", "1", "--module", "ciiguard/reporters/json_report.py", "--module",
         "ciiguard/resolve/flows.py", "--keep", str(tmp_path / "build")],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "compiled 2 modules" in proc.stdout
    assert "reports identical" in proc.stdout
    built = [p.name for p in (tmp_path / "build" / "compiled" / "ciiguard").rglob("*.so")]
    assert sorted(n.split(".")[0] for n in built) == ["flows", "json_report"]
