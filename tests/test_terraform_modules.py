"""Modules, provider passing, count/for_each, dynamic blocks, remote modules: as Terraform resolves them."""

from __future__ import annotations

from tests.conftest import FIXTURES, run_cli

M = FIXTURES / "modules"


def scan(case: str, *extra: str) -> tuple[int, dict]:
    run = run_cli("scan", str(M / case), "--format", "json", *extra)
    return run.code, run.json


def regions(report: dict) -> dict[str, tuple[str | None, str]]:
    return {r["address"]: (r["region"], r["location"]) for r in report["resources"]}


def violations(report: dict) -> set[tuple[str, str]]:
    return {(v["policy"], v["resource"]) for v in report["violations"]}


def test_nested_modules_provider_passing_and_inheritance() -> None:
    code, report = scan("nested")
    got = regions(report)
    us, cn = ("us-west-2", "outside"), ("cn-north-1", "mainland")
    assert got == {
        "module.store.aws_s3_bucket.this": us,  # providers = { aws = aws.us }
        "module.store.module.inner.aws_dynamodb_table.t": us,  # inherited two levels down
        "module.inherit.aws_s3_bucket.this": cn,  # implicit inheritance of the default provider
        "module.inherit.module.inner.aws_dynamodb_table.t": cn,
        'module.fe["a"].aws_s3_bucket.this': cn,
        'module.fe["b"].aws_s3_bucket.this': cn,
        'module.fe["a"].module.inner.aws_dynamodb_table.t': cn,
        'module.fe["b"].module.inner.aws_dynamodb_table.t': cn,
        "module.counted[0].aws_s3_bucket.this": us,
        "module.counted[1].aws_s3_bucket.this": us,
        "module.counted[0].module.inner.aws_dynamodb_table.t": us,
        "module.counted[1].module.inner.aws_dynamodb_table.t": us,
    }
    assert violations(report) == {("CII001", a) for a, v in got.items() if v == us}
    assert code == 1


def test_module_inputs_evaluated_in_caller_scope_with_provenance() -> None:
    run = run_cli(
        "scan", str(M / "nested"), "--explain", "module.store.module.inner.aws_dynamodb_table.t"
    )
    assert run.code == 0
    assert "provider aws.us" in run.stdout and "main.tf:7" in run.stdout
    assert "us-west-2" in run.stdout and "outside" in run.stdout


def test_data_aws_region_takes_the_provider_region() -> None:
    from pathlib import Path

    from ciiguard.plugins.manager import build
    from ciiguard.scan import scan as do_scan
    from ciiguard.settings import Settings

    result = do_scan([M / "nested"], Settings(), build(autoload=False))
    tables = {r.address: r.tags["home"] for r in result.resources if r.type == "aws_dynamodb_table"}
    assert tables["module.store.module.inner.aws_dynamodb_table.t"] == "us-west-2"
    assert tables["module.inherit.module.inner.aws_dynamodb_table.t"] == "cn-north-1"
    assert Path(M / "nested").is_dir()


def test_remote_module_from_modules_json_is_scanned() -> None:
    code, report = scan("remote")
    assert regions(report) == {"module.logs.aws_s3_bucket.this": ("eu-west-1", "outside")}
    assert violations(report) == {("CII001", "module.logs.aws_s3_bucket.this")}
    assert code == 1


def test_remote_module_not_downloaded_is_one_blocking_finding() -> None:
    code, report = scan("remote-missing")
    assert violations(report) == {("CII003", "module.vpc_logs")}
    v = report["violations"][0]
    assert (
        "git::https://example.com/acme/logs.git" in v["message"]
        and v["line"] == 5
        and v["blocking"]
    )
    assert code == 1


def test_module_outside_root_is_refused_unless_allowed() -> None:
    code, report = scan("outside/inner")
    assert code == 2
    assert "outside the scanned directory" in report["errors"][0]["message"]
    code, report = scan("outside/inner", "--allow-outside-root")
    assert violations(report) == set() and code == 0
    assert regions(report) == {"module.shared.aws_s3_bucket.shared": ("cn-north-1", "mainland")}


def test_module_cycle_is_an_error_not_a_hang() -> None:
    code, report = scan("cycle")
    assert code == 2
    assert any("module cycle" in e["message"] for e in report["errors"])


def test_count_for_each_dynamic_and_limits() -> None:
    code, report = scan("expansion")
    got = regions(report)
    assert got['aws_s3_bucket.regional["archive"]'] == ("ap-east-1", "outside")
    assert got['aws_s3_bucket.regional["logs"]'] == ("cn-northwest-1", "mainland")
    assert got["aws_s3_bucket.listed[0]"] == ("cn-north-1", "mainland")
    assert got["aws_s3_bucket.listed[1]"] == ("us-east-1", "outside")
    assert got['aws_s3_bucket.set["cn-north-1"]'] == ("cn-north-1", "mainland")
    assert not any(a.startswith("aws_s3_bucket.disabled") for a in got)  # count = 0: not deployed
    assert violations(report) == {
        ("CII001", 'aws_s3_bucket.regional["archive"]'),
        ("CII001", "aws_s3_bucket.listed[1]"),
        ("CII003", "aws_s3_bucket.huge"),  # count = 100000000: a finding, not a hang
        ("CII002", "aws_dynamodb_table.global"),  # dynamic "replica" with a custom iterator
    }
    cii002 = next(v for v in report["violations"] if v["policy"] == "CII002")
    assert cii002["region"] == "ap-east-2" and "replica[1].region_name" in cii002["message"]
    assert code == 1
