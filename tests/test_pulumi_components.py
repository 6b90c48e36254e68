"""Components implemented in another language (awsx, eks) never pass silently: where their
children are not there to check, each is CII003 naming the component and its package."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES, run_cli

C = FIXTURES / "pulumi" / "components"


def findings(name: str, *extra: str) -> tuple[int, list[tuple[str, str]], dict]:
    run = run_cli("scan", str(C / name), "--no-cache", "--format", "json", *extra)
    got = [(v["policy"], v["resource"].rsplit("::", 2)[-2]) for v in run.json["violations"]]
    return run.code, got, run.json


def test_a_python_program_s_remote_component_is_cii003_and_local_ones_are_expanded() -> None:
    code, got, report = findings("python", "--run-programs")
    assert code == 1 and report["errors"] == []
    assert got == [("CII003", "eks:index:Cluster")]
    (v,) = report["violations"]
    assert "package eks" in v["message"] and "pulumi preview --json" in v["fix"]
    # it says what was not seen: a component's children, not configuration it could not read
    assert v["evidence"] == "a component whose children were not seen"
    # the program's own component registered its bucket: checked (and in China: no finding)
    assert [r["type"] for r in report["resources"]] == ["aws_s3_bucket"]


def test_a_yaml_program_s_component_package_resource_is_cii003() -> None:
    code, got, report = findings("yaml")
    assert code == 1
    assert got == [("CII003", "awsx:ecr/repository:Repository")]
    assert "package awsx" in report["violations"][0]["message"]
    assert report["violations"][0]["evidence"] == "a component whose children were not seen"


def test_preview_json_flags_only_the_component_listed_without_children() -> None:
    code, got, _ = findings("preview.json")
    assert code == 1
    assert got == [("CII003", "awsx:ecr:Repository")]  # the Vpc's children are listed


def test_a_real_awsx_component_is_cii003_and_the_program_runs_on() -> None:
    """``awsx.ec2.Vpc`` from the real package: the mocks gave its inputs back as its outputs and
    the SDK, checking them against the output types (``nat_gateways`` is a list of gateways, not
    the strategy given), stopped the program: exit 2 (fifth audit: pulumi/examples
    aws-py-hub-and-spoke-network). A component's outputs are unknown now."""
    pytest.importorskip(
        "pulumi_awsx", reason="pulumi-awsx is a dev dependency (pip install -e '.[dev]')"
    )
    code, got, report = findings("python-awsx", "--run-programs")
    assert (code, report["errors"]) == (1, [])
    assert got == [("CII003", "awsx:ec2:Vpc")]
    assert sorted(r["type"] for r in report["resources"]) == [
        "aws:ec2/securityGroup:SecurityGroup",
        "aws_s3_bucket",
    ]


def test_a_package_ciiguard_does_not_know_never_passes_silently() -> None:
    """``aws-native`` (Cloud Control, tags as a list of key and value) and component packages
    missing from the catalogue's list: their resources were neither data-bearing nor reported,
    so a personal bucket in us-east-1 passed with exit 0 (sixteenth audit: pulumi/examples
    aws-yaml-static-website). Tagged, each is CII003; untagged, a warning names the package
    (also under --cii-workload, which cannot tell whether they hold data); utility packages such
    as ``random`` are neither."""
    folder = FIXTURES / "pulumi" / "unknown-packages"
    for extra in ((), ("--cii-workload",)):
        run = run_cli("scan", str(folder), "--no-cache", "--format", "json", *extra)
        assert run.code == 1, run.stderr
        got = sorted((v["policy"], v["resource"].rsplit("::", 1)[1]) for v in run.json["violations"])
        assert got == [("CII003", "customers"), ("CII003", "customers"), ("CII003", "patients-db")]
        named = sorted(
            (w["file"].rsplit("/", 1)[1], w["message"].split(" were not checked")[0])
            for w in run.json["warnings"]
        )
        assert named == [
            ("Pulumi.yaml", "1 resource(s) of package aws-native"),
            ("Pulumi.yaml", "1 resource(s) of package aws-quickstart-aurora-postgres"),
            ("Pulumi.yaml", "1 resource(s) of package synced-folder"),
            ("preview.json", "1 resource(s) of package aws-native"),
        ]


def test_a_component_s_finding_is_headed_by_its_name_and_type() -> None:
    """Every other Pulumi finding reads ``name (type)`` with the URN below; a component's (no
    resource of the scan) was headed by its raw URN (twelfth and sixteenth audits)."""
    run = run_cli("scan", str(C / "yaml"), "--no-cache")
    heading = next(line for line in run.stdout.splitlines() if line.startswith("CII003"))
    assert heading.endswith(" (awsx:ecr/repository:Repository)"), heading
    assert "urn:pulumi:" not in heading
    assert "  urn:    urn:pulumi:" in run.stdout
