"""Cosmos DB's write region (``failover_priority = 0``) is the account's own region: it is no
replication when it is the account's location, and still a cross-border flow when it is not."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES, clean_env, run_cli

CASE = FIXTURES / "clouds" / "azure-cosmos-write-region"


def scan(**variables: str):
    env = clean_env()
    env.update({f"TF_VAR_{k}": v for k, v in variables.items()})
    return run_cli("scan", str(CASE), "--no-cache", "--format", "json", env=env)


def verdicts(run) -> list[tuple[str, str | None]]:
    return sorted((v["policy"], v["region"]) for v in run.json["violations"])


def test_a_mainland_account_replicating_inside_passes() -> None:
    run = scan(location="chinanorth3")
    assert run.code == 0, run.stdout
    flows = run.json["resources"][1]["flows"]
    assert [f["destination"] for f in flows] == ["chinaeast3"]


def test_a_hong_kong_account_is_cii001_without_a_flow_to_its_own_region() -> None:
    run = scan(location="eastasia")
    assert run.code == 1
    assert verdicts(run) == [("CII001", "eastasia")]


def test_a_write_region_other_than_the_account_location_is_still_a_flow() -> None:
    run = scan(location="chinanorth3", write_region="East Asia")
    assert run.code == 1
    assert [v["policy"] for v in run.json["violations"]] == ["CII002"]
    assert "eastasia" in run.json["violations"][0]["message"].replace(" ", "").lower()


@pytest.mark.parametrize("write_region", [None, "China North 3"])
def test_an_unknown_location_is_one_cii003_not_one_per_geo_location(
    write_region: str | None,
) -> None:
    run = scan() if write_region is None else scan(write_region=write_region)
    assert run.code == 1
    policies = [v["policy"] for v in run.json["violations"]]
    assert policies[0] == "CII003"
    if write_region is None:  # the write region is the account's unknown region: no extra flow
        assert policies == ["CII003"]
