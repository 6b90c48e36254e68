"""``pulumi preview --json`` and ``pulumi stack export`` through the installed command."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import FIXTURES, run_cli

P = FIXTURES / "pulumi"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def scan(path: Path, *extra: str) -> tuple[int, dict]:
    run = run_cli("scan", str(path), "--format", "json", *extra)
    return run.code, run.json


def by_name(report: dict) -> dict[str, dict]:
    return {r["address"].rsplit("::", 1)[1]: r for r in report["resources"]}


def verdicts(report: dict) -> list[tuple[str, str]]:
    return sorted((v["policy"], v["resource"].rsplit("::", 1)[1]) for v in report["violations"])


def test_preview_steps_default_and_explicit_providers_and_unknown_destinations() -> None:
    code, report = scan(P / "preview" / "cross-border.json")
    assert code == 1
    res = by_name(report)
    # providers, the stack and a component are not resources; a delete step deploys nothing
    assert set(res) == {"orders", "ordersReplica", "replication", "sessions", "store-archive"}
    assert {r["input"] for r in report["resources"]} == {"pulumi-preview"}
    orders = res["orders"]
    assert orders["region"] == "cn-north-1"
    assert orders["provenance"].startswith(
        "default provider default_7_11_0 (tests/fixtures/pulumi/"
    )
    assert res["ordersReplica"]["region"] == "ap-east-1"
    assert res["store-archive"]["address"].endswith(
        "::acme:data:Store$aws:s3/bucketV2:BucketV2::store-archive"
    )
    # the destination ARN is unknown in preview; propertyDependencies name the bucket it comes from
    (flow,) = res["replication"]["flows"]
    assert flow["source"] == orders["address"]
    assert flow["destination_resource"] == res["ordersReplica"]["address"]
    assert flow["location"] == "outside"
    assert verdicts(report) == [
        ("CII001", "ordersReplica"),
        ("CII002", "replication"),
        ("CII002", "sessions"),
    ]
    v = next(
        v
        for v in report["violations"]
        if v["policy"] == "CII002" and "replication" in v["resource"]
    )
    assert (v["file"], v["line"]) == ("tests/fixtures/pulumi/preview/cross-border.json", 139)


def test_compliant_preview_passes() -> None:
    code, report = scan(P / "preview" / "compliant.json")
    assert (code, report["violations"], report["errors"]) == (0, [], [])
    (flow,) = by_name(report)["replication"]["flows"]
    assert (flow["destination"], flow["location"]) == ("cn-northwest-1", "mainland")


def test_unknown_provider_region_in_preview_is_cii003() -> None:
    code, report = scan(P / "preview" / "unknown-region.json")
    assert code == 1
    assert verdicts(report) == [("CII003", "records")]
    assert by_name(report)["records"]["location"] == "unknown"


def test_stack_export_resolves_provider_references_and_skips_pending_deletes() -> None:
    code, report = scan(P / "state" / "payments-prod.json")
    assert code == 1
    res = by_name(report)
    assert set(res) == {"ledger", "receipts", "apiToken"}
    assert {r["input"] for r in report["resources"]} == {"pulumi-state"}
    # the default provider's defaultTags arrive JSON-encoded, as the engine stores them
    assert res["ledger"]["classification"] == "personal"
    assert res["ledger"]["flows"][0]["location"] == "mainland"
    assert res["receipts"]["region"] == "ap-southeast-1"
    assert res["receipts"]["in_scope"] is False  # an explicit provider: no stack default tags
    # encrypted tags cannot rule out classified data (fail-closed)
    assert res["apiToken"]["in_scope"] is True
    assert verdicts(report) == [("CII001", "apiToken")]


def test_pulumi_json_is_recognised_by_content_not_name(tmp_path: Path) -> None:
    export = json.loads((P / "state" / "payments-prod.json").read_text())
    target = tmp_path / "whatever-name.json"
    target.write_text(json.dumps(export))
    (tmp_path / "package.json").write_text('{"name": "not-pulumi", "version": "1.0.0"}')
    code, report = scan(tmp_path, "--no-cache")
    assert report["errors"] == []
    assert {r["file"] for r in report["resources"]} == {str(target)}
    assert code == 1


def test_checkpoint_of_a_self_managed_backend(tmp_path: Path) -> None:
    deployment = json.loads((P / "state" / "payments-prod.json").read_text())["deployment"]
    target = tmp_path / "prod.json"
    target.write_text(
        json.dumps({"version": 3, "checkpoint": {"stack": "prod", "latest": deployment}})
    )
    code, report = scan(target, "--no-cache")
    assert verdicts(report) == [("CII001", "apiToken")]
    assert code == 1


def test_utf16_preview_written_by_powershell(tmp_path: Path) -> None:
    target = tmp_path / "preview.json"
    target.write_bytes(
        b"\xff\xfe" + (P / "preview" / "compliant.json").read_text().encode("utf-16-le")
    )
    code, report = scan(target, "--no-cache")
    assert (code, report["errors"]) == (0, [])
    assert len(report["resources"]) == 3


def test_malformed_json_is_an_error_with_line() -> None:
    run = run_cli("scan", str(P / "preview" / "truncated.json"))
    assert run.code == 2
    assert "error: tests/fixtures/pulumi/preview/truncated.json:11: JSON syntax error" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


def test_provider_missing_from_the_file_is_unknown(tmp_path: Path) -> None:
    doc = json.loads((P / "preview" / "cross-border.json").read_text())
    doc["steps"] = [s for s in doc["steps"] if not s["urn"].endswith("::hongkong")]
    doc["config"] = {}
    target = tmp_path / "partial.json"
    target.write_text(json.dumps(doc))
    code, report = scan(target, "--no-cache")
    replica = by_name(report)["ordersReplica"]
    assert replica["location"] == "unknown"
    assert "not in" in replica["provenance"]
    assert ("CII003", "ordersReplica") in verdicts(report)
    assert code == 1


def test_unknown_sentinel_everywhere_is_never_inside(tmp_path: Path) -> None:
    doc = json.loads((P / "preview" / "compliant.json").read_text())
    for step in doc["steps"]:
        state = step.get("newState", {})
        if state.get("type") == "pulumi:providers:aws" and "default" in state["urn"]:
            state["inputs"]["region"] = UNKNOWN
    target = tmp_path / "preview.json"
    target.write_text(json.dumps(doc))
    code, report = scan(target, "--no-cache")
    orders = by_name(report)["orders"]
    assert orders["location"] == "unknown"
    assert ("CII003", "orders") in verdicts(report)
    assert code == 1


def test_max_file_size_applies_to_pulumi_inputs() -> None:
    for path in (P / "state" / "payments-prod.json", P / "yaml" / "compliant"):
        run = run_cli("scan", str(path), "--max-file-size", "512B", "--no-cache")
        assert run.code == 2
        assert "file is larger than the limit (512B)" in run.stdout
