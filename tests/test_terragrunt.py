"""Terragrunt units: each read as the root module terragrunt would run, with provenance through the
Terragrunt files, and nothing executed (issue 19)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ciiguard.model import Location, Unknown
from ciiguard.testing import Outcome, Scanner, scan_path
from tests.conftest import FIXTURES, clean_env, run_cli

ESTATE = FIXTURES / "terragrunt" / "estate"
ROOT_HCL = """
    locals {
      region = read_terragrunt_config(find_in_parent_folders("region.hcl")).locals.region
    }
    generate "provider" {
      path      = "provider.tf"
      if_exists = "overwrite_terragrunt"
      contents  = <<EOF
    provider "aws" {
      region = "${local.region}"
      default_tags {
        tags = { data-classification = "personal" }
      }
    }
    EOF
    }
"""
BUCKET = """
    resource "aws_s3_bucket" "b" {
      bucket = "orders"
    }
"""


def scan(files: dict[str, str], **options: Any) -> Outcome:
    options.setdefault("check", False)
    return Scanner().files(files, **options)


def region_of(out: Outcome, address: str, unit: str | None = None) -> str | None:
    for r in out.resources:
        if r.address == address and (unit is None or r.root == unit):
            return r.region.region
    raise AssertionError(f"{address} not found in {[(r.root, r.address) for r in out.resources]}")


def explain(out: Outcome, address: str, unit: str | None = None) -> str:
    for r in out.resources:
        if r.address == address and (unit is None or r.root == unit):
            return r.region.explain()
    raise AssertionError(address)


# -- the fixture estate ----------------------------------------------------------------------------
def test_the_estate_gives_the_verdicts_the_law_implies() -> None:
    out = scan_path(ESTATE, check=False)
    assert out.errors == []
    got = sorted((v.policy, v.resource, v.region or "") for v in out.violations)
    assert got == [
        ("CII001", "aws_s3_bucket.primary", "ap-east-1"),
        ("CII001", "aws_s3_bucket.replica", "ap-east-1"),
        ("CII002", "aws_dynamodb_table.this", "ap-east-1"),
    ]
    roots = sorted({r.root for r in out.resources})
    assert roots == [
        "live/prod/ap-east-1/orders",
        "live/prod/cn-north-1/orders",
        "live/prod/cn-north-1/sessions",
        "live/staging/cn-north-1/sessions",
    ]  # the modules are never scanned as roots of their own
    assert {r.input for r in out.resources} == {"terragrunt"}
    beijing = [r for r in out.resources if r.root == "live/prod/cn-north-1/orders"]
    assert {r.region.region for r in beijing if r.data_bearing} == {"cn-north-1", "cn-northwest-1"}
    assert all(r.location is Location.MAINLAND for r in beijing if r.data_bearing)
    flows = [f for r in beijing for f in r.flows]
    assert [(f.destination, f.destination_location) for f in flows] == [
        ("cn-northwest-1", Location.MAINLAND)
    ]


def test_provenance_names_the_terragrunt_files_a_reviewer_changes() -> None:
    out = scan_path(ESTATE, check=False)
    primary = explain(out, "aws_s3_bucket.primary", "live/prod/ap-east-1/orders")
    assert primary == (
        "unit live/prod/ap-east-1/orders (live/prod/ap-east-1/orders/terragrunt.hcl)"
        " <- provider aws (written by generate 'provider' into provider.tf) (root.hcl:15)"
        ' = "ap-east-1"'
        ' <- local.aws_region (root.hcl:6) = "ap-east-1"'
        " <- local.region_vars (root.hcl:4) = {dependency, generate, inputs, locals, terraform}"
        ' <- local.aws_region (live/prod/ap-east-1/region.hcl:2) = "ap-east-1"'
    )
    replica = explain(out, "aws_s3_bucket.replica", "live/prod/ap-east-1/orders")
    assert replica.endswith(
        "<- provider aws.replica (modules/s3-replicated/main.tf:15) <- var.replica_region"
        ' <- inputs.replica_region (live/prod/ap-east-1/orders/terragrunt.hcl:11) = "ap-east-1"'
    )
    fixes = {v.resource: v.fix for v in out.violations if v.policy == "CII001"}
    assert "live/prod/ap-east-1/region.hcl:2" in fixes["aws_s3_bucket.primary"]
    assert "live/prod/ap-east-1/orders/terragrunt.hcl:11" in fixes["aws_s3_bucket.replica"]


def test_the_estate_from_the_command_line() -> None:
    run = run_cli("scan", str(ESTATE), "--format", "json", "--no-cache")
    assert run.code == 1, run.stderr
    report = run.json
    assert sorted(v["policy"] for v in report["violations"]) == ["CII001", "CII001", "CII002"]
    text = run_cli("scan", str(ESTATE), "--no-cache")
    assert "no Terraform" not in text.stdout + text.stderr
    assert "live/prod/ap-east-1/region.hcl:2" in text.stdout


# -- discovery -------------------------------------------------------------------------------------
def test_a_repository_of_only_units_is_scanned_and_a_remote_module_is_cii003() -> None:
    out = scan(
        {
            "live/app/terragrunt.hcl": """
                terraform {
                  source = "git::https://example.com/modules.git//app?ref=v1"
                }
            """
        }
    )
    assert out.errors == []
    [v] = out.violations
    assert v.policy == "CII003" and v.file == "live/app/terragrunt.hcl" and v.line == 2
    assert "git::https://example.com/modules.git//app?ref=v1" in v.message
    assert "[module_sources]" in v.fix and "git::https://example.com/modules.git" in v.fix


def test_a_terragrunt_file_ciiguard_cannot_read_is_an_error_with_its_line() -> None:
    out = scan({"live/app/terragrunt.hcl": 'inputs = {\n  region = "x"\n  broken = \n}\n'})
    assert out.exit_code == 2
    assert any(e.startswith("live/app/terragrunt.hcl:") for e in out.errors), out.errors


def test_a_broken_include_is_an_error_at_the_include_block() -> None:
    out = scan(
        {
            "live/app/terragrunt.hcl": """
                include "root" {
                  path = find_in_parent_folders("root.hcl")
                }
            """,
            "live/app/main.tf": BUCKET,
        }
    )
    assert out.exit_code == 2
    assert any("live/app/terragrunt.hcl:2" in e and "root.hcl" in e for e in out.errors), out.errors


def test_mixed_repositories_scan_both_and_never_a_unit_twice() -> None:
    out = scan(
        {
            "plain/main.tf": 'provider "aws" {\n  region = "cn-north-1"\n}\n' + BUCKET,
            "root.hcl": ROOT_HCL,
            "live/region.hcl": 'locals {\n  region = "ap-east-1"\n}\n',
            "live/app/terragrunt.hcl": 'include "root" {\n  path = find_in_parent_folders("root.hcl")\n}\n',
            "live/app/main.tf": BUCKET,
        }
    )
    assert out.errors == []
    assert sorted((r.root, r.address, r.region.region) for r in out.resources) == [
        ("live/app", "aws_s3_bucket.b", "ap-east-1"),
        ("plain", "aws_s3_bucket.b", "cn-north-1"),
    ]


def test_a_module_run_by_a_unit_is_not_also_a_root_but_its_own_modules_are_followed() -> None:
    out = scan(
        {
            "modules/app/main.tf": 'module "store" {\n  source = "../store"\n}\n',
            "modules/store/main.tf": BUCKET,
            "root.hcl": ROOT_HCL,
            "live/region.hcl": 'locals {\n  region = "cn-north-1"\n}\n',
            "live/app/terragrunt.hcl": """
                include "root" {
                  path = find_in_parent_folders("root.hcl")
                }
                terraform {
                  source = "../../modules//app"
                }
            """,
        }
    )
    assert out.errors == []
    assert [(r.root, r.address) for r in out.resources] == [
        ("live/app", "module.store.aws_s3_bucket.b")
    ]


def test_terragrunt_caches_and_stacks() -> None:
    out = scan(
        {
            "live/app/terragrunt.hcl": 'terraform {\n  source = "../../m"\n}\n',
            "m/main.tf": 'provider "aws" {\n  region = "cn-north-1"\n}\n' + BUCKET,
            "live/app/.terragrunt-cache/x/y/terragrunt.hcl": "this is a copy terragrunt made {",
            "live/app/.terragrunt-cache/x/y/main.tf": BUCKET,
            "stack/terragrunt.stack.hcl": 'unit "a" {\n  source = "x"\n  path = "a"\n}\n',
        }
    )
    assert out.errors == []
    assert [(r.root, r.address) for r in out.resources] == [("live/app", "aws_s3_bucket.b")]
    [gap] = out.of("CII003")
    assert gap.file == "stack/terragrunt.stack.hcl" and "terragrunt stack generate" in gap.fix


def test_an_old_style_root_terragrunt_hcl_is_read_through_the_units_that_include_it() -> None:
    out = scan(
        {
            "terragrunt.hcl": ROOT_HCL,
            "live/region.hcl": 'locals {\n  region = "cn-north-1"\n}\n',
            "live/app/terragrunt.hcl": "include {\n  path = find_in_parent_folders()\n}\n",
            "live/app/main.tf": BUCKET,
        }
    )
    assert out.errors == []  # the root file is never run alone (its region.hcl is not above it)
    assert [(r.root, r.region.region) for r in out.resources] == [("live/app", "cn-north-1")]


# -- terraform.source ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "mapping"),
    [
        ("tfr:///acme/store/aws?version=1.2.0", "acme/store/aws"),
        ("tfr://registry.terraform.io/acme/store/aws?version=1.2.0", "acme/store/aws"),
        (
            "git::https://github.com/acme/modules.git//store?ref=v1",
            "git::https://github.com/acme/modules.git",
        ),
        ("github.com/acme/modules//store", "github.com/acme/modules"),
    ],
)
def test_remote_sources_are_read_through_module_sources(
    source: str, mapping: str, tmp_path: Path
) -> None:
    store = "checkout/store" if "//store" in source else "checkout"
    files = {
        "live/app/terragrunt.hcl": f'terraform {{\n  source = "{source}"\n}}\n',
        f"{store}/main.tf": 'provider "aws" {\n  region = "cn-northwest-1"\n}\n' + BUCKET,
    }
    scanner = Scanner(workdir=tmp_path)
    out = scanner.files(
        files, check=False, module_sources={mapping: str(tmp_path / "ciiguard-scan-1" / "checkout")}
    )
    assert out.errors == []
    assert [(r.root, r.region.region) for r in out.resources] == [("live/app", "cn-northwest-1")]


def test_an_unknown_source_is_cii003_naming_the_call() -> None:
    out = scan(
        {
            "live/app/terragrunt.hcl": """
                terraform {
                  source = run_cmd("./pick-module.sh")
                }
            """,
        }
    )
    assert out.errors == []
    [v] = out.violations
    assert v.policy == "CII003" and v.line == 2
    assert (
        'run_cmd("./pick-module.sh") in live/app/terragrunt.hcl is not run by ciiguard' in v.message
    )


# -- nothing is executed ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expr", "said"),
    [
        (
            'run_cmd("--terragrunt-quiet", "./region.sh")',
            'run_cmd("--terragrunt-quiet", "./region.sh")',
        ),
        ('sops_decrypt_file("secrets.yaml")', 'sops_decrypt_file("secrets.yaml")'),
        ('"cn-${get_aws_account_id()}"', "get_aws_account_id()"),
        ("get_terraform_command()", "get_terraform_command()"),
    ],
)
def test_calls_to_the_outside_world_are_cii003_saying_which_call(expr: str, said: str) -> None:
    out = scan(
        {
            "live/app/terragrunt.hcl": f"""
                locals {{
                  region = {expr}
                }}
                generate "provider" {{
                  path      = "provider.tf"
                  if_exists = "overwrite"
                  contents  = "provider \\"aws\\" {{\\n  region = \\"${{local.region}}\\"\\n}}\\n"
                }}
            """,
            "live/app/main.tf": BUCKET,
        },
        cii_workload=True,
    )
    assert out.errors == []
    [v] = out.violations
    assert v.policy == "CII003"
    assert f"{said} in live/app/terragrunt.hcl" in v.message
    assert "local.region (live/app/terragrunt.hcl:2)" in v.evidence


def test_hooks_are_never_run_and_say_so() -> None:
    out = scan(
        {
            "live/app/terragrunt.hcl": """
                terraform {
                  before_hook "write_provider" {
                    commands = ["plan", "apply"]
                    execute  = ["cp", "provider-hk.tf", "provider.tf"]
                  }
                }
            """,
            "live/app/main.tf": 'provider "aws" {\n  region = "cn-north-1"\n}\n' + BUCKET,
        }
    )
    assert out.errors == []
    [w] = out.result.warnings
    assert w.file == "live/app/terragrunt.hcl" and w.line == 2
    assert "cp provider-hk.tf provider.tf" in w.message and "does not run hooks" in w.message


# -- inputs ----------------------------------------------------------------------------------------
PRECEDENCE_MODULE = (
    """
    variable "region" {
      type = string
    }
    provider "aws" {
      region = var.region
    }
"""
    + BUCKET
)


@pytest.mark.parametrize(
    ("extra", "env", "want"),
    [
        ({}, {}, "cn-north-1"),  # inputs
        ({}, {"TF_VAR_region": "cn-northwest-1"}, "cn-northwest-1"),  # a real TF_VAR_ wins
        ({"m/terraform.tfvars": 'region = "ap-east-1"'}, {"TF_VAR_region": "x"}, "ap-east-1"),
        (
            {
                "live/app/terraform.tfvars": 'region = "eu-west-1"',
                "m/terraform.tfvars": 'region = "x"',
            },
            {},
            "eu-west-1",
        ),
        (
            {
                "live/app/b.auto.tfvars": 'region = "us-east-1"',
                "live/app/terraform.tfvars": 'region = "x"',
            },
            {},
            "us-east-1",
        ),
    ],
)
def test_inputs_take_terragrunts_precedence(
    extra: dict[str, str], env: dict[str, str], want: str
) -> None:
    out = scan(
        {
            "live/app/terragrunt.hcl": 'terraform {\n  source = "../../m"\n}\ninputs = {\n  region = "cn-north-1"\n}\n',
            "m/main.tf": PRECEDENCE_MODULE,
            **extra,
        },
        env=env,
    )
    assert out.errors == []
    assert region_of(out, "aws_s3_bucket.b") == want


def test_extra_arguments_var_files_and_env_vars_count_for_plan_and_apply() -> None:
    out = scan(
        {
            "live/app/terragrunt.hcl": """
                terraform {
                  source = "../../m"
                  extra_arguments "common" {
                    commands           = get_terraform_commands_that_need_vars()
                    required_var_files = ["${get_terragrunt_dir()}/common.tfvars"]
                    optional_var_files = ["${get_terragrunt_dir()}/missing.tfvars"]
                  }
                  extra_arguments "env" {
                    commands = ["plan", "apply"]
                    env_vars = { AWS_REGION = "cn-northwest-1" }
                  }
                }
                inputs = {
                  region = "ap-east-1"
                }
            """,
            "live/app/common.tfvars": 'region = "cn-north-1"\n',
            "m/main.tf": PRECEDENCE_MODULE
            + 'resource "aws_s3_bucket" "c" {\n  provider = aws.env\n}\nprovider "aws" {\n  alias = "env"\n}\n',
        },
    )
    assert out.errors == []
    assert region_of(out, "aws_s3_bucket.b") == "cn-north-1"
    assert "var.region (live/app/common.tfvars:1)" in explain(out, "aws_s3_bucket.b")
    assert region_of(out, "aws_s3_bucket.c") == "cn-northwest-1"
    assert 'extra_arguments "env" env_vars.AWS_REGION (live/app/terragrunt.hcl:8)' in explain(
        out, "aws_s3_bucket.c"
    )


def test_inputs_reach_terraform_as_tf_var_json_typed_by_the_variable() -> None:
    """Terraform reads TF_VAR_ text literally for string/untyped variables and as HCL otherwise:
    a map given to an untyped variable arrives as its JSON text."""
    out = scan(
        {
            "live/app/terragrunt.hcl": """
                terraform {
                  source = "../../m"
                }
                inputs = {
                  regions  = ["ap-east-1", "cn-north-1"]
                  settings = { region = "cn-northwest-1" }
                  raw      = { region = "cn-north-1" }
                  nothing  = null
                }
            """,
            "m/main.tf": """
                variable "regions" {
                  type = list(string)
                }
                variable "settings" {
                  type = any
                }
                variable "raw" {}
                variable "nothing" {
                  default = "eu-west-1"
                }
                resource "aws_s3_bucket" "a" {
                  region = var.regions[1]
                }
                resource "aws_s3_bucket" "b" {
                  region = var.settings.region
                }
                resource "aws_s3_bucket" "c" {
                  region = var.raw
                }
                resource "aws_s3_bucket" "d" {
                  region = coalesce(var.nothing, "cn-north-1")
                }
            """,
        },
    )
    assert out.errors == []
    assert region_of(out, "aws_s3_bucket.a") == "cn-north-1"
    assert region_of(out, "aws_s3_bucket.b") == "cn-northwest-1"
    assert region_of(out, "aws_s3_bucket.c") == '{"region":"cn-north-1"}'
    assert region_of(out, "aws_s3_bucket.d") == "cn-north-1"  # a null input overrides the default


def test_unknown_inputs_leave_every_variable_unknown() -> None:
    out = scan(
        {
            "live/app/terragrunt.hcl": 'terraform {\n  source = "../../m"\n}\ninputs = jsondecode(run_cmd("./inputs.sh"))\n',
            "m/main.tf": PRECEDENCE_MODULE,
        },
        cii_workload=True,
    )
    assert out.errors == []
    assert region_of(out, "aws_s3_bucket.b") is None
    assert out.ids == ["CII003"]


# -- include ---------------------------------------------------------------------------------------
PARENT = """
    locals {
      team = "orders"
    }
    inputs = {
      tags   = { owner = "platform", data-classification = "personal" }
      region = "ap-east-1"
    }
"""
CHILD_MODULE = """
    variable "region" {
      type = string
    }
    variable "tags" {
      type = map(string)
    }
    resource "aws_s3_bucket" "b" {
      region = var.region
      tags   = var.tags
    }
"""


@pytest.mark.parametrize(
    ("strategy", "region", "tags"),
    [
        ("shallow", "cn-north-1", {"team": "orders"}),
        (
            "deep",
            "cn-north-1",
            {"owner": "platform", "data-classification": "personal", "team": "orders"},
        ),
        ("no_merge", "cn-north-1", {"team": "orders"}),
    ],
)
def test_include_merge_strategies(strategy: str, region: str, tags: dict[str, str]) -> None:
    out = scan(
        {
            "parent.hcl": PARENT,
            "live/app/terragrunt.hcl": f"""
                include "parent" {{
                  path           = find_in_parent_folders("parent.hcl")
                  expose         = true
                  merge_strategy = "{strategy}"
                }}
                terraform {{
                  source = "../../m"
                }}
                inputs = {{
                  region = "cn-north-1"
                  tags   = {{ team = include.parent.locals.team }}
                }}
            """,
            "m/main.tf": CHILD_MODULE,
        }
    )
    assert out.errors == []
    b = out.resource("aws_s3_bucket.b")
    assert b.region.region == region
    assert b.tags == tags


def test_shallow_merge_keeps_the_parents_inputs_the_child_does_not_set() -> None:
    out = scan(
        {
            "parent.hcl": PARENT,
            "live/app/terragrunt.hcl": """
                include {
                  path = find_in_parent_folders("parent.hcl")
                }
                terraform {
                  source = "../../m"
                }
            """,
            "m/main.tf": CHILD_MODULE,
        }
    )
    assert out.errors == []
    b = out.resource("aws_s3_bucket.b")
    assert (b.region.region, b.location) == ("ap-east-1", Location.OUTSIDE)
    assert "inputs.region (parent.hcl:6)" in b.region.explain()
    assert out.ids == ["CII001"]


def test_a_bare_exposed_include_and_the_include_path_functions() -> None:
    out = scan(
        {
            "root.hcl": """
                locals {
                  here     = path_relative_to_include()
                  back     = path_relative_from_include()
                  unit_dir = get_terragrunt_dir()
                  original = get_original_terragrunt_dir()
                  parent   = get_parent_terragrunt_dir()
                }
            """,
            "live/app/terragrunt.hcl": """
                include {
                  path   = find_in_parent_folders("root.hcl")
                  expose = true
                }
                terraform {
                  source = "../../m"
                }
                inputs = {
                  name = "${include.locals.here}|${include.locals.back}|${basename(include.locals.unit_dir)}|${basename(include.locals.original)}|${basename(include.locals.parent)}|${basename(get_repo_root())}"
                }
            """,
            "m/main.tf": 'variable "name" {}\nresource "aws_s3_bucket" "b" {\n  bucket = var.name\n}\n',
            ".git/HEAD": "ref: refs/heads/main\n",
        }
    )
    assert out.errors == []
    name = out.resource("aws_s3_bucket.b").attributes["bucket"]
    here, back, unit_dir, original, parent, repo = name.split("|")
    assert (here, back, unit_dir, original) == ("live/app", "../..", "app", "app")
    assert parent.startswith("ciiguard-scan-") and repo == parent


def test_an_included_file_cannot_include_another() -> None:
    out = scan(
        {
            "a.hcl": 'include "b" {\n  path = "b.hcl"\n}\n',
            "b.hcl": "",
            "live/app/terragrunt.hcl": 'include "a" {\n  path = find_in_parent_folders("a.hcl")\n}\n',
        }
    )
    assert out.exit_code == 2
    assert any(e.startswith("a.hcl:1") and "one level of include" in e for e in out.errors)


def test_an_include_outside_the_scanned_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "root.hcl").write_text('inputs = {\n  region = "cn-north-1"\n}\n')
    unit = tmp_path / "repo" / "app"
    unit.mkdir(parents=True)
    (unit / "terragrunt.hcl").write_text(
        'include "r" {\n  path = find_in_parent_folders("root.hcl")\n}\n'
    )
    (unit / "main.tf").write_text(PRECEDENCE_MODULE)
    refused = scan_path(tmp_path / "repo", check=False)
    assert refused.exit_code == 2
    assert any("outside the scanned directory" in e for e in refused.errors), refused.errors
    allowed = scan_path(tmp_path / "repo", check=False, allow_outside_root=True)
    assert allowed.errors == []
    assert region_of(allowed, "aws_s3_bucket.b") == "cn-north-1"


# -- generate --------------------------------------------------------------------------------------
def test_a_unit_without_source_runs_its_own_directory_with_the_generated_provider() -> None:
    out = scan(
        {
            "root.hcl": ROOT_HCL,
            "live/region.hcl": 'locals {\n  region = "ap-east-1"\n}\n',
            "live/app/terragrunt.hcl": 'include "root" {\n  path = find_in_parent_folders("root.hcl")\n}\n',
            "live/app/main.tf": BUCKET,
        }
    )
    assert out.errors == []
    [v] = out.violations
    assert (v.policy, v.region) == ("CII001", "ap-east-1")
    assert "written by generate 'provider' into provider.tf) (root.hcl:9)" in v.evidence


def test_generate_if_exists_follows_terragrunt() -> None:
    files = {
        "live/app/terragrunt.hcl": """
            generate "provider" {
              path      = "provider.tf"
              if_exists = "IF_EXISTS"
              contents  = "provider \\"aws\\" {\\n  region = \\"ap-east-1\\"\\n}\\n"
            }
        """,
        "live/app/main.tf": BUCKET,
        "live/app/provider.tf": 'provider "aws" {\n  region = "cn-north-1"\n}\n',
    }

    def with_mode(mode: str) -> Outcome:
        text = files["live/app/terragrunt.hcl"].replace("IF_EXISTS", mode)
        return scan({**files, "live/app/terragrunt.hcl": text})

    assert region_of(with_mode("overwrite"), "aws_s3_bucket.b") == "ap-east-1"
    assert region_of(with_mode("skip"), "aws_s3_bucket.b") == "cn-north-1"
    for refused in ("error", "overwrite_terragrunt"):
        out = with_mode(refused)
        assert out.exit_code == 2 and "terragrunt stops with an error" in out.errors[0]


def test_generate_contents_ciiguard_cannot_decide_are_cii003() -> None:
    out = scan(
        {
            "live/app/terragrunt.hcl": """
                generate "provider" {
                  path      = "provider.tf"
                  if_exists = "overwrite"
                  contents  = run_cmd("./render-provider.sh")
                }
            """,
            "live/app/main.tf": BUCKET,
        },
        env={"AWS_REGION": "cn-north-1"},  # the provider might not read it: the file is unseen
        cii_workload=True,
    )
    assert out.errors == []
    assert region_of(out, "aws_s3_bucket.b") is None
    assert sorted(out.ids) == ["CII003", "CII003"]
    assert all('run_cmd("./render-provider.sh")' in v.message for v in out.violations)


def test_generated_tfvars_set_variables() -> None:
    out = scan(
        {
            "live/app/terragrunt.hcl": """
                terraform {
                  source = "../../m"
                }
                generate "vars" {
                  path      = "generated.auto.tfvars"
                  if_exists = "overwrite"
                  contents  = "region = \\"cn-northwest-1\\"\\n"
                }
            """,
            "m/main.tf": PRECEDENCE_MODULE,
        }
    )
    assert out.errors == []
    assert region_of(out, "aws_s3_bucket.b") == "cn-northwest-1"


# -- dependency ------------------------------------------------------------------------------------
DEPENDENCY_FILES = {
    "live/network/terragrunt.hcl": 'terraform {\n  source = "../../network"\n}\ninputs = {\n  region = "cn-northwest-1"\n}\n',
    "network/main.tf": """
        variable "region" {
          type = string
        }
        resource "aws_s3_bucket" "logs" {
          region = var.region
        }
        output "region" {
          value = var.region
        }
        output "bucket_arn" {
          value = aws_s3_bucket.logs.arn
        }
    """,
    "m/main.tf": PRECEDENCE_MODULE,
}


def test_dependency_outputs_the_other_units_configuration_decides() -> None:
    out = scan(
        {
            **DEPENDENCY_FILES,
            "live/app/terragrunt.hcl": """
                dependency "network" {
                  config_path  = "../network"
                  mock_outputs = { region = "ap-east-1" }
                }
                terraform {
                  source = "../../m"
                }
                inputs = {
                  region = dependency.network.outputs.region
                }
            """,
        }
    )
    assert out.errors == []
    assert region_of(out, "aws_s3_bucket.b", "live/app") == "cn-northwest-1"
    assert "output region (network/main.tf:8)" in explain(out, "aws_s3_bucket.b", "live/app")


def test_dependency_outputs_known_only_after_apply_are_unknown_never_the_mocks() -> None:
    out = scan(
        {
            **DEPENDENCY_FILES,
            "live/app/terragrunt.hcl": """
                dependency "network" {
                  config_path  = "../network"
                  mock_outputs = { bucket_arn = "arn:aws-cn:s3:::mock" }
                }
                terraform {
                  source = "../../m"
                }
                inputs = {
                  region = dependency.network.outputs.bucket_arn
                }
            """,
        },
        cii_workload=True,
    )
    assert out.errors == []
    assert region_of(out, "aws_s3_bucket.b", "live/app") is None
    [v] = [v for v in out.violations if v.policy == "CII003" and "live/app" in v.evidence]
    assert "mock_outputs are placeholders" in v.message


def test_skip_outputs_uses_the_mock_outputs_terragrunt_uses() -> None:
    out = scan(
        {
            "live/app/terragrunt.hcl": """
                dependency "network" {
                  config_path  = "../network"
                  skip_outputs = true
                  mock_outputs = { region = "cn-north-1" }
                }
                terraform {
                  source = "../../m"
                }
                inputs = {
                  region = dependency.network.outputs.region
                }
            """,
            "m/main.tf": PRECEDENCE_MODULE,
        }
    )
    assert out.errors == []
    assert region_of(out, "aws_s3_bucket.b") == "cn-north-1"


def test_a_dependency_cycle_is_reported_not_followed_forever() -> None:
    unit = """
        dependency "other" {
          config_path = "../OTHER"
        }
        terraform {
          source = "../../m"
        }
        inputs = {
          region = dependency.other.outputs.region
        }
    """
    out = scan(
        {
            "live/a/terragrunt.hcl": unit.replace("OTHER", "b"),
            "live/b/terragrunt.hcl": unit.replace("OTHER", "a"),
            "m/main.tf": PRECEDENCE_MODULE + 'output "region" {\n  value = var.region\n}\n',
        }
    )
    assert out.exit_code == 2
    assert any("dependency cycle" in e for e in out.errors), out.errors


# -- functions and syntax --------------------------------------------------------------------------
def test_get_env_reads_the_scanning_environment() -> None:
    files = {
        "live/app/terragrunt.hcl": 'terraform {\n  source = "../../m"\n}\ninputs = {\n  region = get_env("DEPLOY_REGION", "cn-north-1")\n}\n',
        "m/main.tf": PRECEDENCE_MODULE,
    }
    assert region_of(scan(files), "aws_s3_bucket.b") == "cn-north-1"
    assert (
        region_of(scan(files, env={"DEPLOY_REGION": "ap-east-1"}), "aws_s3_bucket.b") == "ap-east-1"
    )
    missing = scan(
        {
            **files,
            "live/app/terragrunt.hcl": files["live/app/terragrunt.hcl"].replace(
                ', "cn-north-1"', ""
            ),
        }
    )
    assert missing.exit_code == 2
    assert any(
        "live/app/terragrunt.hcl:5" in e and "DEPLOY_REGION is not set" in e for e in missing.errors
    )


def test_a_result_that_read_an_environment_variable_is_never_answered_from_the_cache(
    tmp_path: Path,
) -> None:
    work = tmp_path / "repo"
    (work / "live" / "app").mkdir(parents=True)
    (work / "m").mkdir()
    (work / "live" / "app" / "terragrunt.hcl").write_text(
        'terraform {\n  source = "../../m"\n}\ninputs = {\n  region = get_env("DEPLOY_REGION")\n}\n'
    )
    (work / "m" / "main.tf").write_text(PRECEDENCE_MODULE.replace("    ", ""))
    args = ("scan", str(work), "--format", "json", "--cii-workload")
    first = run_cli(*args, env=clean_env(DEPLOY_REGION="cn-north-1"))
    second = run_cli(*args, env=clean_env(DEPLOY_REGION="ap-east-1"))
    assert (first.code, second.code) == (0, 1)


def test_terragrunt_hcl_json_units() -> None:
    out = scan(
        {
            "root.hcl": ROOT_HCL,
            "live/region.hcl": 'locals {\n  region = "ap-east-1"\n}\n',
            "live/app/terragrunt.hcl.json": json.dumps(
                {
                    "include": {"path": '${find_in_parent_folders("root.hcl")}'},
                    "terraform": {"source": "../../m"},
                    "dependency": {"x": {"config_path": "../x", "mock_outputs": {"a": "b"}}},
                    "inputs": {"bucket_name": "orders"},
                },
                indent=2,
            ),
            "m/main.tf": 'variable "bucket_name" {}\nresource "aws_s3_bucket" "b" {\n  bucket = var.bucket_name\n}\n',
        }
    )
    assert out.errors == []
    b = out.resource("aws_s3_bucket.b")
    assert (b.region.region, b.attributes["bucket"]) == ("ap-east-1", "orders")


def test_read_terragrunt_config_default_and_file_functions() -> None:
    out = scan(
        {
            "live/app/terragrunt.hcl": """
                locals {
                  common  = read_terragrunt_config("missing.hcl", { locals = { region = "cn-north-1" } })
                  from_js = jsondecode(file("settings.json")).region
                  vars    = jsondecode(read_tfvars_file("common.tfvars"))
                }
                terraform {
                  source = "../../m"
                }
                inputs = {
                  region = fileexists("settings.json") ? local.from_js : local.common.locals.region
                  other  = local.vars.other
                }
            """,
            "live/app/settings.json": '{"region": "cn-northwest-1"}',
            "live/app/common.tfvars": 'other = "x"\n',
            "m/main.tf": PRECEDENCE_MODULE + 'variable "other" {}\n',
        }
    )
    assert out.errors == []
    assert region_of(out, "aws_s3_bucket.b") == "cn-northwest-1"


def test_a_file_outside_the_scanned_directory_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    unit = tmp_path / "repo" / "app"
    unit.mkdir(parents=True)
    (unit / "terragrunt.hcl").write_text(f'inputs = {{\n  region = file("{secret}")\n}}\n')
    (unit / "main.tf").write_text(PRECEDENCE_MODULE)
    out = scan_path(tmp_path / "repo", check=False)
    assert "TOP-SECRET-VALUE" not in repr(out.result)
    assert out.exit_code == 2


# -- the public live example -----------------------------------------------------------------------
LIVE_EXAMPLE = FIXTURES / "terragrunt" / "live-example-shape"


def test_a_layout_like_gruntworks_live_example() -> None:
    """The shape of gruntwork-io/terragrunt-infrastructure-live-example (root.hcl reading
    account/region/env files, _envcommon includes exposed, Git sources), written here."""
    out = scan_path(LIVE_EXAMPLE, check=False)
    assert out.errors == []
    assert sorted((v.policy, v.file) for v in out.violations) == [
        ("CII003", "prod/cn-north-1/prod/mysql/terragrunt.hcl"),
        ("CII003", "prod/cn-north-1/prod/webserver-cluster/terragrunt.hcl"),
    ]
    mapped = scan_path(
        LIVE_EXAMPLE,
        check=False,
        cii_workload=True,
        module_sources={
            "git::git@github.com:acme/infrastructure-modules.git": str(
                LIVE_EXAMPLE / "modules-checkout"
            )
        },
    )
    assert mapped.errors == []
    [db] = [r for r in mapped.resources if r.type == "aws_db_instance"]
    assert (db.region.region, db.location, db.attributes["instance_class"]) == (
        "cn-north-1",
        Location.MAINLAND,
        "db.t3.medium",
    )
    assert mapped.violations == []


def test_nothing_is_executed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    unit = tmp_path / "repo" / "app"
    unit.mkdir(parents=True)
    (unit / "terragrunt.hcl").write_text(
        f"""
locals {{
  x = run_cmd("touch", "{marker}")
}}
terraform {{
  before_hook "h" {{
    commands = ["plan"]
    execute  = ["touch", "{marker}"]
  }}
}}
inputs = {{
  region = local.x
}}
"""
    )
    (unit / "main.tf").write_text(PRECEDENCE_MODULE)
    run = run_cli("scan", str(tmp_path / "repo"), "--no-cache", "--cii-workload")
    assert not marker.exists()
    assert run.code == 1 and "is not run by ciiguard" in run.stdout


def test_remote_state_is_ignored() -> None:
    """It only configures the backend (its generate block too): never evaluated for the unit, so
    even a call that would fail there changes nothing."""
    out = scan(
        {
            "live/app/terragrunt.hcl": """
                remote_state {
                  backend = "s3"
                  generate = {
                    path      = "main.tf"
                    if_exists = "overwrite"
                  }
                  config = {
                    bucket = get_env("STATE_BUCKET")
                    region = run_cmd("./state-region.sh")
                  }
                }
            """,
            "live/app/main.tf": 'provider "aws" {\n  region = "cn-north-1"\n}\n' + BUCKET,
        }
    )
    assert out.errors == [] and out.violations == []
    assert region_of(out, "aws_s3_bucket.b") == "cn-north-1"


@pytest.mark.parametrize(
    ("env", "want"), [({}, "cn-north-1"), ({"TG_FEATURE": "hk=true"}, "ap-east-1")]
)
def test_feature_flags_take_their_default_or_tg_feature(env: dict[str, str], want: str) -> None:
    out = scan(
        {
            "live/app/terragrunt.hcl": """
                feature "hk" {
                  default = false
                }
                terraform {
                  source = "../../m"
                }
                inputs = {
                  region = feature.hk.value ? "ap-east-1" : "cn-north-1"
                }
            """,
            "m/main.tf": PRECEDENCE_MODULE,
        },
        env=env,
    )
    assert out.errors == []
    assert region_of(out, "aws_s3_bucket.b") == want


def test_locals_cannot_read_dependencies_as_in_terragrunt() -> None:
    out = scan(
        {
            **DEPENDENCY_FILES,
            "live/app/terragrunt.hcl": """
                dependency "network" {
                  config_path = "../network"
                }
                locals {
                  region = dependency.network.outputs.region
                }
                terraform {
                  source = "../../m"
                }
                inputs = {
                  region = local.region
                }
            """,
        }
    )
    assert out.exit_code == 2
    assert any(e.startswith("live/app/terragrunt.hcl:5: local.region") for e in out.errors)


def test_a_dependency_without_outputs_gives_its_mock_outputs_as_terragrunt_does() -> None:
    out = scan(
        {
            "live/network/terragrunt.hcl": 'terraform {\n  source = "../../empty"\n}\n',
            "empty/main.tf": "# no outputs\n",
            "live/app/terragrunt.hcl": """
                dependency "network" {
                  config_path  = "../network"
                  mock_outputs = { region = "cn-north-1" }
                }
                terraform {
                  source = "../../m"
                }
                inputs = {
                  region = dependency.network.outputs.region
                }
            """,
            "m/main.tf": PRECEDENCE_MODULE,
        }
    )
    assert out.errors == []
    assert region_of(out, "aws_s3_bucket.b") == "cn-north-1"
    assert "live/network declares no outputs" in explain(out, "aws_s3_bucket.b")


def test_features_of_an_included_file_and_dependencies_of_a_read_file() -> None:
    out = scan(
        {
            **DEPENDENCY_FILES,
            "common.hcl": 'feature "zone" {\n  default = "cn-north-1"\n}\n',
            "live/deps.hcl": 'dependency "network" {\n  config_path = "network"\n}\n',
            "live/app/terragrunt.hcl": """
                include "common" {
                  path = find_in_parent_folders("common.hcl")
                }
                locals {
                  deps = read_terragrunt_config(find_in_parent_folders("deps.hcl"))
                }
                terraform {
                  source = "../../m"
                }
                inputs = {
                  region = feature.zone.value == local.deps.dependency.network.outputs.region ? "ap-east-1" : feature.zone.value
                }
            """,
        }
    )
    assert out.errors == []
    assert region_of(out, "aws_s3_bucket.b", "live/app") == "cn-north-1"


def test_find_in_parent_folders_finds_a_directory_as_terragrunt_does() -> None:
    """``find_in_parent_folders("net")`` from ``hk/store`` is ``hk/net``, a directory: Terragrunt
    stats the path, so a directory counts. Only files counted here, so the dependency fell through
    to its mainland fallback and a Hong Kong bucket passed (fifth audit)."""
    outcome = scan_path(
        FIXTURES / "terragrunt" / "parent-folder-directory", check=False, use_cache=False
    )
    (bucket,) = [r for r in outcome.resources if r.type == "aws_s3_bucket"]
    assert (bucket.region.region, outcome.exit_code) == ("ap-east-1", 1)
    assert [v.policy for v in outcome.violations] == ["CII001"]


def test_a_dependency_output_computed_inside_a_block_is_unknown_not_an_error() -> None:
    """``aws_eks_cluster.this.vpc_config[0].cluster_security_group_id``: a nested block's
    attribute the configuration does not set is the provider's to fill in, unknown until apply,
    as a resource's own computed attributes are. Read through a ``dependency``, it was an error
    and the scan exited 2 (fifth audit: seemscloud/terragrunt-aws-multiregion-setup)."""
    outcome = scan_path(
        FIXTURES / "terragrunt" / "dependency-nested-output", check=False, use_cache=False
    )
    assert (outcome.exit_code, outcome.issues) == (0, [])
    (bucket,) = [r for r in outcome.resources if r.type == "aws_s3_bucket"]
    sg = bucket.tags["sg"]
    assert isinstance(sg, Unknown) and not sg.error, sg
    assert "vpc_config[0].cluster_security_group_id" in sg.reason
