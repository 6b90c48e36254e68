"""The JSON report's schema ships with the package, ``ciiguard schema`` prints it, and every JSON
report the suite reads is validated against it (tests/conftest.py ``Run.json``)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from tests.conftest import EXAMPLES, run_cli


def test_ciiguard_schema_prints_a_valid_json_schema_of_report_1() -> None:
    run = run_cli("schema")
    assert run.code == 0
    schema = json.loads(run.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema"] == {"const": "ciiguard/report@1"}


def test_a_report_with_an_undocumented_field_fails_the_schema() -> None:
    """The schema lists every field (additionalProperties false): a field added to the report
    without adding it to the schema fails every test that reads a JSON report."""
    schema = json.loads(run_cli("schema").stdout)
    run = run_cli(
        "scan", str(EXAMPLES / "terraform" / "cross-border-replication"), "--format", "json"
    )
    doc = run.json  # validated on the way
    doc["violations"][0]["surprise"] = 1
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(doc))
    assert errors and "surprise" in errors[0].message


def test_each_resource_keeps_its_own_provenance_in_the_report(tmp_path: Path) -> None:
    """The report renders a provenance once per RegionInfo object: resources in one region by
    different provider configurations keep theirs, and resources sharing one are the same."""
    (tmp_path / "main.tf").write_text(
        'provider "aws" {\n  region = "cn-north-1"\n}\n'
        'provider "aws" {\n  alias  = "b"\n  region = "cn-north-1"\n}\n'
        'resource "aws_s3_bucket" "a" {\n  bucket = "a"\n}\n'
        'resource "aws_s3_bucket" "b" {\n  provider = aws.b\n  bucket   = "b"\n}\n'
        'resource "aws_s3_bucket" "c" {\n  bucket = "c"\n}\n',
        encoding="utf-8",
    )
    run = run_cli("scan", str(tmp_path), "--format", "json", "--no-cache", "--no-config")
    resources = json.loads(run.stdout)["resources"]
    shown = {r["address"]: r["provenance"] for r in resources}
    assert "provider aws.b" in shown["aws_s3_bucket.b"]
    assert "provider aws.b" not in shown["aws_s3_bucket.a"]
    assert shown["aws_s3_bucket.a"] == shown["aws_s3_bucket.c"]
    assert all(r["region"] == "cn-north-1" for r in resources)
