"""The pull-request comment: verdict, summary, table of violations, approvals, what to do."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import FIXTURES, run_cli
from tests.test_gate_approvals import write_case

GATE = FIXTURES / "gate"


def markdown(*args: str) -> tuple[int, str]:
    run = run_cli("scan", "--no-cache", *args, "--format", "markdown")
    return run.code, run.stdout


def table_rows(md: str, heading: str) -> list[list[str]]:
    section = md.split(heading, 1)[1].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [[c.strip() for c in r.strip("|").split(" | ")] for r in rows[1:]]


def test_failed_scan_comment() -> None:
    code, md = markdown(str(GATE / "suppress"))
    assert code == 1
    lines = md.splitlines()
    assert lines[0] == "<!-- ciiguard-report -->"
    assert lines[1] == "## ciiguard FAILED"
    assert "**5 blocking** of 9 violations (4 suppressed)" in md
    rows = table_rows(md, "### Violations")
    assert len(rows) == 5
    first = rows[0]
    assert first[0] == "**BLOCKING**" and first[1] == "CII001"
    assert first[2] == "`aws_s3_bucket.no_reason`"
    assert first[3] == "`tests/fixtures/gate/suppress/main.tf:19`"
    assert first[4] == "us-east-1"
    assert "<summary>Suppressed and exempted findings (4)</summary>" in md
    # text that looks like an HTML tag is shown, not swallowed by the renderer
    assert "(write: ciiguard:ignore CII001 &lt;why this is acceptable&gt;)" in md
    assert "### What to do" in md
    assert "**CII001** (Cybersecurity Law art. 37; PIPL art. 40; Data Security Law art. 31)" in md
    assert "`ciiguard explain CII002`" in md and "cross-border-approval-expires" in md


def test_passing_scan_comment_is_short() -> None:
    code, md = markdown("examples/terraform/compliant")
    assert code == 0
    assert md.splitlines()[1] == "## ciiguard passed"
    assert "### Violations" not in md and "### What to do" not in md


def test_approved_transfers_table(tmp_path: Path) -> None:
    dates = write_case(tmp_path)
    code, md = markdown(str(tmp_path))
    assert code == 1
    rows = {r[0]: r for r in table_rows(md, "### Approved cross-border transfers")}
    assert rows["`aws_dynamodb_table.valid`"][3:] == ["`CAC-SA-2025-0001`", dates["valid"]]
    assert rows["`aws_dynamodb_table.expiring`"][4] == f"{dates['expiring']} (**expires soon**)"
    violations = table_rows(md, "### Violations")
    assert any("approval not valid" in r[5] and "expired on" in r[5] for r in violations)


def test_table_cells_escape_pipes(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'provider "aws" {\n  region = "us-east-1"\n}\n'
        'resource "aws_s3_bucket" "b" {\n  tags = { "data-classification" = "a|b" }\n}\n'
    )
    code, md = markdown(str(tmp_path))
    assert code == 1
    (row,) = table_rows(md, "### Violations")
    assert len(row) == 6 and "a\\|b" in row[5]


def test_a_big_estate_stays_under_githubs_comment_limit(tmp_path: Path) -> None:
    """GitHub rejects a comment over 65,536 characters: the table stops within the budget and
    says how many findings are only in the SARIF/JSON reports."""
    buckets = "".join(
        f'resource "aws_s3_bucket" "customer_records_{i:04d}" {{\n'
        '  tags = { "data-classification" = "personal" }\n}\n'
        for i in range(1500)
    )
    (tmp_path / "main.tf").write_text('provider "aws" {\n  region = "ap-east-1"\n}\n' + buckets)
    run = run_cli("scan", str(tmp_path), "--no-cache", "--format", "markdown")
    assert run.code == 1
    assert len(run.stdout) <= 65_536
    rows = [line for line in run.stdout.splitlines() if line.startswith("| **")]
    assert 100 < len(rows) < 1500
    assert f"_{1500 - len(rows)} more violations not shown" in run.stdout
