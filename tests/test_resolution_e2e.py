"""End to end through the installed command: each way a region is decided, with exit code and JSON."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES, clean_env, run_cli

R = FIXTURES / "resolution"


def scan_json(case: str, *extra: str, env: dict[str, str] | None = None) -> tuple[int, dict]:
    run = run_cli("scan", str(R / case), "--format", "json", *extra, env=env)
    assert run.stderr == "" or run.code == 2, run.stderr
    return run.code, run.json


def only(report: dict, address: str = "aws_s3_bucket.b") -> dict:
    return next(r for r in report["resources"] if r["address"] == address)


@pytest.mark.parametrize(
    ("case", "extra", "region", "location", "policy", "chain_part"),
    [
        ("literal", (), "eu-west-1", "outside", "CII001", "provider aws"),
        ("var-default", (), "us-west-2", "outside", "CII001", "var.region"),
        ("tfvars", (), "ap-south-1", "outside", "CII001", "terraform.tfvars:2"),
        ("auto-tfvars", (), "sa-east-1", "outside", "CII001", "b.auto.tfvars.json"),
        ("cli-var", ("--var", "region=me-south-1"), "me-south-1", "outside", "CII001", "--var"),
        ("alias", (), "us-west-1", "outside", "CII001", "provider aws.west"),
        ("resource-region", (), "ap-northeast-2", "outside", "CII001", "region argument"),
        ("conditional", (), "eu-west-3", "outside", "CII001", "var.prod"),
        ("local-map", (), "ap-southeast-2", "outside", "CII001", "local.region"),
        ("interpolation", (), "us-east-1", "outside", "CII001", "var.geo"),
        ("mainland", (), "cn-northwest-1", "mainland", None, "provider aws"),
    ],
)
def test_region_resolution_paths(case, extra, region, location, policy, chain_part) -> None:
    code, report = scan_json(case, *extra)
    r = only(report)
    assert (r["region"], r["location"]) == (region, location)
    assert chain_part in r["provenance"]
    policies = [v["policy"] for v in report["violations"]]
    assert policies == ([policy] if policy else [])
    assert code == (1 if policy else 0)
    if policy:
        v = report["violations"][0]
        assert (
            v["resource"] == "aws_s3_bucket.b" and v["blocking"] is True and v["region"] == region
        )


def test_tf_var_environment_sits_below_tfvars_but_above_default() -> None:
    code, report = scan_json("tf-var-env", env=clean_env(TF_VAR_region="eu-north-1"))
    assert only(report)["region"] == "eu-north-1"
    assert "TF_VAR_region" in only(report)["provenance"]
    assert code == 1
    code, report = scan_json("tfvars", env=clean_env(TF_VAR_region="eu-north-1"))
    assert only(report)["region"] == "ap-south-1"  # terraform.tfvars beats TF_VAR_


def test_var_and_var_file_follow_command_line_order(tmp_path) -> None:
    vf = tmp_path / "x.tfvars"
    vf.write_text('region = "us-east-2"\n')
    _, report = scan_json("cli-var", "--var", "region=eu-west-2", "--var-file", str(vf))
    assert only(report)["region"] == "us-east-2"
    _, report = scan_json("cli-var", "--var-file", str(vf), "--var", "region=cn-north-1")
    assert only(report)["region"] == "cn-north-1"
    assert report["violations"] == []


def test_default_tags_merge_under_resource_tags() -> None:
    code, report = scan_json("default-tags")
    b = only(report)
    assert b["classification"] == "important" and b["in_scope"] is True
    override = only(report, "aws_s3_bucket.override")
    assert override["in_scope"] is False
    assert [(v["policy"], v["resource"]) for v in report["violations"]] == [
        ("CII001", "aws_s3_bucket.b")
    ]
    assert code == 1


def test_unresolved_variable_is_cii003_unknown() -> None:
    code, report = scan_json("unknown")
    r = only(report)
    assert r["region"] is None and r["location"] == "unknown"
    assert [v["policy"] for v in report["violations"]] == ["CII003"]
    assert "var.region has no value" in report["violations"][0]["message"]
    assert code == 1


def test_environment_default_region_as_terraform_reads_it() -> None:
    code, report = scan_json("env-default", env=clean_env(AWS_REGION="us-east-1"))
    assert only(report)["region"] == "us-east-1" and code == 1
    assert "environment AWS_REGION" in only(report)["provenance"]
    code, report = scan_json("env-default", env=clean_env(AWS_DEFAULT_REGION="cn-north-1"))
    assert only(report)["location"] == "mainland" and code == 0
    code, report = scan_json("env-default")
    assert only(report)["location"] == "unknown" and code == 1
    assert report["violations"][0]["policy"] == "CII003"


def test_untagged_resource_is_out_of_scope_unless_cii_workload() -> None:
    code, report = scan_json("untagged")
    assert code == 0 and report["violations"] == []
    code, report = scan_json("untagged", "--cii-workload")
    assert code == 1 and [v["policy"] for v in report["violations"]] == ["CII001"]
