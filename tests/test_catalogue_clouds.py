"""Catalogue answers per provider: mainland regions, the traps, Azure's location spelling, pairs."""

from __future__ import annotations

import pytest

from ciiguard.catalogue import Catalogue, load_builtin
from ciiguard.model import Location

CAT = Catalogue(load_builtin())
IN, OUT, UNK = Location.MAINLAND, Location.OUTSIDE, Location.UNKNOWN


@pytest.mark.parametrize(
    ("provider", "region", "expected"),
    [
        # AWS: the aws-cn partition (botocore) is the mainland; Hong Kong and Taipei are not.
        ("aws", "cn-north-1", IN),
        ("aws", "cn-northwest-1", IN),
        ("aws", "ap-east-1", OUT),
        ("aws", "ap-east-2", OUT),
        ("aws", "ap-southeast-1", OUT),
        ("aws", "cn-north-9", UNK),
        # Alibaba: cn-hongkong starts with "cn-" and is outside; finance and gov clouds are inside.
        ("alicloud", "cn-beijing", IN),
        ("alicloud", "cn-shanghai-finance-1", IN),
        ("alicloud", "cn-north-2-gov-1", IN),
        ("alicloud", "cn-hongkong", OUT),
        ("alicloud", "ap-southeast-1", OUT),
        ("alicloud", "cn-beijng", UNK),
        ("alicloud", "CN-BEIJING", UNK),
        # Azure: compared lower-cased without spaces; East Asia is Hong Kong.
        ("azurerm", "chinanorth3", IN),
        ("azurerm", "China East 2", IN),
        ("azurerm", "CHINA NORTH", IN),
        ("azure-native", "chinaeast2", IN),
        ("azurerm", "eastasia", OUT),
        ("azurerm", "East Asia", OUT),
        ("azurerm", "West Europe", OUT),
        # Tencent: an allow-list, no prefix rule; a zone is not a region.
        ("tencentcloud", "ap-guangzhou", IN),
        ("tencentcloud", "ap-shanghai-fsi", IN),
        ("tencentcloud", "ap-hongkong", OUT),
        ("tencentcloud", "ap-taipei", OUT),
        ("tencentcloud", "ap-guangzhou-3", UNK),
        # Huawei: ap-southeast-1 is Hong Kong; cn-north-1 is Beijing1 (the AWS id means Beijing too).
        ("huaweicloud", "cn-north-4", IN),
        ("huaweicloud", "cn-north-1", IN),
        ("huaweicloud", "cn-southwest-2", IN),
        ("huaweicloud", "ap-southeast-1", OUT),
        ("huaweicloud", "ap-southeast-3", OUT),
        ("huaweicloud", "cn-hongkong", UNK),
        # Google: no mainland region at all, multi-regions included.
        ("google", "asia-east2", OUT),
        ("google", "asia-east1", OUT),
        ("google", "ASIA", OUT),
        ("gcp", "asia-northeast1", OUT),
        # Complete region lists (#18): every real region is placed, only a non-region is unknown.
        ("azurerm", "ukwest", OUT),
        ("azurerm", "Italy North", OUT),
        ("azurerm", "polandcentral", OUT),
        ("azurerm", "newzealandnorth", OUT),
        ("azurerm", "uswest", UNK),
        ("alicloud", "ap-southeast-8", OUT),
        ("alicloud", "rus-west-1", OUT),
        ("alicloud", "cn-szfinance", IN),
        ("alicloud", "ap-southeast-9", UNK),
        ("tencentcloud", "na-toronto", OUT),
        ("tencentcloud", "sa-saopaulo", OUT),
        ("huaweicloud", "ru-moscow-1", OUT),
        ("huaweicloud", "my-kualalumpur-1", OUT),
        ("huaweicloud", "af-north-1", OUT),
        ("huaweicloud", "cn-east-9", UNK),
        ("google", "europe-west12", OUT),
        # A provider ciiguard has no catalogue for is never silently inside.
        ("oci", "cn-beijing", UNK),
    ],
)
def test_location_per_provider(provider: str, region: str, expected: Location) -> None:
    loc, why = CAT.location(provider, region)
    assert loc is expected, why
    assert why


def test_same_id_means_different_places_at_different_clouds() -> None:
    assert CAT.location("alicloud", "ap-southeast-1")[0] is OUT  # Singapore
    assert CAT.location("huaweicloud", "ap-southeast-1")[0] is OUT  # Hong Kong
    assert CAT.location("alicloud", "cn-north-1")[0] is UNK  # not an Alibaba region id
    assert CAT.location("tencentcloud", "cn-beijing")[0] is UNK  # Tencent spells it ap-beijing
    assert CAT.location("huaweicloud", "ap-beijing")[0] is UNK


@pytest.mark.parametrize(
    ("region", "pair", "expected"),
    [
        ("chinanorth", "chinaeast", IN),
        ("China East 2", "chinanorth2", IN),
        ("chinanorth3", "chinaeast3", IN),
        ("eastasia", "southeastasia", OUT),
        ("westus2", "westcentralus", OUT),  # the pair from the ARM Locations data
        ("indonesiacentral", None, OUT),  # no pair, but China regions pair only with each other
    ],
)
def test_azure_pairs_keep_china_geo_redundancy_inside(
    region: str, pair: str | None, expected: Location
) -> None:
    got, loc, why = CAT.paired_region("azurerm", region)
    assert (got, loc) == (pair, expected), why


def test_paired_region_unknown_without_pair_data() -> None:
    assert CAT.paired_region("alicloud", "cn-beijing")[1] is UNK


def test_default_regions_and_environment_variables_are_the_providers() -> None:
    facts = {
        name: CAT.facts(name) for name in ("alicloud", "tencentcloud", "huaweicloud", "google")
    }
    assert facts["alicloud"] is not None and facts["alicloud"].default_region == "cn-beijing"
    # the provider reads ALICLOUD_REGION first (alicloud/provider.go, MultiEnvDefaultFunc)
    assert facts["alicloud"].environment == ("ALICLOUD_REGION", "ALIBABA_CLOUD_REGION")
    assert (
        facts["tencentcloud"] is not None and facts["tencentcloud"].default_region == "ap-guangzhou"
    )
    assert facts["huaweicloud"] is not None and facts["huaweicloud"].default_region is None
    assert facts["huaweicloud"].environment == ("HW_REGION_NAME", "OS_REGION_NAME")
    assert facts["google"] is not None
    assert facts["google"].environment[0] == "GOOGLE_REGION"


def test_every_catalogue_entry_has_a_source_note() -> None:
    for contribution in load_builtin():
        assert contribution.get("source"), contribution["provider"]
        for key in ("data_bearing", "replication", "environment", "region_from"):
            for entry in contribution.get(key, []):
                assert entry.get("source"), (contribution["provider"], key, entry)
        for key in ("mainland", "outside", "pairs"):
            for entry in contribution.get("regions", {}).get(key, []):
                assert entry.get("source"), (contribution["provider"], key, entry)


def test_one_file_per_cloud() -> None:
    providers = [c["provider"] for c in load_builtin()]
    assert sorted(providers) == sorted(
        ["aws", "alicloud", "azurerm", "tencentcloud", "huaweicloud", "google"]
    )


def test_an_unknown_destination_kind_is_malformed_data() -> None:
    bad = {
        "provider": "x",
        "replication": [{"type": "x_t", "path": "a", "destination": "teleport"}],
    }
    with pytest.raises(ValueError, match="teleport"):
        Catalogue([bad])


def test_a_bad_pattern_is_malformed_data() -> None:
    bad = {"provider": "x", "replication": [{"type": "x_t", "path": "a", "pattern": "(unclosed"}]}
    with pytest.raises(Exception, match=r"unterminated|missing"):
        Catalogue([bad])


def test_aws_partitions_read_directly_are_botocores() -> None:
    from botocore.loaders import create_loader

    from ciiguard.catalogue import _aws_partitions

    assert _aws_partitions() == list(create_loader().load_data("partitions")["partitions"])
    assert any(p["id"] == "aws-cn" for p in _aws_partitions())


# -- flow kinds, ARNs and endpoint hosts (issue #17) ----------------------------------------------
def test_every_flow_rule_has_a_kind_from_the_closed_list() -> None:
    from ciiguard.model import FLOW_KINDS

    for contribution in load_builtin():
        for entry in contribution.get("replication", []):
            assert entry.get("kind") in FLOW_KINDS, (contribution["provider"], entry)
    kinds = {rule.kind for rules in CAT.replication.values() for rule in rules}
    assert kinds == set(FLOW_KINDS)


def test_a_rule_written_before_kinds_were_a_closed_list_still_loads() -> None:
    cat = Catalogue(
        [{"provider": "x", "replication": [{"type": "x_t", "path": "a", "kind": "read-replica"}]}]
    )
    (rule,) = cat.rules_for("x_t")
    assert (rule.kind, rule.mechanism) == ("replication", "read-replica")


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ({"pattern": "x", "location": "abroad"}, "mainland or outside"),
        ({"pattern": "x"}, "needs a location or a region group"),
    ],
)
def test_a_bad_endpoint_host_is_malformed_data(entry: dict[str, str], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Catalogue([{"provider": "x", "endpoint_hosts": [entry]}])


def test_located_by_cannot_point_at_itself() -> None:
    bad = {"provider": "x", "located_by": [{"type": "x_t", "path": "a", "destination": "self"}]}
    with pytest.raises(ValueError, match="located_by"):
        Catalogue([bad])


@pytest.mark.parametrize(
    ("arn", "expected", "region"),
    [
        # an S3 ARN carries only its partition: the global partition is outside the mainland
        ("arn:aws:s3:::analytics-us", OUT, None),
        ("arn:aws-cn:s3:::analytics-cn", IN, None),
        ("arn:aws:sqs:us-east-1:123456789012:orders", OUT, "us-east-1"),
        ("arn:aws-cn:sqs:cn-northwest-1:123456789012:orders", IN, "cn-northwest-1"),
        ("arn:aws:logs:ap-east-1:123456789012:destination:hk", OUT, "ap-east-1"),  # Hong Kong
        ("arn:aws:sqs:cn-north-1:123456789012:orders", UNK, "cn-north-1"),  # partition contradicts
        ("arn:aws-us-gov:s3:::gov", OUT, None),
        ("arn:nowhere:s3:::b", UNK, None),
        # another cloud's resource name: its region is matched at that cloud
        ("acs:log:cn-hangzhou:1234567890123456:project/app", IN, "cn-hangzhou"),
        ("acs:oss:cn-hongkong:1234567890123456:bucket", OUT, "cn-hongkong"),
        ("acs:ram::1234567890123456:role/x", UNK, None),
        ("qcs::cos:ap-guangzhou:uid/1250000000:archive-1250000000/*", IN, "ap-guangzhou"),
        ("qcs::cos:ap-hongkong:uid/1250000000:archive-1250000000/*", OUT, "ap-hongkong"),
    ],
)
def test_arn_partition_and_region_decide(arn: str, expected: Location, region: str | None) -> None:
    assert CAT.is_arn(arn) or expected is UNK
    loc, why, got_region = CAT.arn_location(arn)
    assert (loc, got_region) == (expected, region), why


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        # AWS: the DNS suffix of the partition (botocore), whatever the service
        ("https://sqs.us-east-1.amazonaws.com/123456789012/orders", OUT),
        ("jdbc:redshift://dw.abc.cn-north-1.redshift.amazonaws.com.cn:5439/dw", IN),
        ("bucket.s3.amazonaws.com", OUT),
        ("https://x.amazonaws.com.cn.evil.test/", None),  # only looks like AWS China
        ("https://evilamazonaws.com/", None),
        # Azure: Azure in China (21Vianet) vs Azure global
        ("https://lake.blob.core.chinacloudapi.cn/c", IN),
        ("DefaultEndpointsProtocol=https;AccountName=a;EndpointSuffix=core.chinacloudapi.cn", IN),
        ("https://docs.documents.azure.cn:443/", IN),
        ("https://lake.blob.core.windows.net/c", OUT),
        ("Server=tcp:sql.database.windows.net,1433", OUT),
        ("https://lake.blob.core.windows.net.evil.cn/", None),
        # Google Cloud has no mainland region
        ("storage.googleapis.com/acme-audit", OUT),
        # Alibaba, Tencent, Huawei: the region in the host decides
        ("https://oss-cn-hangzhou-internal.aliyuncs.com", IN),
        ("https://oss-cn-hongkong.aliyuncs.com", OUT),
        ("cn-shanghai.log.aliyuncs.com", IN),
        ("ap-southeast-1-intranet.log.aliyuncs.com", OUT),
        ("rm-abc.mysql.rds.aliyuncs.com", None),  # no region in the host: not known
        ("archive-1250000000.cos.ap-guangzhou.myqcloud.com", IN),
        ("ap-singapore.cls.tencentcs.com", OUT),
        ("obs.cn-north-4.myhuaweicloud.com", IN),
        ("obs.ap-southeast-1.myhuaweicloud.com", OUT),  # Huawei ap-southeast-1 is Hong Kong
        # and anything else is not a fact ciiguard has
        ("https://siem.example.cn/ingest", None),
        ("dpo@example.com", None),
    ],
)
def test_cloud_host_names_locate_endpoints(endpoint: str, expected: Location | None) -> None:
    found = CAT.endpoint_location(endpoint)
    assert (found[0] if found else None) is expected, found


def test_hosts_in_different_places_are_unknown() -> None:
    found = CAT.endpoint_location(
        "https://a.blob.core.chinacloudapi.cn/?copy=https://b.blob.core.windows.net"
    )
    assert found is not None and found[0] is UNK


@pytest.mark.parametrize(
    "region",
    [
        "ukwest",
        "italynorth",
        "polandcentral",
        "newzealandnorth",
        "UK West",
        "Spain Central",
        "mexicocentral",
        "malaysiawest",
        "indonesiacentral",
        "chilecentral",
        "denmarkeast",
    ],
)
def test_every_public_azure_region_is_a_region_outside(region: str) -> None:
    """Azure's public regions come from the ARM Locations data (AVM utility module): a real
    region outside the mainland is CII001, never CII003 for want of a catalogue entry."""
    assert CAT.location("azurerm", region)[0] is OUT


def test_a_name_that_is_no_azure_region_stays_unknown() -> None:
    assert CAT.location("azurerm", "chinasouth")[0] is UNK
    assert CAT.location("azurerm", "asia")[0] is UNK  # a geography, not a region
