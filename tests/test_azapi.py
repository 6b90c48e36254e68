"""Azure resources written with ``azapi_resource`` (Azure Verified Modules) are checked as the
catalogue type their ARM resource type maps to, in HCL and plan JSON, like azure-native ones."""

from __future__ import annotations

from pathlib import Path

from ciiguard.parsers.arm import arm_types, translate
from ciiguard.parsers.pulumi.common import pulumi_catalogue
from tests.conftest import FIXTURES, clean_env, run_cli

CASE = FIXTURES / "clouds" / "azure-azapi"
PLAN = FIXTURES / "plan" / "azapi.json"


def scan(path: Path, **variables: str):
    env = clean_env()
    env.update({f"TF_VAR_{k}": v for k, v in variables.items()})
    return run_cli("scan", str(path), "--no-cache", "--format", "json", env=env)


def by_address(run) -> dict[str, dict]:
    return {r["address"]: r for r in run.json["resources"]}


def test_an_azapi_storage_account_in_eastus_is_cii001() -> None:
    run = scan(CASE)
    assert run.code == 1
    got = sorted((v["policy"], v["resource"]) for v in run.json["violations"])
    assert got == [("CII001", "azapi_resource.storage"), ("CII002", "azapi_resource.cosmos")]
    storage = by_address(run)["azapi_resource.storage"]
    assert storage["type"] == "azurerm_storage_account" and storage["region"] == "eastus"


def test_the_body_decides_replication_and_the_write_region_is_the_accounts_own() -> None:
    run = scan(CASE, location="chinanorth3")
    resources = by_address(run)
    storage, cosmos = resources["azapi_resource.storage"], resources["azapi_resource.cosmos"]
    # sku.name Standard_GRS: geo-redundant to the pair, which for China regions stays in China
    assert [(f["kind"], f["destination"], f["location"]) for f in storage["flows"]] == [
        ("replication", "chinaeast3", "mainland")
    ]
    # body = jsonencode({...}) (azapi 1.x): the write region is the account's own, East Asia not
    assert [f["destination"] for f in cosmos["flows"]] == ["East Asia"]
    assert [v["policy"] for v in run.json["violations"]] == ["CII002"]


def test_an_arm_type_the_catalogue_does_not_map_is_not_data_bearing() -> None:
    run = scan(CASE, location="chinanorth3")
    vnet = by_address(run)["azapi_resource.vnet"]
    assert vnet["type"] == "azapi_resource" and not vnet["data_bearing"]


def test_plan_json_maps_the_same_way() -> None:
    run = scan(PLAN)
    assert run.code == 1
    got = sorted((v["policy"], v["resource"], v["region"]) for v in run.json["violations"])
    assert got == [
        ("CII001", "azapi_resource.storage", "eastus"),
        ("CII002", "azapi_resource.cosmos", "eastasia"),  # a CII002 names its destination
    ]
    storage = by_address(run)["azapi_resource.storage"]
    assert [f["destination"] for f in storage["flows"]] == ["westus"]  # RAGRS to the pair


def test_every_arm_type_maps_to_an_azure_native_token_and_a_catalogue_type() -> None:
    tokens = pulumi_catalogue().types
    assert len(arm_types()) >= 19
    for arm in arm_types().values():
        assert arm.arm_type.startswith("Microsoft.") and "/" in arm.arm_type
        assert tokens[arm.token].type == arm.type


def test_translate_flattens_properties_and_lets_azapi_arguments_win() -> None:
    out = translate(
        {
            "type": "microsoft.storage/STORAGEACCOUNTS@2021-01-01",
            "location": "chinanorth3",
            "body": {"location": "eastus", "properties": {"isHnsEnabled": True}},
        }
    )
    assert out is not None
    arm, attrs = out
    assert arm.type == "azurerm_storage_account"
    assert attrs["location"] == "chinanorth3" and attrs["is_hns_enabled"] is True
    assert translate({"type": "Microsoft.Network/virtualNetworks@2024-01-01"}) is None
    assert translate({"type": None}) is None


def test_azure_native_uses_the_same_arm_shape() -> None:
    run = scan(FIXTURES / "clouds" / "azure-native-sku")
    assert run.code == 0, run.stdout
    (orders,) = run.json["resources"]
    assert [(f["kind"], f["destination"]) for f in orders["flows"]] == [
        ("replication", "chinaeast3")
    ]


def test_the_azapi_providers_default_location_places_resources_without_one() -> None:
    run = scan(FIXTURES / "clouds" / "azure-azapi-default-location")
    assert run.code == 1
    (v,) = run.json["violations"]
    assert (v["policy"], v["region"]) == ("CII001", "East Asia")
    assert "provider azapi" in v["evidence"]
