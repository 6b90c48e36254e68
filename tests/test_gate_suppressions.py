"""Inline suppressions end to end: comments above, on and inside a block, tags, missing reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES, clean_env, run_cli

SUPPRESS = FIXTURES / "gate" / "suppress"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    env = clean_env(CIIGUARD_CACHE_DIR=str(tmp_path_factory.mktemp("cache")))
    run = run_cli("scan", str(SUPPRESS), "--format", "json", env=env)
    assert run.code == 1, run.stderr
    return run.json


def _by(report: dict, address: str, policy: str = "CII001") -> list[dict]:
    return [v for v in report["violations"] if v["resource"] == address and v["policy"] == policy]


def test_comment_above_the_block_with_a_reason_suppresses(report: dict) -> None:
    (v,) = _by(report, "aws_s3_bucket.with_reason")
    assert v["status"] == "suppressed" and v["suppressed"] is True and v["blocking"] is False
    assert v["suppression_reason"] == "legacy analytics export, migrating under ticket OPS-12"
    assert v["suppression_source"].endswith("suppress/main.tf:12")


def test_comment_without_a_reason_is_ignored_with_a_warning(report: dict) -> None:
    (v,) = _by(report, "aws_s3_bucket.no_reason")
    assert v["status"] == "violation" and v["blocking"] is True and v["suppressed"] is False
    warnings = [w for w in report["warnings"] if w["line"] == 18]
    assert len(warnings) == 1
    assert warnings[0]["file"].endswith("suppress/main.tf")
    assert "gives no reason, so it is ignored" in warnings[0]["message"]


def test_suppression_names_the_policy_it_silences(report: dict) -> None:
    (v,) = _by(report, "aws_s3_bucket.other_policy")
    assert v["status"] == "violation" and v["blocking"] is True


def test_comment_separated_by_a_blank_line_does_not_apply(report: dict) -> None:
    (v,) = _by(report, "aws_s3_bucket.not_adjacent")
    assert v["status"] == "violation" and v["blocking"] is True


def test_comment_on_an_attribute_line_inside_the_block(report: dict) -> None:
    (v,) = _by(report, "aws_s3_bucket.inside")
    assert v["status"] == "suppressed"
    assert v["suppression_reason"] == "synthetic test data only, no real customers"


def test_tag_suppression_works_for_any_input(report: dict) -> None:
    (v,) = _by(report, "aws_s3_bucket.by_tag")
    assert v["status"] == "suppressed"
    assert v["suppression_reason"] == "vendor sandbox with synthetic data"
    assert "tag 'ciiguard:ignore'" in v["suppression_source"]
    (bare,) = _by(report, "aws_s3_bucket.by_tag_no_reason")
    assert bare["status"] == "violation" and bare["blocking"] is True
    assert any(
        "by_tag_no_reason" in w["message"] and "gives no reason" in w["message"]
        for w in report["warnings"]
    )


def test_comment_above_a_nested_block_covers_that_block_only(report: dict) -> None:
    found = _by(report, "aws_dynamodb_table.sessions", "CII002")
    by_region = {v["region"]: v for v in found}
    assert set(by_region) == {"ap-southeast-1", "eu-west-1"}
    assert by_region["ap-southeast-1"]["status"] == "suppressed"
    assert "LEGAL-7" in by_region["ap-southeast-1"]["suppression_reason"]
    assert by_region["eu-west-1"]["status"] == "violation"
    assert by_region["eu-west-1"]["blocking"] is True


def test_summary_counts_and_exit_code(report: dict) -> None:
    s = report["summary"]
    assert s["suppressed"] == 4
    assert s["blocking"] == 5
    assert s["violations"] == 9  # suppressed findings stay in the report


def test_text_report_lists_suppressed_findings_with_reasons(tmp_path: Path) -> None:
    run = run_cli("scan", str(SUPPRESS), env=clean_env(CIIGUARD_CACHE_DIR=str(tmp_path)))
    assert run.code == 1
    assert "CII001 [suppressed] aws_s3_bucket.with_reason" in run.stdout
    assert "legacy analytics export, migrating under ticket OPS-12" in run.stdout
    assert "warning: " in run.stdout and "gives no reason" in run.stdout
    assert "4 suppressed" in run.stdout.splitlines()[-1]


def test_suppressions_survive_the_result_cache(tmp_path: Path) -> None:
    env = clean_env(CIIGUARD_CACHE_DIR=str(tmp_path / "cache"))
    first = run_cli("scan", str(SUPPRESS), "--format", "json", env=env)
    second = run_cli("scan", str(SUPPRESS), "--format", "json", env=env)
    assert first.code == second.code == 1
    statuses = [(v["resource"], v["status"]) for v in first.json["violations"]]
    assert statuses == [(v["resource"], v["status"]) for v in second.json["violations"]]


def test_suppression_in_a_comment_with_unknown_policy_warns(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'provider "aws" {\n  region = "us-east-1"\n}\n\n'
        "# ciiguard:ignore CII01 typo in the id\n"
        'resource "aws_s3_bucket" "b" {\n'
        '  tags = { "data-classification" = "personal" }\n}\n'
    )
    run = run_cli("scan", str(tmp_path), "--format", "json", "--no-cache")
    assert run.code == 1
    assert any("unknown policy CII01" in w["message"] for w in run.json["warnings"])


# -- Pulumi ---------------------------------------------------------------------------------------
PULUMI = FIXTURES / "gate" / "pulumi"
URN = "urn:pulumi:stack::gate-demo::aws:s3/bucketV2:BucketV2::"


def _pulumi_report() -> dict:
    run = run_cli("scan", str(PULUMI), "--format", "json", "--no-cache")
    assert run.code in (0, 1), run.stderr
    return run.json


def test_pulumi_tag_suppression() -> None:
    (v,) = _by(_pulumi_report(), URN + "tagged")
    assert v["status"] == "suppressed"
    assert v["suppression_reason"] == "demo stack with synthetic data"


def test_pulumi_yaml_comment_suppression() -> None:
    (v,) = _by(_pulumi_report(), URN + "commented")
    assert v["status"] == "suppressed"
    assert v["suppression_reason"] == "migrated next sprint, ticket OPS-77"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("aws_s3_bucket.after_operator", "fixture: a comment after a binary operation"),
        ("aws_s3_bucket.inside_object", "fixture: a comment inside an object"),
    ],
)
def test_comments_inside_expressions_are_seen(tmp_path: Path, address: str, reason: str) -> None:
    # python-hcl2 hangs these comments under the expression; they used to be lost there
    env = clean_env(CIIGUARD_CACHE_DIR=str(tmp_path))
    run = run_cli("scan", str(FIXTURES / "gate" / "suppress_operator"), "--format", "json", env=env)
    (v,) = _by(run.json, address)
    assert v["status"] == "suppressed" and v["suppression_reason"] == reason
    assert run.code == 0
