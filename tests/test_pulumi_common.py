"""Token normalisation, camelCase inputs and the import cost of the Pulumi support."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ciiguard.catalogue import Catalogue, load_builtin
from ciiguard.model import Unknown
from ciiguard.parsers.pulumi.common import (
    decode_wire,
    normalise_attributes,
    pulumi_catalogue,
    snake,
)
from tests.conftest import EXAMPLES, ROOT


@pytest.mark.parametrize(
    ("token", "canonical"),
    [
        ("aws:s3:BucketV2", "aws:s3/bucketV2:BucketV2"),
        ("aws:dynamodb:Table", "aws:dynamodb/table:Table"),
        ("aws:s3/bucketV2:BucketV2", "aws:s3/bucketV2:BucketV2"),
        ("alicloud:oss:Bucket", "alicloud:oss/bucket:Bucket"),
        ("aws:Provider", "aws:index/provider:Provider"),
        ("azure-native:storage:StorageAccount", "azure-native:storage:StorageAccount"),
        ("pulumi:providers:aws", "pulumi:providers:aws"),
    ],
)
def test_short_tokens_become_canonical(token: str, canonical: str) -> None:
    assert pulumi_catalogue().canonical_token(token) == canonical


@pytest.mark.parametrize(
    ("token", "rtype"),
    [
        ("aws:s3/bucketV2:BucketV2", "aws_s3_bucket"),
        ("aws:s3/bucket:Bucket", "aws_s3_bucket"),
        ("aws:dynamodb/table:Table", "aws_dynamodb_table"),
        ("aws:rds/instance:Instance", "aws_db_instance"),
        ("alicloud:oss/bucket:Bucket", "alicloud_oss_bucket"),
        ("azure-native:storage:StorageAccount", "azurerm_storage_account"),
        ("azure-native:storage/v20230101:StorageAccount", "azurerm_storage_account"),
        ("gcp:storage/bucket:Bucket", "google_storage_bucket"),
        ("tencentcloud:index/cosBucket:CosBucket", "tencentcloud_cos_bucket"),
        ("huaweicloud:index/evsSnapshot:EvsSnapshot", "huaweicloud_evs_snapshot"),  # derived
        ("acme:index:Widget", "acme:index:Widget"),  # unknown stays as it is, never data-bearing
    ],
)
def test_tokens_map_to_catalogue_types(token: str, rtype: str) -> None:
    assert pulumi_catalogue().resource_type(token) == rtype


def test_every_mapped_type_is_known_to_the_catalogue_and_every_entry_has_a_source() -> None:
    catalogue = Catalogue(load_builtin())
    data = json.loads((ROOT / "ciiguard" / "catalogue" / "data" / "pulumi.json").read_text())
    # data-bearing, declaring a flow, standing for storage (located_by), living in a parent, or
    # named by a rule (global clusters that members join, the targets a flow resolves to)
    every_rule = [*catalogue.replication.values(), *catalogue.located_by.values()]
    rules = json.dumps([r.__dict__ for rs in every_rule for r in rs], default=str)
    known = (
        set(catalogue.data_bearing)
        | set(catalogue.replication)
        | set(catalogue.located_by)
        | set(catalogue.region_from)
    )
    for entry in data["types"]:
        assert entry["source"], entry
        assert entry["type"] in known or entry["type"] in rules, (
            f"{entry['token']} maps to {entry['type']}, which the catalogue does not know"
        )
    tokens = [e["token"] for e in data["types"]]
    assert len(tokens) == len(set(tokens))


def test_snake_case() -> None:
    assert snake("replicateSourceDb") == "replicate_source_db"
    assert snake("regionName") == "region_name"
    assert snake("DBClusterIdentifier") == "db_cluster_identifier"
    assert snake("data-classification") == "data-classification"


def test_renames_follow_terraform_block_names_and_keep_tag_keys() -> None:
    lines_out: dict[str, int] = {}
    attrs = normalise_attributes(
        {
            "replicationConfigurations": [
                {"rules": [{"destinations": [{"bucket": "arn:aws:s3:::x"}]}]}
            ],
            "tags": {"Data-Classification": "personal", "costCenter": "42"},
        },
        pulumi_catalogue().types["aws:s3/bucketV2:BucketV2"].renames,
        pulumi_catalogue().free_form_maps,
        {"replicationConfigurations[0].rules[0].destinations[0].bucket": 7},
        lines_out,
    )
    assert (
        attrs["replication_configuration"][0]["rules"][0]["destination"][0]["bucket"]
        == "arn:aws:s3:::x"
    )
    assert attrs["tags"] == {"Data-Classification": "personal", "costCenter": "42"}
    assert lines_out == {"replication_configuration[0].rules[0].destination[0].bucket": 7}


def test_wire_values() -> None:
    refs = frozenset({"urn:pulumi:s::p::aws:s3/bucketV2:BucketV2::b"})
    value = decode_wire(
        {
            "a": "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
            "b": {
                "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                "ciphertext": "x",
            },
            "c": "[secret]",
            "d": {
                "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                "plaintext": '"cn-north-1"',
            },
        },
        refs,
    )
    assert isinstance(value["a"], Unknown) and value["a"].refs == refs
    assert isinstance(value["b"], Unknown) and isinstance(value["c"], Unknown)
    assert value["d"] == "cn-north-1"


def test_version_and_terraform_scans_never_import_pulumi_or_grpc() -> None:
    code = (
        "import sys\n"
        "from ciiguard import cli\n"
        "rc = cli.main(['scan', '--no-cache', '--format', 'json', {!r}])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_policy', 'grpc', 'pulumi_aws'))\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
        "sys.exit(0 if not heavy and rc in (0, 1) else 3)\n"
    ).format(str(EXAMPLES / "terraform" / "compliant"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from ciiguard import cli\ntry:\n    cli.main(['--version'])\nexcept SystemExit:\n    pass\n"
            "assert not [m for m in sys.modules if m.split('.')[0] in ('pulumi', 'grpc', 'yaml')], 'heavy import'",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
