"""Cross-border approvals (domain.md section 6) with dates relative to today, in every format."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli

TEMPLATE = FIXTURES / "gate" / "approvals" / "main.tf.tmpl"


def write_case(directory: Path, today: dt.date | None = None) -> dict[str, str]:
    today = today or dt.date.today()
    dates = {
        "valid": (today + dt.timedelta(days=400)).isoformat(),
        "expired": (today - dt.timedelta(days=1)).isoformat(),
        "malformed": "31/12/2027",
        "expiring": (today + dt.timedelta(days=20)).isoformat(),
    }
    text = TEMPLATE.read_text()
    for k, v in dates.items():
        text = text.replace("{" + k + "}", v)
    (directory / "main.tf").write_text(text)
    return dates


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    d = tmp_path_factory.mktemp("approvals")
    dates = write_case(d)
    out = tmp_path_factory.mktemp("out")
    run = run_cli(
        "scan",
        str(d),
        "--no-cache",
        "--format",
        f"json:{out / 'r.json'}",
        "--format",
        f"sarif:{out / 'r.sarif'}",
        "--format",
        f"junit:{out / 'r.xml'}",
        "--format",
        f"github:{out / 'gh.txt'}",
        "--format",
        f"markdown:{out / 'pr.md'}",
        "--format",
        "text",
    )
    assert run.code == 1, run.stderr  # expired, no expiry and malformed still block
    (out / "text.txt").write_text(run.stdout)
    return d, dates, out


def _violations(out: Path) -> dict[str, dict]:
    report = json.loads((out / "r.json").read_text())
    return {v["resource"]: v for v in report["violations"] if v["policy"] == "CII002"}


def test_valid_approval_is_a_reported_non_blocking_approved_transfer(case) -> None:
    _, dates, out = case
    v = _violations(out)["aws_dynamodb_table.valid"]
    assert v["status"] == "approved-transfer" and v["blocking"] is False
    assert v["approval_reference"] == "CAC-SA-2025-0001"
    assert v["approval_expires"] == dates["valid"]
    assert v["approval_warning"] is None


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("aws_dynamodb_table.expired", "expired on"),
        ("aws_dynamodb_table.no_expiry", "an approval without an expiry date is not an approval"),
        ("aws_dynamodb_table.malformed", "is not an ISO date"),
    ],
)
def test_invalid_approvals_block_and_say_why(case, address: str, problem: str) -> None:
    _, dates, out = case
    v = _violations(out)[address]
    assert v["status"] == "violation" and v["blocking"] is True
    assert problem in v["approval_problem"]
    if address.endswith("expired"):
        assert dates["expired"] in v["approval_problem"]


def test_approval_on_the_source_resource_counts(case) -> None:
    _, _, out = case
    v = _violations(out)["aws_s3_bucket_replication_configuration.orders"]
    assert v["related"] == ["aws_s3_bucket.orders"]
    assert v["status"] == "approved-transfer"
    assert v["approval_reference"] == "SC-FILING-2025-17"


def test_expiring_soon_is_a_warning_in_every_format(case) -> None:
    _, dates, out = case
    v = _violations(out)["aws_dynamodb_table.expiring"]
    assert v["status"] == "approved-transfer" and v["blocking"] is False
    assert "in 20 days" in v["approval_warning"]
    report = json.loads((out / "r.json").read_text())
    assert any("CAC-SA-2023-0100" in w["message"] for w in report["warnings"])
    # text
    text = (out / "text.txt").read_text()
    assert any(
        line.startswith("warning: ") and "CAC-SA-2023-0100" in line and dates["expiring"] in line
        for line in text.splitlines()
    )
    # SARIF: the approved result is a warning, and the run has a warning notification
    sarif = json.loads((out / "r.sarif").read_text())
    run = sarif["runs"][0]
    expiring = [
        r for r in run["results"] if r["properties"]["resource"] == "aws_dynamodb_table.expiring"
    ]
    assert expiring[0]["level"] == "warning"
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any(
        n["level"] == "warning" and "CAC-SA-2023-0100" in n["message"]["text"] for n in notes
    )
    # JUnit: said in the test case output
    tree = ET.parse(out / "r.xml")
    case_el = next(
        c
        for s in tree.iter("testsuite")
        if (s.get("name") or "").startswith("CII002 ")
        for c in s.iter("testcase")
        if c.get("name") == "aws_dynamodb_table.expiring"
    )
    assert "WARNING" in (case_el.findtext("system-out") or "")
    # GitHub annotations
    gh = (out / "gh.txt").read_text().splitlines()
    assert any(line.startswith("::warning ") and "CAC-SA-2023-0100" in line for line in gh)
    # Markdown
    md = (out / "pr.md").read_text()
    assert "### Warnings" in md and "CAC-SA-2023-0100" in md and "expires soon" in md


def test_approved_results_carry_sarif_suppressions(case) -> None:
    _, _, out = case
    sarif = json.loads((out / "r.sarif").read_text())
    results = {
        r["properties"]["resource"]: r
        for r in sarif["runs"][0]["results"]
        if r["ruleId"] == "CII002"
    }
    approved = results["aws_dynamodb_table.valid"]
    assert approved["suppressions"][0]["kind"] == "external"
    assert "CAC-SA-2025-0001" in approved["suppressions"][0]["justification"]
    assert "suppressions" not in results["aws_dynamodb_table.expired"]
    assert results["aws_dynamodb_table.expired"]["level"] == "error"


def test_approvals_only_satisfy_cross_border_findings(tmp_path: Path) -> None:
    """An approval tag does not make data stored abroad (CII001) acceptable."""
    future = (dt.date.today() + dt.timedelta(days=500)).isoformat()
    (tmp_path / "main.tf").write_text(
        'provider "aws" {\n  region = "ap-east-1"\n}\n'
        'resource "aws_s3_bucket" "hk" {\n  tags = {\n'
        '    "data-classification" = "personal"\n'
        '    "cross-border-approval" = "CAC-SA-2025-0009"\n'
        f'    "cross-border-approval-expires" = "{future}"\n  }}\n}}\n'
    )
    run = run_cli("scan", str(tmp_path), "--format", "json", "--no-cache")
    assert run.code == 1
    (v,) = run.json["violations"]
    assert (v["policy"], v["status"], v["blocking"]) == ("CII001", "violation", True)


def test_approval_keys_and_warning_window_come_from_config(tmp_path: Path) -> None:
    soon = (dt.date.today() + dt.timedelta(days=80)).isoformat()
    (tmp_path / "main.tf").write_text(
        'provider "aws" {\n  region = "cn-north-1"\n}\n'
        'resource "aws_dynamodb_table" "t" {\n  name = "t"\n  hash_key = "id"\n'
        '  attribute {\n    name = "id"\n    type = "S"\n  }\n'
        '  replica {\n    region_name = "eu-west-1"\n  }\n  tags = {\n'
        '    "data-classification" = "personal"\n'
        '    "cac-ref" = "CAC-SA-2025-0100"\n'
        f'    "cac-ref-until" = "{soon}"\n  }}\n}}\n'
    )
    (tmp_path / "ciiguard.toml").write_text(
        '[approval]\nkey = "cac-ref"\nexpiry_key = "cac-ref-until"\nwarn_days = 90\n'
    )
    run = run_cli("scan", str(tmp_path), "--format", "json", "--no-cache")
    assert run.code == 0, run.stdout
    (v,) = run.json["violations"]
    assert v["status"] == "approved-transfer" and "in 80 days" in v["approval_warning"]
