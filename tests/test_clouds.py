"""Every cloud used in China, end to end through the installed command (issue #6).

Each cloud has four Terraform fixtures under ``tests/fixtures/clouds/<cloud>/``: ``inside`` (every
data-bearing type in mainland regions, replication kept inside), ``outside``, ``trap`` (ids that
look mainland but are not, or mean another place at another cloud) and ``replication`` (data
leaving through every replication argument). The catalogue-coverage test proves that every
data-bearing type and every replication rule of the catalogue is exercised by some fixture.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ciiguard.catalogue import Catalogue, load_builtin
from tests.conftest import FIXTURES, ROOT, clean_env, run_cli

CLOUDS_DIR = FIXTURES / "clouds"
CLOUDS = ("aws", "alicloud", "azure", "tencentcloud", "huaweicloud", "google")
CASES = ("inside", "outside", "trap", "replication")

# (cloud, case, exit code, sorted (policy, address) pairs): what the gate must report, exactly.
EXPECTED: list[tuple[str, str, int, list[tuple[str, str]]]] = [
    ("aws", "inside", 0, []),
    (
        "aws",
        "outside",
        1,
        [
            ("CII001", "aws_rds_cluster.ledger"),
            ("CII001", "aws_s3_bucket.customers"),
        ],
    ),
    (
        "aws",
        "trap",
        1,
        [
            ("CII001", "aws_dynamodb_table.taipei"),
            ("CII001", "aws_ebs_snapshot_copy.hk_to_tokyo"),
            ("CII001", "aws_efs_file_system.own_region"),
            ("CII001", "aws_s3_bucket.hk"),
            ("CII003", "aws_backup_plan.to_global_partition"),
        ],
    ),
    (
        "aws",
        "replication",
        1,
        [
            ("CII001", "aws_ami_copy.hk"),
            ("CII001", "aws_backup_vault.hk"),
            ("CII001", "aws_db_instance_automated_backups_replication.hk"),
            ("CII001", "aws_docdb_cluster.hk"),
            ("CII001", "aws_ebs_snapshot_copy.hk"),
            ("CII001", "aws_elasticache_replication_group.hk"),
            ("CII001", "aws_neptune_cluster.hk"),
            ("CII001", "aws_rds_cluster.hk"),
            ("CII001", "aws_s3_bucket.hk"),
            ("CII002", "aws_ami_copy.hk"),
            ("CII002", "aws_backup_plan.offsite"),
            ("CII002", "aws_backup_plan.offsite"),
            ("CII002", "aws_db_instance_automated_backups_replication.hk"),
            ("CII002", "aws_docdb_cluster.hk"),
            ("CII002", "aws_ebs_snapshot_copy.hk"),
            ("CII002", "aws_ecr_replication_configuration.registry"),
            ("CII002", "aws_efs_replication_configuration.home"),
            ("CII002", "aws_elasticache_replication_group.hk"),
            ("CII002", "aws_kms_replica_key.hk"),
            ("CII002", "aws_neptune_cluster.hk"),
            ("CII002", "aws_rds_cluster.hk"),
            ("CII002", "aws_redshift_snapshot_copy.dw"),
            ("CII002", "aws_s3control_multi_region_access_point.global"),
        ],
    ),
    ("alicloud", "inside", 0, []),
    (
        "alicloud",
        "outside",
        1,
        [
            ("CII001", "alicloud_db_instance.ledger"),
            ("CII001", "alicloud_oss_bucket.customers"),
        ],
    ),
    (
        "alicloud",
        "trap",
        1,
        [
            ("CII001", "alicloud_oss_bucket.hk"),
            ("CII003", "alicloud_kvstore_instance.typo"),
        ],
    ),
    (
        "alicloud",
        "replication",
        1,
        [
            ("CII001", "alicloud_hbr_replication_vault.backup_hk"),
            ("CII001", "alicloud_image_copy.app_hk"),
            ("CII001", "alicloud_oss_bucket.orders_hk"),
            ("CII002", "alicloud_dts_synchronization_job.to_hk"),
            ("CII002", "alicloud_ebs_disk_replica_pair.data"),
            ("CII002", "alicloud_hbr_replication_vault.backup_hk"),
            ("CII002", "alicloud_image_copy.app_hk"),
            ("CII002", "alicloud_oss_bucket_replication.to_hk"),
            ("CII002", "alicloud_oss_bucket_replication.to_sg"),
            ("CII002", "alicloud_polardb_backup_policy.ledger"),
            ("CII002", "alicloud_polardb_backup_policy.ledger2"),
            ("CII002", "alicloud_rds_instance_cross_backup_policy.main"),
        ],
    ),
    ("azure", "inside", 0, []),
    (
        "azure",
        "outside",
        1,
        [
            ("CII001", "azurerm_postgresql_flexible_server.ledger"),
            ("CII001", "azurerm_storage_account.customers"),
        ],
    ),
    (
        "azure",
        "trap",
        1,
        [
            ("CII001", "azurerm_cosmosdb_account.hk"),
            ("CII001", "azurerm_key_vault.hk"),
        ],
    ),
    (
        "azure",
        "replication",
        1,
        [
            ("CII001", "azurerm_mssql_server.hk"),
            ("CII001", "azurerm_storage_account.global_grs"),
            ("CII001", "azurerm_storage_account.orders_hk"),
            ("CII002", "azurerm_cosmosdb_account.docs"),
            ("CII002", "azurerm_mssql_failover_group.orders"),
            ("CII002", "azurerm_storage_object_replication.to_hk"),
        ],
    ),
    ("tencentcloud", "inside", 0, []),
    (
        "tencentcloud",
        "outside",
        1,
        [
            ("CII001", "tencentcloud_cos_bucket.customers"),
            ("CII001", "tencentcloud_mysql_instance.ledger"),
        ],
    ),
    (
        "tencentcloud",
        "trap",
        1,
        [
            ("CII001", "tencentcloud_cos_bucket.hk"),
            ("CII001", "tencentcloud_redis_instance.taipei"),
            ("CII003", "tencentcloud_cbs_storage.zone"),
        ],
    ),
    (
        "tencentcloud",
        "replication",
        1,
        [
            ("CII001", "tencentcloud_cos_bucket.orders_hk"),
            ("CII002", "tencentcloud_cbs_copy_snapshot_cross_region.to_many"),
            ("CII002", "tencentcloud_cbs_copy_snapshot_cross_region.to_sg"),
            ("CII002", "tencentcloud_cos_bucket.orders"),
        ],
    ),
    ("huaweicloud", "inside", 0, []),
    (
        "huaweicloud",
        "outside",
        1,
        [
            ("CII001", "huaweicloud_obs_bucket.customers"),
            ("CII001", "huaweicloud_rds_instance.ledger"),
        ],
    ),
    (
        "huaweicloud",
        "trap",
        1,
        [
            ("CII001", "huaweicloud_obs_bucket.hk"),
        ],
    ),
    (
        "huaweicloud",
        "replication",
        1,
        [
            ("CII001", "huaweicloud_cbr_vault.backup_hk"),
            ("CII001", "huaweicloud_obs_bucket.orders_hk"),
            ("CII002", "huaweicloud_cbr_policy.replicate"),
            ("CII002", "huaweicloud_cbr_vault.backup"),
            ("CII002", "huaweicloud_images_image_copy.app"),
            ("CII002", "huaweicloud_obs_bucket_replication.to_hk"),
            ("CII002", "huaweicloud_rds_cross_region_backup_strategy.main"),
        ],
    ),
    ("google", "inside", 0, []),
    (
        "google",
        "outside",
        1,
        [
            ("CII001", "google_bigquery_dataset.ledger"),
            ("CII001", "google_storage_bucket.customers"),
        ],
    ),
    (
        "google",
        "trap",
        1,
        [
            ("CII001", "google_bigtable_instance.hk"),
            ("CII001", "google_spanner_instance.taiwan"),
        ],
    ),
    (
        "google",
        "replication",
        1,
        [
            ("CII001", "google_sql_database_instance.primary"),
            ("CII001", "google_sql_database_instance.replica"),
            ("CII001", "google_storage_bucket.dual"),
        ],
    ),
]

_RUNS: dict[tuple[str, ...], Any] = {}


@pytest.fixture(scope="module")
def cache_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A private result cache, so a cache filled by an older ciiguard never answers these runs."""
    return clean_env(CIIGUARD_CACHE_DIR=str(tmp_path_factory.mktemp("cache")))


def scan(path: Path, env: dict[str, str], *extra: str) -> tuple[int, dict[str, Any]]:
    key = (str(path), *extra, *sorted(f"{k}={v}" for k, v in env.items() if "REGION" in k))
    if key not in _RUNS:
        run = run_cli("scan", str(path), "--format", "json", *extra, env=env)
        assert run.code in (0, 1), run.stderr
        _RUNS[key] = (run.code, run.json)
    code, report = _RUNS[key]
    return code, report


def pairs(report: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((v["policy"], v["resource"]) for v in report["violations"])


def resource(report: dict[str, Any], address: str) -> dict[str, Any]:
    return next(r for r in report["resources"] if r["address"] == address)


@pytest.mark.parametrize(("cloud", "case", "code", "expected"), EXPECTED, ids=lambda x: str(x))
def test_cloud_fixture_verdicts(
    cloud: str, case: str, code: int, expected: list[tuple[str, str]], cache_env: dict[str, str]
) -> None:
    got_code, report = scan(CLOUDS_DIR / cloud / case, cache_env)
    assert report["errors"] == []
    assert pairs(report) == expected
    assert got_code == code


def test_every_cloud_has_the_four_fixtures() -> None:
    assert {(c, k) for c, k, _, _ in EXPECTED} == {(c, k) for c in CLOUDS for k in CASES}
    for cloud in CLOUDS:
        for case in CASES:
            assert (CLOUDS_DIR / cloud / case / "main.tf").is_file()


def test_inside_fixtures_locate_every_resource_in_the_mainland(cache_env: dict[str, str]) -> None:
    for cloud in CLOUDS:
        if cloud == "google":
            continue  # no mainland region at all: its "inside" is out-of-scope data only
        _, report = scan(CLOUDS_DIR / cloud / "inside", cache_env)
        where = {r["address"]: r["location"] for r in report["resources"] if r["data_bearing"]}
        assert set(where.values()) == {"mainland"}, where
        assert all(f["location"] == "mainland" for r in report["resources"] for f in r["flows"])


def _rule_regex(path: str) -> re.Pattern[str]:
    """A rule path (``rule[].destination[].bucket``, ``policy~json.arn``) as the concrete argument
    paths flows report (``rule[0].destination[0].bucket``, ``policy.arn``)."""
    pattern = re.escape(path.replace("~json", "")).replace(r"\[\]", r"\[\d+\]")
    return re.compile("^" + pattern + "$")


EGRESS_DIR = FIXTURES / "egress"  # every egress path per cloud (tests/test_egress.py, #17)
EGRESS_CASES = ("inside", "outside", "unknown")


def test_catalogue_coverage_every_type_and_rule_is_exercised(cache_env: dict[str, str]) -> None:
    """Every data-bearing type, every flow rule and every ``located_by`` rule of the catalogue
    appears in a fixture: the clouds' fixtures here, the egress paths' in tests/fixtures/egress."""
    catalogue = Catalogue(load_builtin())
    seen_types: set[str] = set()
    seen_flows: set[tuple[str, str]] = set()
    provenance: list[tuple[str, str]] = []
    dirs = [CLOUDS_DIR / cloud / case for cloud in CLOUDS for case in CASES]
    dirs += [EGRESS_DIR / cloud / case for cloud in CLOUDS for case in EGRESS_CASES]
    # the ARM shapes (azapi_resource bodies, azure-native inputs)
    dirs += [CLOUDS_DIR / "azure-azapi", CLOUDS_DIR / "azure-native-sku"]
    families = FIXTURES / "families"  # the Chinese clouds' every family and flow (#18)
    dirs += sorted(p for p in families.glob("*/*") if (p / "main.tf").is_file())
    audit = FIXTURES / "egress-audit"  # paths and stores found by auditing public modules
    dirs += sorted(p for p in audit.iterdir() if (p / "main.tf").is_file())
    # a directory with its own config is scanned on its own; the others in one command (one
    # process start instead of about 200: each directory is a root module of its own, and
    # resolution never crosses roots)
    configured = [p for p in dirs if (p / "ciiguard.toml").is_file()]
    reports = [scan(p, cache_env, "--config", str(p / "ciiguard.toml"))[1] for p in configured]
    plain = [str(p) for p in dirs if p not in configured]
    together = run_cli("scan", *plain, "--format", "json", env=cache_env)
    assert together.code in (0, 1), together.stderr
    read = {(ROOT / r["file"]).resolve().parent for r in together.json["resources"]}
    assert [p for p in plain if Path(p).resolve() not in read] == []  # each one was read
    reports.append(together.json)
    for report in reports:
        for r in report["resources"]:
            if r["data_bearing"]:
                seen_types.add(r["type"])
            seen_flows.update((r["type"], f["argument"]) for f in r["flows"])
            provenance.append((r["type"], r["provenance"]))
    missing_types = sorted(set(catalogue.data_bearing) - seen_types)
    assert missing_types == [], f"data-bearing types no fixture declares: {missing_types}"
    missing_rules = [
        (rule.type, rule.path)
        for rules in catalogue.replication.values()
        for rule in rules
        if not any(t == rule.type and _rule_regex(rule.path).match(a) for t, a in seen_flows)
    ]
    assert missing_rules == [], f"flow rules no fixture exercises: {missing_rules}"
    located = re.compile(r"^(\S+) of \S+: it (?:stands for|is placed in) ")
    seen_located = {
        (t, m.group(1)) for t, text in provenance if (m := located.match(text)) is not None
    }
    missing_located = [
        (rule.type, rule.path)
        for rules in catalogue.located_by.values()
        for rule in rules
        if not any(t == rule.type and _rule_regex(rule.path).match(a) for t, a in seen_located)
    ]
    assert missing_located == [], f"located_by rules no fixture exercises: {missing_located}"


def test_untagged_replicas_are_reported_because_they_hold_their_source(
    cache_env: dict[str, str],
) -> None:
    """A replica holds what its source holds: every untagged foreign receiver becomes in scope."""
    receivers = {
        "aws": [
            "aws_backup_vault.hk",
            "aws_rds_cluster.hk",
            "aws_docdb_cluster.hk",
            "aws_neptune_cluster.hk",
            "aws_elasticache_replication_group.hk",
            "aws_s3_bucket.hk",
            "aws_ebs_snapshot_copy.hk",
            "aws_ami_copy.hk",
            "aws_db_instance_automated_backups_replication.hk",
        ],
        "alicloud": [
            "alicloud_oss_bucket.orders_hk",
            "alicloud_hbr_replication_vault.backup_hk",
            "alicloud_image_copy.app_hk",
        ],
        "azure": ["azurerm_storage_account.orders_hk", "azurerm_mssql_server.hk"],
        "tencentcloud": ["tencentcloud_cos_bucket.orders_hk"],
        "huaweicloud": ["huaweicloud_obs_bucket.orders_hk", "huaweicloud_cbr_vault.backup_hk"],
        "google": ["google_sql_database_instance.replica"],
    }
    for cloud, addresses in receivers.items():
        _, report = scan(CLOUDS_DIR / cloud / "replication", cache_env)
        for address in addresses:
            r = resource(report, address)
            assert r["in_scope"] and r["location"] == "outside", (cloud, r)
            assert ("CII001", address) in pairs(report)


@pytest.mark.parametrize(
    ("cloud", "address", "default", "env", "value"),
    [
        (
            "alicloud",
            "alicloud_oss_bucket.orders",
            "cn-beijing",
            "ALIBABA_CLOUD_REGION",
            "cn-hongkong",
        ),
        (
            "alicloud",
            "alicloud_oss_bucket.orders",
            "cn-beijing",
            "ALICLOUD_REGION",
            "ap-southeast-1",
        ),
        (
            "tencentcloud",
            "tencentcloud_cos_bucket.orders",
            "ap-guangzhou",
            "TENCENTCLOUD_REGION",
            "ap-hongkong",
        ),
    ],
)
def test_provider_default_region_and_its_environment_variables(
    cloud: str, address: str, default: str, env: str, value: str, cache_env: dict[str, str]
) -> None:
    code, report = scan(CLOUDS_DIR / cloud / "inside", cache_env)
    r = resource(report, address)
    assert (r["region"], r["location"], code) == (default, "mainland", 0)
    assert "default region" in r["provenance"]
    code, report = scan(CLOUDS_DIR / cloud / "inside", {**cache_env, env: value})
    r = resource(report, address)
    assert (r["region"], r["location"], code) == (value, "outside", 1)
    assert f"environment {env}" in r["provenance"]
    assert ("CII001", address) in pairs(report)


@pytest.mark.parametrize(
    ("cloud", "address", "first", "second", "expected_location", "code"),
    [
        # alicloud/provider.go: MultiEnvDefaultFunc([]string{"ALICLOUD_REGION", "ALIBABA_CLOUD_REGION"})
        ("alicloud", "alicloud_oss_bucket.orders", "cn-hongkong", "cn-beijing", "outside", 1),
        ("alicloud", "alicloud_oss_bucket.orders", "cn-beijing", "cn-hongkong", "mainland", 0),
    ],
)
def test_with_both_alibaba_variables_set_the_provider_reads_alicloud_region_first(
    cloud: str,
    address: str,
    first: str,
    second: str,
    expected_location: str,
    code: int,
    cache_env: dict[str, str],
) -> None:
    env = {**cache_env, "ALICLOUD_REGION": first, "ALIBABA_CLOUD_REGION": second}
    got, report = scan(CLOUDS_DIR / cloud / "inside", env)
    r = resource(report, address)
    assert (got, r["region"], r["location"]) == (code, first, expected_location)
    assert "environment ALICLOUD_REGION" in r["provenance"]


def test_huawei_reads_os_region_name_after_hw_region_name(
    tmp_path: Path, cache_env: dict[str, str]
) -> None:
    """huaweicloud/provider.go: MultiEnvDefaultFunc([]string{"HW_REGION_NAME", "OS_REGION_NAME"})."""
    (tmp_path / "main.tf").write_text(
        'resource "huaweicloud_obs_bucket" "b" {\n'
        '  tags = { "data-classification" = "personal" }\n}\n'
    )
    address = "huaweicloud_obs_bucket.b"
    code, report = scan(tmp_path, {**cache_env, "OS_REGION_NAME": "ap-southeast-1"})
    r = resource(report, address)
    assert (code, r["region"], r["location"]) == (1, "ap-southeast-1", "outside")
    assert "environment OS_REGION_NAME" in r["provenance"]
    env = {**cache_env, "HW_REGION_NAME": "cn-north-4", "OS_REGION_NAME": "ap-southeast-1"}
    code, report = scan(tmp_path, env)
    r = resource(report, address)
    assert (code, r["region"], r["location"]) == (0, "cn-north-4", "mainland")


_EMPTY_REGION_BUCKET = {
    "alicloud_oss_bucket.b": 'resource "alicloud_oss_bucket" "b" {\n  bucket = "b"\n'
    '  tags = { "data-classification" = "personal" }\n}\n'
}


def _empty_region_plan(path: Path) -> None:
    """A plan of the same configuration (no provider can be downloaded here, so it is written
    in the shape Terraform 1.11 gives: the provider's region expression a constant "")."""
    values = {"bucket": "b", "tags": {"data-classification": "personal"}}
    bucket = {"address": "alicloud_oss_bucket.b", "mode": "managed", "type": "alicloud_oss_bucket",
              "name": "b", "provider_name": "registry.terraform.io/aliyun/alicloud"}  # fmt: skip
    path.write_text(json.dumps({
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "planned_values": {"root_module": {"resources": [{**bucket, "schema_version": 0, "values": values}]}},
        "resource_changes": [{**bucket, "change": {"actions": ["create"], "before": None, "after": values,
                                                   "after_unknown": {"id": True}}}],
        "configuration": {
            "provider_config": {"alicloud": {"name": "alicloud", "full_name": "registry.terraform.io/aliyun/alicloud",
                                             "expressions": {"region": {"constant_value": ""}}}},
            "root_module": {"resources": [{"address": "alicloud_oss_bucket.b", "mode": "managed",
                                           "type": "alicloud_oss_bucket", "name": "b",
                                           "provider_config_key": "alicloud", "schema_version": 0,
                                           "expressions": {"bucket": {"constant_value": "b"}}}]},
        },
    }))  # fmt: skip


@pytest.mark.parametrize("form", ["hcl", "plan"])
def test_a_provider_region_of_the_empty_string_is_unset(
    form: str, tmp_path: Path, cache_env: dict[str, str]
) -> None:
    """The provider reads ``region = ""`` as no region (SDKv2 cannot tell them apart), as the
    Pulumi reader already did: its environment variable, else its default, decides. It was an
    unknown region (CII003) here."""
    if form == "hcl":
        (tmp_path / "main.tf").write_text(
            'provider "alicloud" {\n  region = ""\n}\n'
            + _EMPTY_REGION_BUCKET["alicloud_oss_bucket.b"]
        )
        target = tmp_path
    else:
        target = tmp_path / "plan.json"
        _empty_region_plan(target)
    code, report = scan(target, cache_env)
    r = resource(report, "alicloud_oss_bucket.b")
    assert (code, r["region"], r["location"]) == (0, "cn-beijing", "mainland"), r
    assert "default region" in r["provenance"]
    code, report = scan(target, {**cache_env, "ALICLOUD_REGION": "cn-hongkong"})
    r = resource(report, "alicloud_oss_bucket.b")
    assert (code, r["region"], r["location"]) == (1, "cn-hongkong", "outside"), r
    assert ("CII001", "alicloud_oss_bucket.b") in pairs(report)


@pytest.mark.parametrize(
    ("provider", "block", "resource_type", "env", "inside", "outside"),
    [
        (
            "huaweicloud",
            "",
            "huaweicloud_obs_bucket",
            "HW_REGION_NAME",
            "cn-north-4",
            "ap-southeast-1",
        ),
        (
            "google",
            'project = "acme"',
            "google_storage_bucket",
            "GOOGLE_REGION",
            None,
            "asia-east2",
        ),
        ("aws", "", "aws_s3_bucket", "AWS_REGION", "cn-northwest-1", "ap-east-2"),
    ],
)
def test_providers_without_a_default_region_read_their_environment(
    tmp_path: Path,
    provider: str,
    block: str,
    resource_type: str,
    env: str,
    inside: str | None,
    outside: str,
    cache_env: dict[str, str],
) -> None:
    tags = "labels" if provider == "google" else "tags"
    (tmp_path / "main.tf").write_text(
        f'provider "{provider}" {{\n  {block}\n}}\n'
        f'resource "{resource_type}" "b" {{\n  {tags} = {{ "data-classification" = "personal" }}\n}}\n'
    )
    address = f"{resource_type}.b"
    code, report = scan(tmp_path, cache_env)
    # Google Cloud has no region in mainland China: wherever the bucket is, it is outside
    location, policy = ("outside", "CII001") if provider == "google" else ("unknown", "CII003")
    assert resource(report, address)["location"] == location
    assert (code, pairs(report)) == (1, [(policy, address)])
    if inside is not None:
        code, report = scan(tmp_path, {**cache_env, env: inside})
        assert (code, resource(report, address)["location"]) == (0, "mainland")
    code, report = scan(tmp_path, {**cache_env, env: outside})
    r = resource(report, address)
    assert (code, r["region"], r["location"]) == (1, outside, "outside")
    assert f"environment {env}" in r["provenance"]


# -- Pulumi YAML: the same clouds through the Pulumi YAML parser ---------------------------------

# (cloud, case, exit code, sorted (policy, canonical type, region) triples). Pulumi addresses are
# URNs, the parser's business; the verdicts are compared by the canonical type and region.
PULUMI_EXPECTED: list[tuple[str, str, int, list[tuple[str, str, str]]]] = [
    ("aws", "inside", 0, []),
    ("aws", "outside", 1, [("CII001", "aws_s3_bucket", "us-east-1")]),
    (
        "aws",
        "trap",
        1,
        [("CII001", "aws_db_instance", "ap-east-2"), ("CII001", "aws_s3_bucket", "ap-east-1")],
    ),
    ("aws", "replication", 1, [("CII002", "aws_dynamodb_table", "ap-east-1")]),
    ("alicloud", "inside", 0, []),
    ("alicloud", "outside", 1, [("CII001", "alicloud_oss_bucket", "ap-southeast-1")]),
    ("alicloud", "trap", 1, [("CII001", "alicloud_db_instance", "cn-hongkong")]),
    (
        "alicloud",
        "replication",
        1,
        [("CII002", "alicloud_rds_instance_cross_backup_policy", "cn-hongkong")],
    ),
    ("azure", "inside", 0, []),
    ("azure", "outside", 1, [("CII001", "azurerm_storage_account", "westeurope")]),
    ("azure", "trap", 1, [("CII001", "azurerm_key_vault", "East Asia")]),
    ("azure", "replication", 1, [("CII002", "azurerm_cosmosdb_account", "East Asia")]),
    ("tencentcloud", "inside", 0, []),
    ("tencentcloud", "outside", 1, [("CII001", "tencentcloud_cos_bucket", "ap-singapore")]),
    ("tencentcloud", "trap", 1, [("CII001", "tencentcloud_cos_bucket", "ap-hongkong")]),
    ("tencentcloud", "replication", 1, [("CII002", "tencentcloud_cos_bucket", "ap-hongkong")]),
    ("huaweicloud", "inside", 0, []),
    ("huaweicloud", "outside", 1, [("CII001", "huaweicloud_obs_bucket", "ap-southeast-2")]),
    ("huaweicloud", "trap", 1, [("CII001", "huaweicloud_obs_bucket", "ap-southeast-1")]),
    (
        "huaweicloud",
        "replication",
        1,
        [("CII002", "huaweicloud_rds_cross_region_backup_strategy", "ap-southeast-3")],
    ),
    ("google", "inside", 0, []),
    ("google", "outside", 1, [("CII001", "google_storage_bucket", "US")]),
    ("google", "trap", 1, [("CII001", "google_bigquery_dataset", "asia-east2")]),
    ("google", "replication", 1, [("CII001", "google_storage_bucket", "ASIA")]),
]


def _pulumi_yaml_parser_registered() -> bool:
    from ciiguard.plugins.manager import build
    from ciiguard.scan import gather

    probe = CLOUDS_DIR / "aws" / "pulumi-inside" / "Pulumi.yaml"
    return any(p.claims(probe) for p in gather(build(autoload=False)).parsers)


def _unmapped_tokens(project: Path) -> list[str]:
    """Type tokens of the fixture that ciiguard/catalogue/data/pulumi.json does not map yet."""
    import json

    mapping = (
        Path(__file__).resolve().parent.parent / "ciiguard" / "catalogue" / "data" / "pulumi.json"
    )
    known = (
        {t["token"] for t in json.loads(mapping.read_text())["types"]}
        if mapping.is_file()
        else set()
    )
    tokens = re.findall(r"^\s+type: ([\w-]+:index/\S+)$", project.read_text(), flags=re.M)
    return sorted(set(tokens) - known)


@pytest.mark.parametrize(("cloud", "case", "code", "expected"), PULUMI_EXPECTED, ids=str)
def test_pulumi_yaml_cloud_fixture_verdicts(
    cloud: str,
    case: str,
    code: int,
    expected: list[tuple[str, str, str]],
    cache_env: dict[str, str],
) -> None:
    if not _pulumi_yaml_parser_registered():
        pytest.skip("no registered parser claims Pulumi.yaml yet (Pulumi YAML parser not landed)")
    project = CLOUDS_DIR / cloud / f"pulumi-{case}"
    unmapped = _unmapped_tokens(project / "Pulumi.yaml")
    if unmapped:
        pytest.skip(f"ciiguard/catalogue/data/pulumi.json does not map {', '.join(unmapped)} yet")
    got_code, report = scan(project, cache_env)
    assert report["errors"] == []
    types = {r["address"]: r["type"] for r in report["resources"]}
    got = sorted((v["policy"], types[v["resource"]], v["region"]) for v in report["violations"])
    assert got == expected
    assert got_code == code
