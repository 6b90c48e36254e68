"""Terraform JSON syntax (*.tf.json), alone and mixed with HCL in one module."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import FIXTURES, run_cli


def test_json_syntax_mixed_with_hcl() -> None:
    run = run_cli("scan", str(FIXTURES / "json-syntax"), "--format", "json")
    report = run.json
    got = {
        r["address"]: (r["region"], r["location"], r["line"], r["classification"])
        for r in report["resources"]
    }
    assert got == {
        "aws_s3_bucket.home": ("cn-north-1", "mainland", 20, "personal"),  # var from the HCL file
        "aws_s3_bucket.abroad": ("ap-southeast-1", "outside", 24, "important"),  # provider alias
        "aws_dynamodb_table.sessions": ("cn-north-1", "mainland", 31, "personal"),
    }
    assert {(v["policy"], v["resource"], v["line"]) for v in report["violations"]} == {
        ("CII001", "aws_s3_bucket.abroad", 24),
        ("CII002", "aws_dynamodb_table.sessions", 38),  # dynamic "replica" in JSON syntax
    }
    assert run.code == 1


def test_malformed_tf_json_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "main.tf.json").write_text('{\n  "resource": {\n    "aws_s3_bucket": {,\n  }\n}\n')
    run = run_cli("scan", str(tmp_path), "--format", "json")
    assert run.code == 2
    err = run.json["errors"][0]
    assert (
        err["file"].endswith("main.tf.json")
        and err["line"] == 3
        and "invalid JSON" in err["message"]
    )
    assert "Traceback" not in run.stderr


def test_interpolation_only_string_keeps_the_value_type(tmp_path: Path) -> None:
    (tmp_path / "main.tf.json").write_text(
        '{"variable": {"regions": {"default": ["ap-east-1"]}},'
        ' "provider": {"aws": {"region": "cn-north-1"}},'
        ' "resource": {"aws_secretsmanager_secret": {"s": {"name": "s",'
        ' "tags": {"data-classification": "personal"},'
        ' "dynamic": {"replica": {"for_each": "${var.regions}", "iterator": "r",'
        ' "content": {"region": "${r.value}"}}}}}}}'
    )
    report = run_cli("scan", str(tmp_path), "--format", "json").json
    assert [(v["policy"], v["region"]) for v in report["violations"]] == [("CII002", "ap-east-1")]
