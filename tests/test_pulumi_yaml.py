"""Pulumi YAML programs end to end through the installed command: verdicts, providers, stack config."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, FIXTURES, ROOT, clean_env, run_cli

Y = FIXTURES / "pulumi" / "yaml"


def scan(path: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[int, dict]:
    run = run_cli("scan", str(path), "--format", "json", *extra, env=env)
    return run.code, run.json


def by_name(report: dict) -> dict[str, dict]:
    return {r["address"].rsplit("::", 1)[1]: r for r in report["resources"]}


def verdicts(report: dict) -> list[tuple[str, str]]:
    return sorted((v["policy"], v["resource"].rsplit("::", 1)[1]) for v in report["violations"])


def test_compliant_stack_passes_with_urn_addresses_and_canonical_types() -> None:
    code, report = scan(Y / "compliant")
    assert (code, report["violations"], report["errors"]) == (0, [], [])
    res = by_name(report)
    assert set(res) == {"orders", "ordersCopy", "replication", "sessions"}
    orders = res["orders"]
    assert (
        orders["address"] == "urn:pulumi:prod::orders-compliant::aws:s3/bucketV2:BucketV2::orders"
    )
    assert (orders["type"], orders["input"], orders["line"]) == ("aws_s3_bucket", "pulumi-yaml", 9)
    # aws:defaultTags in Pulumi.prod.yaml classify the untagged bucket
    assert (orders["classification"], orders["region"]) == ("personal", "cn-north-1")
    assert (
        "stack config aws:region (tests/fixtures/pulumi/yaml/compliant/Pulumi.prod.yaml:2)"
        in (orders["provenance"])
    )
    flow = res["replication"]["flows"][0]
    assert flow["argument"] == "rule[0].destination[0].bucket"
    assert flow["destination_resource"].endswith("::ordersCopy")
    assert (flow["destination"], flow["location"]) == ("cn-northwest-1", "mainland")
    assert res["sessions"]["flows"][0]["destination"] == "cn-northwest-1"


def test_hong_kong_is_outside_at_every_cloud() -> None:
    code, report = scan(Y / "hk-trap")
    assert code == 1
    assert verdicts(report) == [
        ("CII001", "archive"),
        ("CII001", "customers"),
        ("CII001", "profiles"),
    ]
    res = by_name(report)
    assert (res["customers"]["region"], res["customers"]["location"]) == ("ap-east-1", "outside")
    assert (res["archive"]["type"], res["archive"]["region"]) == (
        "alicloud_oss_bucket",
        "cn-hongkong",
    )
    assert res["profiles"]["type"] == "azurerm_storage_account"
    assert "location input of profiles" in res["profiles"]["provenance"]
    # the same cloud's cn-beijing, from stack config, is inside
    assert (res["beijingLogs"]["location"], res["beijingLogs"]["region"]) == (
        "mainland",
        "cn-beijing",
    )


def test_provider_option_providers_list_parent_and_default_provider() -> None:
    code, report = scan(Y / "provider-options")
    assert code == 1
    res = by_name(report)
    # defaultProvider: true beats stack config aws:region (us-east-1)
    assert res["plain"]["region"] == "cn-north-1"
    assert res["plain"]["provenance"].startswith("provider beijing (")
    assert res["explicit"]["region"] == "cn-north-1"
    assert res["listed"]["region"] == "ap-southeast-1"
    assert res["child"]["region"] == "ap-southeast-1"  # inherited from its parent's providers
    assert res["child"]["address"] == (
        "urn:pulumi:dev::provider-options::aws:s3/bucketV2:BucketV2$aws:sqs/queue:Queue::child"
    )
    assert verdicts(report) == [("CII001", "child"), ("CII001", "listed")]


def test_several_stacks_need_stack_and_the_chosen_stack_file_decides() -> None:
    run = run_cli("scan", str(Y / "stack-config"))
    assert run.code == 2
    assert "several stacks (dev, prod); choose one with --stack NAME" in run.stdout
    code, report = scan(Y / "stack-config", "--stack", "dev")
    assert (code, report["violations"]) == (0, [])
    code, report = scan(Y / "stack-config", "--stack", "prod")
    assert code == 1
    ledger = by_name(report)["ledger"]
    assert ledger["address"].startswith("urn:pulumi:prod::stack-config::")
    assert ledger["region"] == "eu-central-1"
    assert (
        "stack config dataRegion (tests/fixtures/pulumi/yaml/stack-config/Pulumi.prod.yaml:2)"
        in (ledger["provenance"])
    )
    assert ledger["classification"] == "personal"  # tags from a variable


def test_a_required_config_key_no_stack_file_sets_is_unknown_with_a_warning() -> None:
    """As a Terraform variable without a value: unknown, CII003 where it decides a verdict."""
    run = run_cli("scan", str(Y / "stack-config"), "--stack", "qa", "--format", "json")
    assert run.code == 1 and run.json["errors"] == []
    (warning,) = [w for w in run.json["warnings"] if "dataRegion" in w["message"]]
    assert warning["file"] == "tests/fixtures/pulumi/yaml/stack-config/Pulumi.yaml"
    assert warning["line"] == 15
    assert "'dataRegion' is required but not set in Pulumi.qa.yaml" in warning["message"]
    assert verdicts(run.json) == [("CII003", "ledger")]
    (v,) = run.json["violations"]
    assert "dataRegion" in v["message"] + v["evidence"]


def test_secure_config_is_unknown_with_a_warning(tmp_path: Path) -> None:
    shutil.copytree(Y / "stack-config", tmp_path / "p")
    (tmp_path / "p" / "Pulumi.prod.yaml").write_text(
        "config:\n  stack-config:dataRegion:\n    secure: AAABAPq1Vw==\n"
    )
    run = run_cli("scan", str(tmp_path / "p"), "--stack", "prod", "--format", "json")
    assert run.code == 1 and run.json["errors"] == []
    assert any("encrypted secret" in w["message"] for w in run.json["warnings"])
    assert verdicts(run.json) == [("CII003", "ledger")]


def test_outputs_a_provider_computes_are_unknown_and_name_their_resource(tmp_path: Path) -> None:
    """``${network.subnets[0].id}``: a property the inputs do not hold is an output, unknown,
    not a "has no property" error (the unknown keeps the resource's URN as its origin)."""
    (tmp_path / "Pulumi.yaml").write_text(
        "name: computed\nruntime: yaml\nresources:\n"
        "  source:\n    type: aws:s3:BucketV2\n    properties:\n"
        "      tags: {data-classification: personal}\n"
        "  replica:\n    type: aws:s3:BucketV2\n"
        "    properties:\n      website: {indexDocument: index.html}\n"
        "  copy:\n    type: aws:s3:BucketObject\n    properties:\n"
        "      bucket: ${replica.website.endpoint}\n"
        "      key: ${source.versioning.mfaDelete}\n"
        "      source: ${replica.serverSideEncryptionConfiguration.rules[0].bucketKeyEnabled}\n"
    )
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: cn-north-1\n")
    run = run_cli("scan", str(tmp_path), "--format", "json")
    assert run.json["errors"] == [], run.json["errors"]
    assert run.code == 0


def test_default_tags_classify_and_a_resource_tag_wins() -> None:
    code, report = scan(Y / "default-tags")
    res = by_name(report)
    assert (res["uploads"]["in_scope"], res["uploads"]["classification"]) == (True, "personal")
    assert res["website"]["in_scope"] is False
    assert (code, verdicts(report)) == (1, [("CII001", "uploads")])


def test_outputs_unknown_before_deployment_are_cii003_not_a_pass() -> None:
    code, report = scan(Y / "unknown-output")
    assert code == 1
    res = by_name(report)
    assert res["records"]["location"] == "unknown"
    assert "site.outputs" in res["records"]["provenance"]
    assert res["sessions"]["flows"][0]["location"] == "unknown"
    assert verdicts(report) == [("CII003", "records"), ("CII003", "sessions")]
    assert all(v["blocking"] for v in report["violations"])


def test_main_directory_and_project_level_config() -> None:
    code, report = scan(Y / "main-dir")
    assert code == 1
    (invoices,) = report["resources"]
    assert (invoices["file"], invoices["line"]) == (
        "tests/fixtures/pulumi/yaml/main-dir/infra/Main.yaml",
        2,
    )
    assert invoices["region"] == "ap-northeast-1"
    assert (
        "project config aws:region (tests/fixtures/pulumi/yaml/main-dir/Pulumi.yaml:6)"
        in (invoices["provenance"])
    )


def test_camel_case_inputs_decide_location_and_flows() -> None:
    code, report = scan(Y / "camel-inputs")
    assert code == 1
    res = by_name(report)
    replica = res["ordersReplica"]
    assert replica["type"] == "aws_db_instance"
    assert (replica["flows"][0]["kind"], replica["flows"][0]["mechanism"]) == (
        "replication",
        "read-replica",
    )
    assert res["apiKeys"]["flows"][0]["argument"] == "replica[0].region"
    # pulumi-aws v7's per-resource region beats the default provider
    assert res["exports"]["region"] == "us-east-1"
    assert res["exports"]["provenance"].startswith("region input of exports (")
    assert verdicts(report) == [
        ("CII001", "exports"),
        ("CII001", "ordersReplica"),
        ("CII002", "apiKeys"),
        ("CII002", "ordersReplica"),
    ]


@pytest.mark.parametrize(
    ("case", "line", "message"),
    [
        ("broken", 8, "YAML syntax error"),
        ("duplicate-key", 9, "duplicate key 'bucket' (first on line 4)"),
        ("bad-reference", 10, "unknown config, variable or resource 'beijing'"),
    ],
)
def test_bad_yaml_is_one_line_error_with_file_and_line(case: str, line: int, message: str) -> None:
    run = run_cli("scan", str(Y / case))
    assert run.code == 2
    assert "Traceback" not in run.stdout + run.stderr
    expected = f"error: tests/fixtures/pulumi/yaml/{case}/Pulumi.yaml:{line}: "
    (first,) = [ln for ln in run.stdout.splitlines() if ln.startswith("error:")]
    assert first.startswith(expected) and message in first


def test_short_tokens_and_text_output_name_the_logical_resource(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: short\nruntime: yaml\nresources:\n  vault:\n    type: aws:backup:Vault\n"
        "    properties:\n      tags:\n        data-classification: core\n"
    )
    env = clean_env(AWS_REGION="eu-west-1")
    run = run_cli("scan", str(tmp_path), "--no-cache", env=env)
    assert run.code == 1
    assert "vault (aws:backup/vault:Vault)" in run.stdout
    assert "environment AWS_REGION" in run.stdout
    _code, report = scan(tmp_path, "--no-cache", env=env)
    assert report["resources"][0]["type"] == "aws_backup_vault"


def test_no_region_anywhere_is_cii003(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: noregion\nruntime: yaml\nresources:\n  b:\n    type: aws:s3:BucketV2\n"
        "    properties:\n      tags:\n        data-classification: personal\n"
    )
    code, report = scan(tmp_path, "--no-cache")
    assert code == 1
    assert [v["policy"] for v in report["violations"]] == ["CII003"]
    assert "aws:region is not set" in report["resources"][0]["provenance"]


def test_esc_environment_makes_missing_config_unknown_not_an_error(tmp_path: Path) -> None:
    shutil.copytree(Y / "stack-config", tmp_path / "p")
    (tmp_path / "p" / "Pulumi.prod.yaml").unlink()
    (tmp_path / "p" / "Pulumi.dev.yaml").write_text("environment:\n  - acme/residency\n")
    code, report = scan(tmp_path / "p", "--no-cache")
    assert report["errors"] == []
    assert [v["policy"] for v in report["violations"]] == ["CII003"]
    assert code == 1


def test_yaml_examples() -> None:
    code, report = scan(EXAMPLES / "pulumi-yaml" / "compliant")
    assert (code, report["violations"], report["errors"]) == (0, [], [])
    code, report = scan(EXAMPLES / "pulumi-yaml" / "violating")
    assert code == 1
    assert {v["policy"] for v in report["violations"]} == {"CII001", "CII002"}


def test_explain_takes_a_urn_or_a_logical_name() -> None:
    by_urn = run_cli(
        "scan",
        str(EXAMPLES / "pulumi-yaml" / "violating"),
        "--explain",
        "urn:pulumi:prod::patient-records::aws:s3/bucketV2:BucketV2::recordsReplica",
    )
    by_name_ = run_cli(
        "scan", str(EXAMPLES / "pulumi-yaml" / "violating"), "--explain", "recordsReplica"
    )
    assert by_urn.code == by_name_.code == 0
    assert by_urn.stdout == by_name_.stdout
    assert "stack config replicaRegion (examples/pulumi-yaml/violating/Pulumi.prod.yaml:4)" in (
        by_name_.stdout
    )


def test_findings_on_pulumi_resources_speak_pulumi() -> None:
    """Type tokens and camelCase input paths as written, not the Terraform names they map to."""
    run = run_cli("scan", str(EXAMPLES / "pulumi-yaml" / "violating"), "--format", "json")
    messages = [v["message"] for v in run.json["violations"]]
    assert any(
        "from appointments (aws:dynamodb/table:Table)" in m
        and m.endswith("input replicas[0].regionName")
        for m in messages
    ), messages
    assert any(m.endswith("input rules[0].destination.bucket") for m in messages), messages
    for m in messages:
        assert "urn:pulumi:" not in m and "region_name" not in m and "aws_s3_bucket" not in m


PASCAL = (
    "name: orders\nruntime: yaml\nConfig:\n  bucketRegion:\n    type: string\n    default: us-east-1\n"
    "Variables:\n  cls: personal\nResources:\n  hk:\n    type: pulumi:providers:aws\n"
    "    properties:\n      region: ${bucketRegion}\n  orders:\n    Type: aws:s3:BucketV2\n"
    "    Properties:\n      tags:\n        data-classification: ${cls}\n"
    "    Options:\n      provider: ${hk}\n"
)


def test_sections_are_read_whatever_their_case(tmp_path: Path) -> None:
    """Pulumi YAML reads ``Resources:`` as ``resources:`` (with a warning), as it already read
    ``Type:``; pulumi/examples' webserver-yaml-json is written so. The whole section was dropped
    and a personal-data bucket in us-east-1 passed (fifth audit)."""
    (tmp_path / "Pulumi.yaml").write_text(PASCAL)
    code, report = scan(tmp_path)
    assert (code, verdicts(report)) == (1, [("CII001", "orders")])
    assert by_name(report)["orders"]["region"] == "us-east-1"


def test_two_spellings_of_one_section_are_refused(tmp_path: Path) -> None:
    """Which of them Pulumi would read is not for the gate to guess: an empty ``resources:`` must
    not hide the ``Resources:`` beside it."""
    (tmp_path / "Pulumi.yaml").write_text(PASCAL + "resources: {}\n")
    run = run_cli("scan", str(tmp_path), env=clean_env(CIIGUARD_CACHE_DIR=str(tmp_path / "c")))
    assert run.code == 2
    assert "Pulumi.yaml:21: 'Resources' and 'resources' are one section" in run.stdout


def test_a_program_made_by_a_compiler_is_not_vouched_for(tmp_path: Path) -> None:
    """``runtime.options.compiler: cue export``: the resources live in the .cue files, which
    Pulumi compiles; the empty template here passed with 0 resources (fifth audit: pulumi/examples
    aws-yaml-cue-eks and two more)."""
    (tmp_path / "Pulumi.yaml").write_text(
        "name: eks\nruntime:\n  name: yaml\n  options:\n    compiler: cue export\n"
    )
    (tmp_path / "main.cue").write_text('resources: bucket: {type: "aws:s3:BucketV2"}\n')
    run = run_cli("scan", str(tmp_path), env=clean_env(CIIGUARD_CACHE_DIR=str(tmp_path / "c")))
    assert run.code == 2
    assert "made by running 'cue export'" in run.stdout


def test_a_provider_config_key_no_stack_file_sets_is_unknown(tmp_path: Path) -> None:
    """``${gcp:region}`` (the kubernetes-gcp-yaml and serverless-gcp-yaml templates) with no
    stack file setting it: unknown with a warning, as a declared key is; the bucket is CII001
    wherever it is (Google Cloud has no region in the mainland). It stopped the scan as an
    unknown name (fifth audit). A name that is not config still does."""
    program = (
        "name: orders\nruntime: yaml\nresources:\n  orders:\n    type: gcp:storage:Bucket\n"
        "    properties:\n      location: ${gcp:region}\n"
        "      labels: {data-classification: personal}\n"
    )
    (tmp_path / "Pulumi.yaml").write_text(program)
    code, report = scan(tmp_path)
    assert (code, verdicts(report)) == (1, [("CII001", "orders")])
    assert "'gcp:region' is required but not set" in report["warnings"][0]["message"]
    (tmp_path / "Pulumi.yaml").write_text(program.replace("gcp:storage:Bucket", "aws:s3:BucketV2")
                                          .replace("location: ${gcp:region}", "region: ${aws:region}")
                                          .replace("labels:", "tags:"))  # fmt: skip
    code, report = scan(tmp_path)
    assert (code, verdicts(report)) == (1, [("CII003", "orders")])
    # a Pulumi finding's fix speaks of the stack config, not of tfvars (seventh audit)
    assert "pulumi config set aws:region" in report["violations"][0]["fix"]
    (tmp_path / "Pulumi.yaml").write_text(program.replace("${gcp:region}", "${gcpregion}"))
    code, report = scan(tmp_path)
    assert code == 2 and "unknown config, variable or resource 'gcpregion'" in str(report["errors"])


def test_an_unset_location_of_a_provider_without_environment_variables_reads_plainly(
    tmp_path: Path,
) -> None:
    """azure-native reads no environment variable for its location: the message said "and no
    environment variable unset" (sixteenth audit)."""
    (tmp_path / "Pulumi.yaml").write_text(
        "name: p\nruntime: yaml\nresources:\n  records:\n"
        "    type: azure-native:storage:StorageAccount\n"
        "    properties:\n      tags:\n        data-classification: personal\n"
    )
    run = run_cli("scan", str(tmp_path), "--no-cache", "--format", "json")
    (v,) = run.json["violations"]
    assert v["policy"] == "CII003"
    assert v["message"].endswith("azure-native:location is not set"), v["message"]
    assert "azure-native:location" in v["fix"]


# Terraform types Pulumi's SDKs no longer have (pulumi-azure 6 dropped the single servers)
NO_PULUMI_TOKEN = {"azurerm_mysql_server", "azurerm_mariadb_server"}


def test_every_data_bearing_and_flow_type_of_a_pulumi_provider_has_its_token() -> None:
    """A Pulumi resource whose token the catalogue does not map holds no data as far as ciiguard
    can tell: a Cognito user pool or a Memorystore instance abroad passed from Pulumi while the
    same Terraform failed. Every data-bearing type of a cloud Pulumi bridges has its token."""
    import json

    data = ROOT / "ciiguard" / "catalogue" / "data"
    mapped = {t["type"] for t in json.loads((data / "pulumi.json").read_text())["types"]}
    missing = []
    for cloud in ("aws", "azure", "google", "alicloud"):
        catalogue = json.loads((data / f"{cloud}.json").read_text())
        # the stores, and the resources that move their data (flow rules, what stands for one)
        for key in ("data_bearing", "replication", "located_by"):
            missing += [e["type"] for e in catalogue.get(key, []) if e["type"] not in mapped]
    assert sorted(set(missing) - NO_PULUMI_TOKEN) == []


def test_alibaba_flows_written_in_pulumi_are_followed() -> None:
    """An SLS alert's webhook (notificationLists), an image pipeline to Hong Kong
    (toRegionIds), an EventBridge rule routing a personal queue's messages there (the event
    source's externalSourceConfig keeps its keys as written): each passed from Pulumi."""
    run = run_cli(
        "scan", str(FIXTURES / "egress-audit" / "china-alicloud-pulumi-paths"), "--no-cache",
        "--format", "json",
    )  # fmt: skip
    got = sorted((v["policy"], v["resource"].rsplit("::", 1)[1]) for v in run.json["violations"])
    assert got == [("CII002", "pipe"), ("CII002", "rule"), ("CII003", "alert")]


def test_a_user_pool_abroad_fails_from_pulumi_too(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: p\nruntime: yaml\nresources:\n  users:\n    type: aws:cognito:UserPool\n"
        "    properties:\n      tags:\n        data-classification: personal\n"
    )
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  aws:region: ap-east-1\n")
    run = run_cli("scan", str(tmp_path), "--no-cache", "--format", "json")
    assert [(v["policy"], v["resource"].rsplit("::", 1)[1]) for v in run.json["violations"]] == [
        ("CII001", "users")
    ]
