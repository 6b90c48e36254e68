"""GitHub workflow commands: ::error / ::warning / ::notice with file and line for PR annotations."""

from __future__ import annotations

import re
from pathlib import Path

from ciiguard.reporters.github import command
from tests.conftest import FIXTURES, run_cli
from tests.test_gate_approvals import write_case

GATE = FIXTURES / "gate"
LINE = re.compile(r"^::(error|warning|notice) file=([^,]+),line=(\d+),title=([^:]+)::(.+)$")


def github(*args: str) -> tuple[int, list[str]]:
    run = run_cli("scan", "--no-cache", *args, "--format", "github")
    return run.code, run.stdout.splitlines()


def test_blocking_violations_are_error_annotations_with_file_and_line() -> None:
    code, lines = github(str(GATE / "suppress"))
    assert code == 1
    commands = [LINE.match(x) for x in lines if x.startswith("::")]
    assert all(commands), lines
    errors = [m for m in commands if m.group(1) == "error"]
    assert len(errors) == 5  # suppressed findings are not annotated
    files = {m.group(2) for m in errors}
    assert files == {"tests/fixtures/gate/suppress/main.tf"}
    no_reason = next(m for m in errors if "aws_s3_bucket.no_reason" in m.group(5))
    assert no_reason.group(3) == "19"
    assert no_reason.group(4) == "CII001 data-outside-mainland"
    assert "%0AFix: set the region" in no_reason.group(5)  # newlines are escaped
    warnings = [m for m in commands if m.group(1) == "warning"]
    assert {m.group(3) for m in warnings} == {"18", "50"}
    assert lines[-1].startswith("ciiguard FAILED")


def test_approved_transfers_are_notices_and_expiring_approvals_warn(tmp_path: Path) -> None:
    write_case(tmp_path)
    code, lines = github(str(tmp_path))
    assert code == 1
    notices = [x for x in lines if x.startswith("::notice ")]
    assert len(notices) == 3 and all("(approved)" in x for x in notices)
    warns = [x for x in lines if x.startswith("::warning ")]
    assert any("CAC-SA-2023-0100" in x and "in 20 days" in x for x in warns)


def test_escaping_follows_the_workflow_command_rules() -> None:
    line = command("error", "100% bad\nnext", "dir,x/a:b.tf", 3, "T: x, y")
    assert line == "::error file=dir%2Cx/a%3Ab.tf,line=3,title=T%3A x%2C y::100%25 bad%0Anext"
    assert command("warning", "m", None, None, "t") == "::warning title=t::m"


def test_annotations_are_capped_per_kind_with_one_notice_for_the_rest(tmp_path: Path) -> None:
    """GitHub shows 10 annotations of each kind per step: blocking ones first, 10 at most, then
    one notice counting the rest; the rest stay in the log as lines no runner acts on."""
    for i in range(13):
        (tmp_path / f"b{i}.tf").write_text(
            f'resource "aws_s3_bucket" "b{i}" {{\n  provider = aws.hk\n'
            '  tags = { "data-classification" = "personal" }\n}\n'
        )
    (tmp_path / "providers.tf").write_text(
        'provider "aws" {\n  alias  = "hk"\n  region = "ap-east-1"\n}\n'
    )
    run = run_cli("scan", str(tmp_path), "--no-cache", "--format", "github")
    assert run.code == 1
    out = run.stdout.splitlines()
    commands = [line for line in out if line.startswith("::")]
    assert len([c for c in commands if c.startswith("::error ")]) == 10
    (notice,) = [c for c in commands if c.startswith("::notice ")]
    assert "3 errors more than GitHub shows per step" in notice
    rest = [line for line in out if line.startswith("  - error ")]
    assert len(rest) == 3 and all("CII001" in line for line in rest)


def test_the_log_lists_plugins_and_waivers_without_annotating_them() -> None:
    run = run_cli("scan", str(FIXTURES / "gate" / "suppress"), "--no-cache", "--format", "github")
    lines = run.stdout.splitlines()
    assert any(line.startswith("  plugin: builtin ") for line in lines)
    assert any(line.startswith("  waiver: suppression of CII001") for line in lines)
