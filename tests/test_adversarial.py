"""Evasion attempts: small, realistic configurations that try to get data past the gate.

Each case under ``fixtures/adversarial/<case>/`` hides a foreign region or a cross-border flow
behind one trick (variables, tfvars precedence, the environment, modules, aliases, expansion,
dynamic blocks, JSON syntax, override files, spelling tricks, Pulumi stack config, plan JSON...).
The gate must report exactly the expected policy on exactly the expected address, and a
configuration Terraform itself would reject must be refused (exit 2, file and line), never passed.

Every case runs in-process through the registered parsers and policies; a representative subset,
and in CI (slow) every case, also runs through the installed ``ciiguard`` command.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ciiguard.testing import claimed_by, scan_path
from tests.conftest import FIXTURES, clean_env, run_cli

ADV = FIXTURES / "adversarial"
URN = "urn:pulumi:{stack}::{project}::{type}::{name}"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"


@dataclass(frozen=True)
class Evasion:
    case: str
    why: str
    # exactly these (policy, address, region) violations, in any order; region None: not checked
    findings: tuple[tuple[str, str, str | None], ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    var_inputs: tuple[tuple[str, str], ...] = ()  # ("var", "N=V") / ("file", "path"), like the CLI
    refused: tuple[str, int | None] | None = None  # exit 2 with an error at (file, line)
    needs: str | None = None  # an input file a parser must claim (Pulumi, plan) or the case skips

    @property
    def cli_args(self) -> list[str]:
        args: list[str] = []
        for kind, item in self.var_inputs:
            args += ["--var-file" if kind == "file" else "--var", item]
        return args


def one(policy: str, address: str, region: str | None = None) -> tuple[tuple[str, str, str | None]]:
    return ((policy, address, region),)


B = "aws_s3_bucket.records"

CASES = [
    # -- variables, tfvars and the environment -------------------------------------------------
    Evasion(
        "var-default",
        "foreign default of an innocently named variable",
        one("CII001", B, "ap-east-1"),
    ),
    Evasion("locals-chain", "region assembled from three locals", one("CII001", B, "ap-east-1")),
    Evasion(
        "tfvars-override",
        "mainland default overridden in terraform.tfvars",
        one("CII001", B, "ap-east-1"),
    ),
    Evasion(
        "tfvars-json-beats-tfvars",
        "terraform.tfvars.json wins over terraform.tfvars",
        one("CII001", B, "us-west-2"),
    ),
    Evasion(
        "auto-tfvars-lexical-order",
        "the lexically last *.auto.tfvars wins",
        one("CII001", B, "eu-central-1"),
    ),
    Evasion(
        "tf-var-environment",
        "no default; TF_VAR_region in the CI environment",
        one("CII001", B, "ap-southeast-1"),
        env={"TF_VAR_region": "ap-southeast-1"},
    ),
    Evasion(
        "tf-var-over-default",
        "TF_VAR_ beats the declared mainland default",
        one("CII001", B, "us-east-1"),
        env={"TF_VAR_region": "us-east-1"},
    ),
    Evasion(
        "tf-var-typed-list",
        "a list(string) variable set through TF_VAR_ drives for_each",
        one("CII001", f'{B}["ap-east-1"]', "ap-east-1"),
        env={"TF_VAR_regions": '["cn-north-1", "ap-east-1"]'},
    ),
    Evasion(
        "tf-cli-args-environment",
        "-var hidden in TF_CLI_ARGS_plan",
        one("CII001", B, "eu-south-1"),
        env={"TF_CLI_ARGS_plan": "-input=false -var 'region=eu-south-1'"},
    ),
    Evasion(
        "tf-cli-args-var-file",
        "-var-file hidden in TF_CLI_ARGS",
        one("CII001", B, "ap-southeast-2"),
        env={"TF_CLI_ARGS": "-var-file=env/dr.tfvars"},
    ),
    Evasion(
        "var-file-explicit",
        "--var-file of the pipeline",
        one("CII001", B, "ap-south-1"),
        var_inputs=(("file", "env/prod.tfvars"),),
    ),
    Evasion(
        "cli-var-typed-map",
        "--var with an HCL map for a map(string) variable",
        one("CII001", B, "ap-east-1"),
        var_inputs=(("var", 'regions={primary = "ap-east-1"}'),),
    ),
    Evasion(
        "env-aws-region",
        "provider without region, AWS_REGION in the environment",
        one("CII001", B, "eu-west-1"),
        env={"AWS_REGION": "eu-west-1"},
    ),
    Evasion(
        "env-aws-region-precedence",
        "AWS_REGION beats a mainland AWS_DEFAULT_REGION",
        one("CII001", B, "ap-east-1"),
        env={"AWS_REGION": "ap-east-1", "AWS_DEFAULT_REGION": "cn-north-1"},
    ),
    Evasion(
        "env-alicloud-region",
        "alicloud provider without region, Hong Kong from the environment",
        one("CII001", "alicloud_oss_bucket.records", "cn-hongkong"),
        env={"ALIBABA_CLOUD_REGION": "cn-hongkong"},
    ),
    Evasion(
        "env-alicloud-region-precedence",
        "ALICLOUD_REGION (Hong Kong) beats a mainland ALIBABA_CLOUD_REGION, as in the provider",
        one("CII001", "alicloud_oss_bucket.records", "cn-hongkong"),
        env={"ALICLOUD_REGION": "cn-hongkong", "ALIBABA_CLOUD_REGION": "cn-beijing"},
    ),
    Evasion(
        "alicloud-profile-region",
        "no region but a profile: not the cn-beijing default",
        one("CII003", "alicloud_oss_bucket.records"),
    ),
    Evasion(
        "workspace-conditional",
        "region chosen by terraform.workspace (TF_WORKSPACE)",
        one("CII001", B, "eu-west-1"),
        env={"TF_WORKSPACE": "prod"},
    ),
    # -- modules, providers and aliases -------------------------------------------------------
    Evasion(
        "module-providers-map",
        "module receives aws = aws.hk",
        one("CII001", f"module.store.{B}", "ap-east-1"),
    ),
    Evasion(
        "nested-module-inheritance",
        "two levels of implicit provider inheritance",
        one("CII001", f"module.app.module.storage.{B}", "ap-northeast-1"),
    ),
    Evasion(
        "nested-module-alias-chain",
        "alias passed down as aws.replica, then as aws",
        one("CII001", f"module.outer.module.inner.{B}", "ap-southeast-1"),
    ),
    Evasion(
        "module-variable-region",
        "module with its own provider fed by a module input",
        one("CII001", f"module.store.{B}", "eu-west-2"),
    ),
    Evasion(
        "module-output-region",
        "root provider region read from a module output",
        one("CII001", B, "us-east-2"),
    ),
    Evasion(
        "for-each-module",
        "module for_each over regions",
        one("CII001", f'module.store["eu-west-1"].{B}', "eu-west-1"),
    ),
    Evasion(
        "alias-selection",
        "mainland default provider, resource picks aws.backup",
        one("CII001", B, "us-west-1"),
    ),
    Evasion(
        "required-providers-local-name",
        "AWS provider under the local name 'amazon'",
        one("CII001", B, "us-east-1"),
    ),
    Evasion(
        "resource-region-overrides-provider",
        "AWS v6 per-resource region argument",
        one("CII001", B, "us-west-2"),
    ),
    Evasion(
        "default-tags-alias",
        "classification only in the alias's default_tags",
        one("CII001", B, "eu-west-1"),
    ),
    # -- expansion and dynamic blocks ---------------------------------------------------------
    Evasion(
        "count-index-region",
        "second count instance goes abroad",
        one("CII001", f"{B}[1]", "ap-east-1"),
    ),
    Evasion(
        "for-each-map-region",
        "for_each map with a dr entry abroad",
        one("CII001", f'{B}["dr"]', "ap-southeast-1"),
    ),
    Evasion(
        "dynamic-replica",
        "DynamoDB replicas from a dynamic block",
        one("CII002", "aws_dynamodb_table.orders", "ap-east-1"),
    ),
    Evasion(
        "dynamic-iterator",
        "dynamic block with a renamed iterator",
        one("CII002", "aws_dynamodb_table.orders", "eu-west-1"),
    ),
    Evasion(
        "dynamodb-replica-tfvars",
        "replica region from *.auto.tfvars",
        one("CII002", "aws_dynamodb_table.orders", "ap-northeast-1"),
    ),
    Evasion(
        "secretsmanager-replica-for",
        "replicas from a for expression over upper-case names",
        one("CII002", "aws_secretsmanager_secret.db_credentials", "us-east-1"),
    ),
    Evasion(
        "s3-replication-foreign-alias",
        "replication to a bucket of the aws.hk provider",
        (
            ("CII002", "aws_s3_bucket_replication_configuration.records", "ap-east-1"),
            ("CII001", "aws_s3_bucket.replica", "ap-east-1"),
        ),
    ),
    Evasion(
        "s3-replication-arn-literal",
        "destination ARN assembled with join()",
        one(
            "CII002",
            "aws_s3_bucket_replication_configuration.records",
            "arn:aws:s3:::acme-dr-records",
        ),
    ),
    Evasion(
        "replica-region-from-resource-tag",
        "replica region read from a tag of a mainland bucket: the tag's configured value "
        "(Terraform's plan knows it), not that bucket's region",
        one("CII002", "aws_dynamodb_table.orders", "us-east-1"),
    ),
    Evasion(
        "replica-region-from-resource-region",
        "replica region is the .region of a bucket on the Tokyo alias",
        (
            ("CII002", "aws_dynamodb_table.orders", "ap-northeast-1"),
            ("CII001", "aws_s3_bucket.anchor", "ap-northeast-1"),
        ),
    ),
    # -- references to other resources' arguments (what the plan knows) ----------------------
    *(
        Evasion(
            case,
            f"the replication source is a counted bucket written as {how}",
            (
                ("CII002", "aws_s3_bucket_replication_configuration.r", "ap-east-1"),
                ("CII001", "aws_s3_bucket.dst", "ap-east-1"),
            ),
        )
        for case, how in (
            ("source-join-splat", 'join("", aws_s3_bucket.src[*].id)'),
            ("source-one-splat", "one(aws_s3_bucket.src[*].id)"),
            ("source-element-concat", 'element(concat(aws_s3_bucket.src.*.id, [""]), 0)'),
            ("source-splat-index", "aws_s3_bucket.src[*].id[0]"),
            ("source-legacy-splat-index", "aws_s3_bucket.src.*.id[0]"),
        )
    ),
    Evasion(
        "source-join-alicloud-backup",
        "an RDS cross-region backup to Hong Kong whose instance is join()ed from a splat",
        one("CII002", "alicloud_rds_instance_cross_backup_policy.x", "cn-hongkong"),
    ),
    Evasion(
        "location-from-resource-group",
        "the location is the resource group's (directly and through a local holding the group)",
        (
            ("CII001", "azurerm_storage_account.sa", "East Asia"),
            ("CII001", "azurerm_key_vault.kv", "East Asia"),
        ),
    ),
    Evasion(
        "location-from-for-each-group",
        "each storage account takes the location of the group with its key",
        one("CII001", 'azurerm_storage_account.sa["hk"]', "eastasia"),
    ),
    Evasion(
        "destination-depends-on-condition",
        "the destination is one of a mainland and a Hong Kong bucket, decided only at apply",
        one("CII003", "aws_s3_bucket_replication_configuration.r"),
    ),
    Evasion(
        "source-unknown-to-hong-kong",
        "replicates an unnamed bucket (a variable without a value) to Hong Kong",
        one("CII003", "aws_s3_bucket_replication_configuration.r", "arn:aws:s3:::orders-hk"),
    ),
    # -- JSON syntax, overrides and duplicates ------------------------------------------------
    Evasion("json-syntax-provider", "provider in main.tf.json", one("CII001", B, "ap-east-1")),
    Evasion(
        "json-syntax-interpolation",
        "${var.region} in JSON syntax, variable in JSON",
        one("CII001", B, "us-east-1"),
    ),
    Evasion(
        "mixed-hcl-json",
        "HCL variable, JSON tfvars, JSON provider, HCL resource",
        one("CII001", B, "us-east-1"),
    ),
    Evasion(
        "dynamic-in-json",
        "dynamic replica block in JSON syntax",
        one("CII002", "aws_dynamodb_table.orders", "ap-southeast-1"),
    ),
    Evasion(
        "override-file",
        "a_override.tf replaces the mainland region (sorted first!)",
        one("CII001", B, "us-east-1"),
    ),
    Evasion(
        "override-resource-region",
        "override.tf.json adds a region argument",
        one("CII001", B, "ap-east-1"),
    ),
    Evasion(
        "duplicate-attribute", "region set twice; the first is mainland", refused=("main.tf", 3)
    ),
    Evasion(
        "duplicate-provider",
        "two default aws providers in two files",
        refused=("z-providers.tf", 1),
    ),
    Evasion(
        "duplicate-variable",
        "variable declared twice, mainland one last",
        refused=("z-variables.tf", 1),
    ),
    Evasion("duplicate-local", "local declared twice, mainland one last", refused=("main.tf", 6)),
    Evasion(
        "tfvars-duplicate-key",
        "terraform.tfvars sets region twice",
        refused=("terraform.tfvars", 2),
    ),
    Evasion(
        "tfvars-json-duplicate-key",
        "terraform.tfvars.json repeats a key",
        refused=("terraform.tfvars.json", 3),
    ),
    Evasion(
        "tf-json-duplicate-key", "main.tf.json repeats the region key", refused=("main.tf.json", 5)
    ),
    # -- spelling tricks ----------------------------------------------------------------------
    Evasion("case-upper-region", "AP-EAST-1 in capitals", one("CII001", B, "AP-EAST-1")),
    Evasion(
        "whitespace-region", "blanks and a tab around the id", one("CII001", B, " ap-east-1\t")
    ),
    Evasion("function-lower", "lower() of a capitalised id", one("CII001", B, "ap-east-1")),
    Evasion(
        "function-replace",
        "replace() turns a mainland id into Hong Kong",
        one("CII001", B, "ap-east-1"),
    ),
    Evasion(
        "function-format-join", "join() and format() assemble the id", one("CII001", B, "eu-west-1")
    ),
    Evasion("escape-sequence", "\\u002d instead of a hyphen", one("CII001", B, "ap-east-1")),
    Evasion("heredoc-region", "heredoc with trimspace()", one("CII001", B, "ap-east-1")),
    Evasion(
        "homoglyph-region",
        "Cyrillic es (U+0441) for the c of cn-north-1: not a mainland id",
        one("CII003", B, "\u0441n-north-1"),
    ),
    Evasion("comment-decoy", "mainland regions only in comments", one("CII001", B, "eu-west-1")),
    Evasion("bom-crlf", "UTF-8 BOM and CRLF line ends", one("CII001", B, "ap-east-1")),
    Evasion("try-fallback", "try() falls back to a foreign region", one("CII001", B, "eu-north-1")),
    Evasion("lookup-map", "lookup() in a map keyed by environment", one("CII001", B, "ap-east-1")),
    Evasion(
        "for-expression-filter",
        "for expression filters the mainland out",
        one("CII001", B, "sa-east-1"),
    ),
    Evasion("splat-region", "(splat)[0] picks the first site", one("CII001", B, "me-south-1")),
    Evasion(
        "azure-display-name",
        "Azure display name 'East Asia'",
        one("CII001", "azurerm_storage_account.records", "East Asia"),
    ),
    Evasion(
        "azure-case-spacing",
        "Azure location in odd case with blanks",
        one("CII001", "azurerm_storage_account.records", "  eastAsia "),
    ),
    Evasion(
        "alicloud-hongkong-prefix",
        "cn-hongkong starts with cn-",
        one("CII001", "alicloud_oss_bucket.records", "cn-hongkong"),
    ),
    Evasion(
        "huawei-ap-southeast-1",
        "Huawei ap-southeast-1 is Hong Kong",
        one("CII001", "huaweicloud_obs_bucket.records", "ap-southeast-1"),
    ),
    Evasion(
        "google-multiregion",
        "GCP multi-region ASIA",
        one("CII001", "google_storage_bucket.records", "ASIA"),
    ),
    # -- classification tricks ----------------------------------------------------------------
    Evasion(
        "tag-case-duplicate",
        "decoy Data-Classification=public next to the real tag",
        one("CII001", B, "eu-west-1"),
    ),
    Evasion(
        "tag-from-merge",
        "classification tag from merge() of a local",
        one("CII001", B, "eu-west-1"),
    ),
    Evasion(
        "tag-key-variable", "classification key from a variable", one("CII001", B, "eu-west-1")
    ),
    # -- plan JSON ------------------------------------------------------------------------------
    Evasion(
        "plan-provider-variable",
        "provider region is a reference to a plan variable",
        one("CII001", B, "ap-east-1"),
        needs="tfplan.json",
    ),
    Evasion(
        "plan-alias-key",
        "provider_config_key aws.hk",
        one("CII001", B, "ap-east-1"),
        needs="tfplan.json",
    ),
    Evasion(
        "plan-module-provider",
        "module.store:aws fed by a root variable",
        one("CII001", f"module.store.{B}", "eu-central-1"),
        needs="tfplan.json",
    ),
    Evasion(
        "plan-resource-region",
        "per-resource region in planned values",
        one("CII001", B, "ap-east-1"),
        needs="tfplan.json",
    ),
    Evasion(
        "plan-dynamodb-replica",
        "replica in planned values",
        one("CII002", "aws_dynamodb_table.orders", "ap-southeast-1"),
        needs="tfplan.json",
    ),
    Evasion(
        "plan-replace-action",
        "replace (delete, create) still creates",
        one("CII001", B, "eu-west-1"),
        needs="tfplan.json",
    ),
    # -- Pulumi ---------------------------------------------------------------------------------
    Evasion(
        "pulumi-stack-config",
        "aws:region only in Pulumi.prod.yaml",
        one(
            "CII001",
            URN.format(stack="prod", project="records", type=BUCKET_V2, name="records"),
            "ap-east-1",
        ),
        needs="Pulumi.yaml",
    ),
    Evasion(
        "pulumi-stack-overrides-project",
        "stack config beats the project default",
        one(
            "CII001",
            URN.format(stack="prod", project="records", type=BUCKET_V2, name="records"),
            "eu-west-1",
        ),
        needs="Pulumi.yaml",
    ),
    Evasion(
        "pulumi-provider-option",
        "explicit provider fed by namespaced stack config",
        one(
            "CII001",
            URN.format(stack="prod", project="records", type=BUCKET_V2, name="records"),
            "ap-southeast-1",
        ),
        needs="Pulumi.yaml",
    ),
    Evasion(
        "pulumi-resource-region",
        "pulumi-aws v7 region input beats stack config",
        one(
            "CII001",
            URN.format(stack="prod", project="records", type=BUCKET_V2, name="records"),
            "ap-east-1",
        ),
        needs="Pulumi.yaml",
    ),
    Evasion(
        "pulumi-environment-region",
        "no config: AWS_REGION of the environment",
        one(
            "CII001",
            URN.format(stack="stack", project="records", type=BUCKET_V2, name="records"),
            "eu-west-1",
        ),
        env={"AWS_REGION": "eu-west-1"},
        needs="Pulumi.yaml",
    ),
    Evasion(
        "pulumi-variables-interpolation",
        "provider region interpolated from a variable",
        one(
            "CII001",
            URN.format(stack="stack", project="records", type=BUCKET_V2, name="records"),
            "ap-east-1",
        ),
        needs="Pulumi.yaml",
    ),
    Evasion(
        "pulumi-dynamodb-replica",
        "short type token, replicas[].regionName",
        one(
            "CII002",
            URN.format(
                stack="prod", project="orders", type="aws:dynamodb/table:Table", name="orders"
            ),
            "ap-northeast-1",
        ),
        needs="Pulumi.yaml",
    ),
    Evasion(
        "pulumi-default-tags",
        "classification only in aws:defaultTags",
        one(
            "CII001",
            URN.format(stack="prod", project="records", type=BUCKET_V2, name="records"),
            "us-east-1",
        ),
        needs="Pulumi.yaml",
    ),
    Evasion(
        "pulumi-json-syntax-program",
        "program in Main.json next to Pulumi.yaml",
        one(
            "CII001",
            URN.format(stack="stack", project="records", type=BUCKET_V2, name="records"),
            "ap-east-1",
        ),
        needs="Pulumi.yaml",
    ),
    Evasion(
        "pulumi-secret-region",
        "aws:region as an encrypted secret",
        one("CII003", URN.format(stack="prod", project="records", type=BUCKET_V2, name="records")),
        needs="Pulumi.yaml",
    ),
    Evasion(
        "pulumi-several-stacks",
        "a mainland dev stack next to a foreign prod stack",
        refused=("Pulumi.yaml", None),
        needs="Pulumi.yaml",
    ),
    Evasion(
        "pulumi-stack-export",
        "provider URN reference in a stack export",
        one(
            "CII001",
            URN.format(stack="prod", project="records", type=BUCKET_V2, name="records"),
            "ap-east-1",
        ),
        needs="records-prod.json",
    ),
]

CLI_SUBSET = {
    "tfvars-override",
    "tf-cli-args-var-file",
    "env-aws-region",
    "var-file-explicit",
    "module-providers-map",
    "override-file",
    "required-providers-local-name",
    "duplicate-provider",
    "tag-case-duplicate",
    "plan-module-provider",
    "pulumi-stack-config",
}


def _skip_unless_claimed(case: Evasion) -> None:
    if case.needs is None:
        return
    path = ADV / case.case / case.needs
    if claimed_by(case.needs, path.read_text(encoding="utf-8")) is None:
        pytest.skip(f"no registered parser claims {case.needs} yet")


def _expected(case: Evasion) -> list[tuple[str, str]]:
    return sorted((p, a) for p, a, _ in case.findings)


def test_at_least_forty_evasions_each_with_its_own_fixture() -> None:
    names = [c.case for c in CASES]
    assert len(names) == len(set(names)) >= 40
    on_disk = {p.name for p in ADV.iterdir() if p.is_dir()}
    assert set(names) == on_disk, "every fixture has a case and every case a fixture"
    assert all(c.findings or c.refused for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.case for c in CASES])
def test_evasion_is_caught(case: Evasion) -> None:
    _skip_unless_claimed(case)
    outcome = scan_path(
        ADV / case.case, check=False, env=dict(case.env), var_inputs=case.var_inputs
    )
    if case.refused is not None:
        file, line = case.refused
        assert outcome.exit_code == 2, outcome.violations
        assert any(e.file == file and e.line == line for e in outcome.issues), outcome.errors
        return
    assert outcome.errors == []
    got = sorted((v.policy, v.resource) for v in outcome.violations)
    assert got == _expected(case)
    assert all(v.blocking for v in outcome.violations)
    assert outcome.exit_code == 1
    for policy, address, region in case.findings:
        if region is not None:
            v = next(v for v in outcome.violations if (v.policy, v.resource) == (policy, address))
            assert v.region == region


def _run_through_cli(case: Evasion) -> None:
    _skip_unless_claimed(case)
    run = run_cli(
        "scan",
        ".",
        "--format",
        "json",
        "--no-cache",
        "--no-config",
        *case.cli_args,
        env=clean_env(**case.env),
        cwd=ADV / case.case,
    )
    assert "Traceback" not in run.stderr
    report = run.json
    if case.refused is not None:
        file, line = case.refused
        assert run.code == 2
        assert any(e["file"] == file and e["line"] == line for e in report["errors"])
        return
    assert run.code == 1, run.stderr
    assert report["errors"] == []
    got = sorted((v["policy"], v["resource"]) for v in report["violations"])
    assert got == _expected(case)
    regions = {(v["policy"], v["resource"]): v["region"] for v in report["violations"]}
    for policy, address, region in case.findings:
        if region is not None:
            assert regions[(policy, address)] == region


@pytest.mark.parametrize("case", [c for c in CASES if c.case in CLI_SUBSET], ids=lambda c: c.case)
def test_evasion_is_caught_by_the_installed_command(case: Evasion) -> None:
    _run_through_cli(case)


def _batchable(case: Evasion) -> bool:
    return not (case.env or case.var_inputs or case.refused) and case.case not in CLI_SUBSET


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c.case not in CLI_SUBSET and not _batchable(c)],
    ids=lambda c: c.case,
)
def test_every_other_evasion_through_the_installed_command(case: Evasion) -> None:
    _run_through_cli(case)


@pytest.mark.slow
def test_the_plain_evasions_in_one_run_of_the_installed_command() -> None:
    """Every case that needs no environment or options, all scanned by one command: each finding
    is attributed to its case by the first part of its file path."""
    batch = [c for c in CASES if _batchable(c)]
    for c in batch:
        _skip_unless_claimed(c)
    run = run_cli(
        "scan", *[c.case for c in batch], "--format", "json", "--no-cache", "--no-config", cwd=ADV
    )
    assert "Traceback" not in run.stderr
    report = run.json
    assert (run.code, report["errors"]) == (1, [])
    for c in batch:
        mine = [v for v in report["violations"] if v["file"].split("/")[0] == c.case]
        assert sorted((v["policy"], v["resource"]) for v in mine) == _expected(c), c.case
        regions = {(v["policy"], v["resource"]): v["region"] for v in mine}
        assert all(regions[(p, a)] == r for p, a, r in c.findings if r is not None), c.case


@pytest.mark.parametrize(
    ("case", "var"),
    [
        ("location-from-resource-group", "location=chinanorth3"),
        ("location-from-resource-group", "location=China North 3"),
    ],
)
def test_a_mainland_resource_group_passes_without_unknowns(case: str, var: str) -> None:
    """Where the plan knows the group's location, so does ciiguard: no CII003 to wave through."""
    outcome = scan_path(ADV / case, check=False, var_inputs=(("var", var),))
    assert outcome.errors == [] and outcome.violations == []
    assert outcome.exit_code == 0


def test_a_symlinked_tfvars_leaving_the_tree_is_refused(tmp_path: Path) -> None:
    """A terraform.tfvars that links outside the scanned directory is not silently followed."""
    outside = tmp_path / "elsewhere.tfvars"
    outside.write_text('region = "cn-north-1"\n')
    root = tmp_path / "stack"
    root.mkdir()
    (root / "main.tf").write_text((ADV / "tfvars-override" / "main.tf").read_text())
    (root / "terraform.tfvars").symlink_to(outside)
    outcome = scan_path(root, check=False)
    assert outcome.exit_code == 2
    assert {e.file for e in outcome.issues} == {"terraform.tfvars"}
    assert all("outside the scanned directory" in e.message for e in outcome.issues)
    allowed = scan_path(root, check=False, allow_outside_root=True)
    assert allowed.errors == [] and allowed.exit_code == 0  # cn-north-1 from the linked file
