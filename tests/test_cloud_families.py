"""The clouds CII operators run on, as deeply as AWS (issue 18), through the installed command.

``tests/fixtures/families`` (written by its ``make_fixtures.py``) holds, per Chinese cloud, every
data-bearing type inside and outside the mainland and every flow issue 18 added with its
destination inside, outside and unknown; Alibaba's also as Pulumi YAML. The provider type lists
(``ciiguard/catalogue/data/<cloud>-types.json``, derived from the providers' own documentation
pages) give every resource type a decision.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ciiguard.catalogue import Catalogue, load_builtin
from tests.conftest import FIXTURES, clean_env, run_cli

FAMILIES = FIXTURES / "families"
EXPECTED: dict[str, Any] = json.loads((FAMILIES / "expected.json").read_text(encoding="utf-8"))
DATA = Path(__file__).resolve().parent.parent / "ciiguard" / "catalogue" / "data"
CHINESE_CLOUDS = ("alicloud", "tencentcloud", "huaweicloud")
DECISIONS = {"data", "flow", "neither"}
_RUNS: dict[tuple[str, ...], tuple[int, dict[str, Any]]] = {}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return clean_env(CIIGUARD_CACHE_DIR=str(tmp_path_factory.mktemp("cache")))


def scan(path: Path, env: dict[str, str], *extra: str) -> tuple[int, dict[str, Any]]:
    config = path / "ciiguard.toml"
    args = ["--config", str(config)] if config.is_file() else ["--no-config"]
    key = (str(path), *args, *extra)
    if key not in _RUNS:
        run = run_cli("scan", str(path), "--format", "json", *args, *extra, env=env)
        assert run.code in (0, 1), run.stderr
        _RUNS[key] = (run.code, run.json)
    return _RUNS[key]


def name_of(address: str) -> str:
    return address.rsplit("::", 1)[-1].rsplit(".", 1)[-1]


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_fixture_gets_the_verdicts_it_intends(key: str, env: dict[str, str]) -> None:
    cloud, variant = key.split("/")
    code, report = scan(FAMILIES / cloud / variant, env)
    assert report["errors"] == []
    got = Counter((v["policy"], name_of(v["resource"])) for v in report["violations"])
    assert got == Counter(tuple(x) for x in EXPECTED[key]["expected"])
    assert code == (1 if EXPECTED[key]["expected"] else 0)


@pytest.mark.parametrize("cloud", CHINESE_CLOUDS)
def test_every_data_bearing_type_is_in_scope_inside_and_outside(
    cloud: str, env: dict[str, str]
) -> None:
    """The issue's user ran --cii-workload and saw Tencent CFS in Singapore pass: every
    data-bearing type of the cloud is in scope, mainland in one fixture, outside in the other."""
    catalogue = Catalogue(load_builtin())
    types = {t for t, p in catalogue.data_bearing.items() if p == cloud}
    for variant, where in (("inside", "mainland"), ("outside", "outside")):
        _, report = scan(FAMILIES / cloud / variant, env)
        seen = {r["type"]: r for r in report["resources"]}
        assert set(seen) == types
        assert {(r["in_scope"], r["location"]) for r in seen.values()} == {(True, where)}


def test_alibaba_pulumi_yaml_covers_the_same_types_as_terraform(env: dict[str, str]) -> None:
    _, hcl = scan(FAMILIES / "alicloud" / "outside", env)
    _, yaml = scan(FAMILIES / "alicloud" / "pulumi-outside", env)
    pulumi_types = {r["type"] for r in yaml["resources"] if r["location"] == "outside"}
    tokens = {
        e["type"]
        for e in json.loads((DATA / "pulumi.json").read_text(encoding="utf-8"))["types"]
        if e["token"].startswith("alicloud:")
    }
    assert pulumi_types == {r["type"] for r in hcl["resources"]} & tokens


# -- every provider resource type has a decision -------------------------------------------------
def _types_file(cloud: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{cloud}-types.json").read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("cloud", CHINESE_CLOUDS)
def test_every_provider_resource_type_has_a_decision(cloud: str) -> None:
    data = _types_file(cloud)
    origin = data["derived_from"]
    assert len(origin["commit"]) == 40 and origin["repository"] and origin["version"]
    names = [t["type"] for t in data["types"]]
    assert len(names) == len(set(names)) > 1000  # every documented resource, each once
    undecided = [t["type"] for t in data["types"] if not t.get("decision")]
    assert undecided == []
    for t in data["types"]:
        assert t["type"].startswith(cloud + "_")
        assert set(t["decision"]) <= DECISIONS and t["page"]
        if t["decision"] == ["neither"]:
            assert t["why"]


@pytest.mark.parametrize("cloud", CHINESE_CLOUDS)
def test_decisions_are_the_catalogues(cloud: str) -> None:
    """ "data" is exactly the catalogue's data-bearing types, "flow" exactly its flow rules, and
    no catalogue type is missing from the list: a new data-bearing type or rule must be decided
    here too (scripts/derive_provider_types.py rewrites the list from the provider's pages)."""
    catalogue = Catalogue(load_builtin())
    decided = {t["type"]: set(t["decision"]) for t in _types_file(cloud)["types"]}
    data = {t for t, p in catalogue.data_bearing.items() if p == cloud}
    flows = {t for t in catalogue.replication if t.startswith(cloud + "_")}
    assert {t for t, d in decided.items() if "data" in d} == data
    assert {t for t, d in decided.items() if "flow" in d} == flows
    assert (data | flows) <= set(decided)


# -- the configurations the issue opened with ----------------------------------------------------
ISSUE_CASES = [
    (
        "azure-ukwest-is-outside-not-unknown",
        'resource "azurerm_storage_account" "s" {\n  name = "s"\n  location = "ukwest"\n}\n'
        'resource "azurerm_key_vault" "k" {\n  name = "k"\n  location = "Italy North"\n}\n',
        [("CII001", "azurerm_key_vault.k"), ("CII001", "azurerm_storage_account.s")],
    ),
    (
        "tencent-cfs-singapore",
        'provider "tencentcloud" {\n  region = "ap-singapore"\n}\n'
        'resource "tencentcloud_cfs_file_system" "share" {\n  name = "share"\n}\n',
        [("CII001", "tencentcloud_cfs_file_system.share")],
    ),
    (
        "tencent-audit-to-hong-kong",
        'provider "tencentcloud" {\n  region = "ap-guangzhou"\n}\n'
        'resource "tencentcloud_audit" "audit" {\n  name = "audit"\n  cos_bucket = "a-1250000000"\n'
        '  cos_region = "ap-hongkong"\n  audit_switch = true\n  read_write_attribute = 3\n}\n',
        [("CII002", "tencentcloud_audit.audit")],
    ),
    (
        "tencent-mongodb-standby-in-singapore",
        'provider "tencentcloud" {\n  region = "ap-guangzhou"\n}\n'
        'provider "tencentcloud" {\n  alias = "sg"\n  region = "ap-singapore"\n}\n'
        'resource "tencentcloud_mongodb_instance" "primary" {\n  instance_name = "p"\n}\n'
        'resource "tencentcloud_mongodb_standby_instance" "standby" {\n'
        "  provider = tencentcloud.sg\n  father_instance_id = tencentcloud_mongodb_instance.primary.id\n"
        '  father_instance_region = "ap-guangzhou"\n}\n',
        [
            ("CII001", "tencentcloud_mongodb_standby_instance.standby"),
            ("CII002", "tencentcloud_mongodb_standby_instance.standby"),
        ],
    ),
    (
        "alibaba-vpc-flow-log-to-hong-kong",
        'provider "alicloud" {\n  region = "cn-hangzhou"\n}\n'
        'provider "alicloud" {\n  alias = "hk"\n  region = "cn-hongkong"\n}\n'
        'resource "alicloud_log_project" "hk" {\n  provider = alicloud.hk\n  project_name = "flows-hk"\n}\n'
        'resource "alicloud_vpc_flow_log" "f" {\n  resource_id = "vpc-1"\n  resource_type = "VPC"\n'
        '  traffic_type = "All"\n  project_name = alicloud_log_project.hk.project_name\n'
        '  log_store_name = "flows"\n}\n',
        [("CII001", "alicloud_log_project.hk"), ("CII002", "alicloud_vpc_flow_log.f")],
    ),
    (
        "huawei-oms-migration-to-hong-kong",
        'provider "huaweicloud" {\n  region = "cn-north-4"\n}\n'
        'resource "huaweicloud_obs_bucket" "data" {\n  bucket = "data"\n}\n'
        'resource "huaweicloud_oms_migration_task" "m" {\n  source_object {\n'
        '    region = "cn-north-4"\n    bucket = huaweicloud_obs_bucket.data.bucket\n  }\n'
        '  destination_object {\n    region = "ap-southeast-1"\n    bucket = "copy"\n  }\n}\n',
        [("CII002", "huaweicloud_oms_migration_task.m")],
    ),
]


@pytest.mark.parametrize(("name", "text", "expected"), ISSUE_CASES, ids=[c[0] for c in ISSUE_CASES])
def test_the_issue_configurations_now_fail(
    name: str, text: str, expected: list[tuple[str, str]], tmp_path: Path, env: dict[str, str]
) -> None:
    (tmp_path / "main.tf").write_text(text, encoding="utf-8")
    code, report = scan(tmp_path, env, "--cii-workload")
    assert report["errors"] == []
    assert sorted((v["policy"], v["resource"]) for v in report["violations"]) == expected
    assert code == 1


# -- azapi: Azure resources by their ARM type ---------------------------------------------------------
AZURE = FAMILIES / "azure"


def test_the_avm_storage_account_in_east_us_is_cii001(env: dict[str, str]) -> None:
    """Azure's verified storage module creates its account with azapi_resource: in eastus it is
    outside the mainland, read from the module's location, type and body."""
    code, report = scan(AZURE / "avm-storage", env)
    assert report["errors"] == []
    address = "module.storage.azapi_resource.this"
    assert [(v["policy"], v["resource"]) for v in report["violations"]] == [("CII001", address)]
    account = next(r for r in report["resources"] if r["address"] == address)
    assert (account["type"], account["region"], account["in_scope"]) == (
        "azurerm_storage_account",
        "eastus",
        True,
    )
    # sku.name Standard_GRS copies to the pair (westus): outside to outside, no export
    assert [(f["argument"], f["destination"]) for f in account["flows"]] == [("sku.name", "westus")]
    assert code == 1


def test_azapi_in_the_mainland_reads_location_parent_and_body(env: dict[str, str]) -> None:
    code, report = scan(AZURE / "azapi-inside", env)
    assert (code, report["errors"], report["violations"]) == (0, [], [])
    got = {
        r["address"]: (
            r["type"],
            r["region"],
            [(f["argument"], f["destination"]) for f in r["flows"]],
        )
        for r in report["resources"]
        if r["in_scope"]
    }
    assert got == {
        # body as an object (azapi v2): the GRS pair of China North 3 is China East 3
        "azapi_resource.account": (
            "azurerm_storage_account",
            "chinanorth3",
            [("sku.name", "chinaeast3")],
        ),
        "azapi_resource.sql": ("azurerm_mssql_server", "chinanorth3", []),
        # no location of its own: it lives where its parent_id (the server) is
        "azapi_resource.db": ("azurerm_mssql_database", "chinanorth3", []),
    }


def test_an_azapi_account_abroad_with_an_unknown_body_is_still_cii001(
    tmp_path: Path, env: dict[str, str]
) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "body" {\n  type = any\n}\n'
        'resource "azapi_resource" "s" {\n'
        '  type = "microsoft.storage/STORAGEACCOUNTS@2023-01-01"\n  name = "s"\n'
        '  location = "polandcentral"\n  parent_id = "/subscriptions/0/resourceGroups/rg"\n'
        "  body = var.body\n}\n",
        encoding="utf-8",
    )
    code, report = scan(tmp_path, env, "--cii-workload")
    assert [(v["policy"], v["resource"]) for v in report["violations"]] == [
        ("CII001", "azapi_resource.s")
    ]
    assert code == 1


def test_azure_native_pulumi_reads_the_same_arm_spelling(
    tmp_path: Path, env: dict[str, str]
) -> None:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: arm\nruntime: yaml\nresources:\n"
        "  account:\n    type: azure-native:storage:StorageAccount\n    properties:\n"
        "      location: chinaeast2\n      resourceGroupName: rg\n      kind: StorageV2\n"
        "      sku:\n        name: Standard_RAGRS\n"
        "      tags:\n        data-classification: personal\n",
        encoding="utf-8",
    )
    code, report = scan(tmp_path, env)
    account = next(r for r in report["resources"] if r["type"] == "azurerm_storage_account")
    assert [(f["argument"], f["destination"]) for f in account["flows"]] == [
        ("sku.name", "chinanorth2")
    ]
    assert code == 0
