"""The JSON report's schema ships with the package, ``ciiguard schema`` prints it, and every JSON
report the suite reads is validated against it (tests/conftest.py ``Run.json``)."""

from __future__ import annotations

import json

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
