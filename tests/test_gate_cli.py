"""The gate's command line: exit-code options, several formats in one run, explain, progress."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from ciiguard.cli.progress import Progress, wanted
from tests.conftest import FIXTURES, clean_env, run_cli
from tests.test_gate_config import run_in_process

SOFT = FIXTURES / "gate" / "soft"


def scan(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
    return run_cli("scan", "--no-cache", *args, cwd=cwd, env=env)


def test_soft_fail_reports_but_exits_0_and_fail_on_advisory(tmp_path: Path) -> None:
    (tmp_path / "ciiguard.toml").write_text('[enforcement]\nCII003 = "advisory"\n')
    cfg = str(tmp_path / "ciiguard.toml")
    run = scan(str(SOFT), "--config", cfg, "--format", "json")
    assert run.code == 1
    levels = {v["policy"]: (v["enforcement"], v["blocking"]) for v in run.json["violations"]}
    assert levels == {"CII001": ("mandatory", True), "CII003": ("advisory", False)}

    run = scan(str(SOFT), "--config", cfg, "--soft-fail")
    assert run.code == 0
    assert "CII001 [BLOCKING]" in run.stdout
    assert run.stdout.splitlines()[-1].startswith("ciiguard FAILED (soft-fail: exit 0)")

    # only the advisory finding left: passes by default, fails with --fail-on advisory
    (tmp_path / "ciiguard.toml").write_text(
        '[enforcement]\nCII001 = "disabled"\nCII003 = "advisory"\n'
    )
    assert scan(str(SOFT), "--config", cfg).code == 0
    run = scan(str(SOFT), "--config", cfg, "--fail-on", "advisory", "--format", "json")
    assert run.code == 1
    assert [(v["policy"], v["blocking"]) for v in run.json["violations"]] == [("CII003", True)]
    assert run.json["gate"]["fail_on"] == "advisory"
    # the command line wins over the config file
    (tmp_path / "ciiguard.toml").write_text(
        'fail_on = "advisory"\n[enforcement]\nCII001 = "disabled"\nCII003 = "advisory"\n'
    )
    assert scan(str(SOFT), "--config", cfg).code == 1
    assert scan(str(SOFT), "--config", cfg, "--fail-on", "mandatory").code == 0


def test_soft_fail_never_hides_an_incomplete_scan(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n}\n')
    run = scan(str(tmp_path), "--soft-fail")
    assert run.code == 2


def test_bad_fail_on_is_a_usage_error() -> None:
    run = scan(str(SOFT), "--fail-on", "sometimes")
    assert run.code == 2 and "invalid choice" in run.stderr and run.stderr.count("\n") == 1


def test_several_formats_each_to_its_own_file_plus_text_on_the_terminal(tmp_path: Path) -> None:
    run = scan(
        str(SOFT),
        "--format",
        f"sarif:{tmp_path / 'r.sarif'}",
        "--format",
        f"junit:{tmp_path / 'r.xml'}",
        "--format",
        f"json:{tmp_path / 'r.json'}",
        "--format",
        f"markdown:{tmp_path / 'pr.md'}",
        "--format",
        f"github:{tmp_path / 'gh.txt'}",
    )
    assert run.code == 1
    assert run.stdout.splitlines()[-1].startswith("ciiguard FAILED")  # text on the terminal
    assert json.loads((tmp_path / "r.sarif").read_text())["version"] == "2.1.0"
    assert (tmp_path / "r.xml").read_text().startswith("<?xml")
    assert json.loads((tmp_path / "r.json").read_text())["schema"] == "ciiguard/report@1"
    assert (tmp_path / "pr.md").read_text().startswith("<!-- ciiguard-report -->")
    assert (tmp_path / "gh.txt").read_text().startswith("::error ")


def test_format_and_output_keep_working_as_before(tmp_path: Path) -> None:
    run = scan(str(SOFT), "--format", "json")
    assert run.code == 1 and run.json["schema"] == "ciiguard/report@1" and run.stderr == ""
    out = tmp_path / "r.json"
    run = scan(str(SOFT), "--format", "json", "--output", str(out))
    assert run.code == 1 and run.stdout == ""
    assert json.loads(out.read_text())["summary"]["blocking"] == 2
    run = scan(str(SOFT), "--output", str(tmp_path / "r.txt"))
    assert run.stdout == "" and "CII001 [BLOCKING]" in (tmp_path / "r.txt").read_text()
    # stdout can carry two formats: text for people, workflow commands for GitHub
    run = scan(str(SOFT), "--format", "text", "--format", "github:-")
    lines = run.stdout.splitlines()
    assert any(x.startswith("CII001 [BLOCKING]") for x in lines)
    assert any(x.startswith("::error file=") for x in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--format", "yaml"),
            "unknown --format 'yaml' (known: github, json, junit, junit-xunit, markdown, sarif, text)",
        ),
        (("--format", "json", "--format", "sarif", "--output", "x"), "--output takes one format"),
        (("--format", "sarif:"), "give a file after the colon"),
        (("--format", "sarif:a.out", "--format", "json:a.out"), "same file: a.out"),
    ],
)
def test_format_usage_errors(args, message, tmp_path: Path) -> None:
    run = run_in_process("scan", "--no-cache", str(SOFT), *args, cwd=tmp_path)
    assert run.code == 2 and message in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_is_an_error(tmp_path: Path) -> None:
    run = scan(str(SOFT), "--format", f"sarif:{tmp_path / 'missing-dir' / 'r.sarif'}")
    assert run.code == 2 and "cannot write" in run.stderr and "r.sarif" in run.stderr


def test_explain_prints_rule_legal_basis_fix_and_approval() -> None:
    run = run_cli("explain", "CII002")
    assert run.code == 0, run.stderr
    assert run.stdout.startswith("CII002  cross-border-replication")
    text = " ".join(run.stdout.split())  # paragraphs are wrapped for the terminal
    assert "Legal basis: CSL art. 37; PIPL arts. 38-40" in text
    assert "How to fix:" in text
    assert "How to approve:" in text and "cross-border-approval-expires" in text
    assert "How to suppress:" in text and "# ciiguard:ignore CII002 <reason>" in text
    run = run_cli("explain", "cii001")
    assert run.code == 0 and "How to approve" not in run.stdout
    assert "Cybersecurity Law art. 37" in run.stdout
    run = run_cli("explain", "CII999")
    assert run.code == 2 and "unknown policy 'CII999' (known: CII001, CII002, CII003" in run.stderr


def test_policies_lists_id_severity_enforcement_and_description() -> None:
    run = run_cli("policies")
    assert run.code == 0
    lines = run.stdout.splitlines()
    first = lines[0].split()
    assert first[:3] == ["CII001", "critical", "mandatory"]
    assert "located outside mainland China" in lines[1]


# -- progress ------------------------------------------------------------------------------------
class FakeTty(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_progress_only_on_a_terminal_outside_ci() -> None:
    assert wanted(FakeTty(True), {"TERM": "xterm"}) is True
    assert wanted(FakeTty(False), {"TERM": "xterm"}) is False
    for ci in (
        {"CI": "true"},
        {"GITHUB_ACTIONS": "true"},
        {"GITLAB_CI": "1"},
        {"TF_BUILD": "True"},
    ):
        assert wanted(FakeTty(True), ci) is False, ci
    assert wanted(FakeTty(True), {"CI": "false"}) is True
    assert wanted(FakeTty(True), {"TERM": "dumb"}) is False


def test_progress_line_is_rewritten_in_place_and_erased() -> None:
    stream = FakeTty(True)
    p = Progress(stream, enabled=True, delay=0, interval=0, tick=None)
    p("parsing 12 files (terraform)")
    p("resolving 40 resources")
    out = stream.getvalue()
    assert "\rciiguard: parsing 12 files (terraform) (0s)" in out
    assert "\rciiguard: resolving 40 resources (0s)" in out
    p.done()
    assert stream.getvalue().endswith("\r")
    quiet = FakeTty(True)
    late = Progress(quiet, enabled=True, delay=60)  # quick scans print nothing
    late("parsing")
    late.done()
    assert quiet.getvalue() == ""
    off = FakeTty(True)
    Progress(off, enabled=False, delay=0)("parsing")
    assert off.getvalue() == ""


def test_a_long_phase_keeps_its_line_alive() -> None:
    """A phase that began before the delay still shows once the delay has passed."""
    stream = FakeTty(True)
    p = Progress(stream, enabled=True, delay=0.05, tick=0.01)
    p("parsing 9000 files (terraform)")  # inside the delay: nothing yet
    assert stream.getvalue() == ""
    time.sleep(0.3)
    p.done()
    assert "\rciiguard: parsing 9000 files (terraform) (0s)" in stream.getvalue()
    assert stream.getvalue().endswith("\r")


def test_no_progress_when_stderr_is_not_a_terminal_or_in_ci() -> None:
    run = scan(str(SOFT), "--format", "json", env=clean_env(CI="true"))
    assert run.stderr == ""
    run = scan(str(SOFT), "--format", "json", env={**clean_env(), "CI": ""})
    assert run.stderr == ""  # captured stderr is not a TTY
