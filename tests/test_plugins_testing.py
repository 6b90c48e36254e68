"""ciiguard.testing: snippets of every input kind through the real parsers, plugins under test,
errors that fail the test, and a pytest plugin that costs unrelated runs nothing."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ciiguard
from ciiguard.testing import (
    ScanIncomplete,
    Scanner,
    claimed_by,
    scan_files,
    scan_path,
    scan_plan,
    scan_pulumi_yaml,
    scan_terraform,
)
from tests.conftest import EXAMPLES, FIXTURES, ROOT

PLUGINS = FIXTURES / "plugins"

FOREIGN_BUCKET = """
    provider "aws" {
      region = "us-east-1"
    }
    resource "aws_s3_bucket" "orders" {
      tags = { data-classification = "personal" }
    }
"""

REGIONLESS_BUCKET = """
    provider "aws" {}
    resource "aws_s3_bucket" "orders" {
      tags = { data-classification = "personal" }
    }
"""


def load_fixture_plugin(name: str):
    spec = importlib.util.spec_from_file_location(f"fixture_{name}", PLUGINS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_terraform_snippet_goes_through_the_real_parser_and_policies() -> None:
    outcome = scan_terraform(FOREIGN_BUCKET)
    (v,) = outcome.violations
    assert (v.policy, v.resource, v.file, v.line) == (
        "CII001",
        "aws_s3_bucket.orders",
        "main.tf",
        4,
    )
    assert outcome.ids == ["CII001"] and outcome.addresses("CII001") == ["aws_s3_bucket.orders"]
    assert outcome.exit_code == 1 and outcome.errors == []
    assert outcome.resource("aws_s3_bucket.orders").region.region == "us-east-1"


def test_mainland_snippet_has_no_violation() -> None:
    outcome = scan_terraform(FOREIGN_BUCKET.replace("us-east-1", "cn-northwest-1"))
    assert outcome.ids == [] and outcome.exit_code == 0


def test_unknown_resource_address_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"aws_s3_bucket\.orders"):
        scan_terraform(FOREIGN_BUCKET).resource("aws_s3_bucket.nope")


def test_plugins_by_import_path_module_object_or_instance(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    by_path = scan_terraform(FOREIGN_BUCKET, plugins=["healthy"])
    by_module = scan_terraform(FOREIGN_BUCKET, plugins=[load_fixture_plugin("healthy")])

    class Instance:
        @ciiguard.hookimpl
        def ciiguard_policies(self):
            return [
                ciiguard.Policy(
                    id="INST001",
                    name="instance",
                    description="every resource",
                    validate=lambda r, ctx: [ciiguard.Finding("seen")],
                )
            ]

    by_instance = scan_terraform(FOREIGN_BUCKET, plugins=[Instance()])
    assert by_path.ids == by_module.ids == ["CII001", "HEALTHY001"]
    assert by_instance.ids == ["CII001", "INST001"]
    assert scan_terraform(FOREIGN_BUCKET).ids == ["CII001"]  # nothing leaks between scans


def test_disabled_option_skips_a_plugin(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    scanner = Scanner(["healthy"])
    assert scanner.terraform(FOREIGN_BUCKET).ids == ["CII001", "HEALTHY001"]
    assert scanner.terraform(FOREIGN_BUCKET, disabled=["healthy"]).ids == ["CII001"]


def test_scans_neither_use_nor_write_the_result_cache(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CIIGUARD_CACHE_DIR", str(tmp_path / "cache"))
    state = {"report": False}

    class Toggle:
        @ciiguard.hookimpl
        def ciiguard_policies(self):
            def validate(r, ctx):
                return [ciiguard.Finding("on")] if state["report"] else []

            return [ciiguard.Policy(id="TOG001", name="t", description="d", validate=validate)]

    scanner = Scanner([Toggle()], workdir=tmp_path)
    assert scanner.files({"main.tf": FOREIGN_BUCKET}).ids == ["CII001"]
    state["report"] = True  # same input, same plugin object, new behaviour: no cached answer
    assert scanner.files({"main.tf": FOREIGN_BUCKET}).ids == ["CII001", "TOG001"]
    assert not (tmp_path / "cache").exists()


def test_unreadable_snippet_fails_the_test_instead_of_passing_empty() -> None:
    with pytest.raises(ScanIncomplete, match=r"main\.tf:1: HCL syntax error"):
        scan_terraform('resource "aws_s3_bucket" "b" {')


def test_crashing_plugin_fails_the_test_with_its_exception_chained() -> None:
    crash = load_fixture_plugin("crash_classify")
    with pytest.raises(ScanIncomplete, match=r"failed in ciiguard_classify: ValueError") as info:
        scan_terraform(FOREIGN_BUCKET, plugins=[crash])
    assert isinstance(info.value.__cause__, ValueError)
    assert "plugin 'fixture_crash_classify'" in info.value.errors[0]


def test_check_false_returns_the_incomplete_outcome() -> None:
    outcome = scan_terraform(
        FOREIGN_BUCKET, plugins=[load_fixture_plugin("crash_validate")], check=False
    )
    assert outcome.exit_code == 2
    assert outcome.ids == ["CII001"]  # the crashing policy found nothing, CII001 still reported
    assert "failed in policy CRASH001 validate: KeyError" in outcome.errors[0]


def test_environment_is_hermetic_unless_given(monkeypatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    outcome = scan_terraform(REGIONLESS_BUCKET)
    assert outcome.ids == ["CII003"]  # the developer's AWS_REGION is not seen
    outcome = scan_terraform(REGIONLESS_BUCKET, env={"AWS_REGION": "eu-west-1"})
    assert outcome.ids == ["CII001"]
    assert outcome.resource("aws_s3_bucket.orders").region.region == "eu-west-1"


def test_variables_cii_workload_and_enforcement_options() -> None:
    snippet = """
        variable "region" {
          default = "cn-north-1"
        }
        provider "aws" {
          region = var.region
        }
        resource "aws_s3_bucket" "untagged" {}
    """
    assert scan_terraform(snippet, variables={"region": "ap-east-1"}).ids == []
    outcome = scan_terraform(snippet, variables={"region": "ap-east-1"}, cii_workload=True)
    assert outcome.ids == ["CII001"] and outcome.exit_code == 1
    advisory = scan_terraform(
        snippet,
        variables={"region": "ap-east-1"},
        cii_workload=True,
        enforcement={"CII001": "advisory"},
    )
    assert advisory.ids == ["CII001"] and advisory.exit_code == 0


def test_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="unknown scan option"):
        scan_terraform(FOREIGN_BUCKET, cii_worklaod=True)


def test_several_files_and_an_existing_directory() -> None:
    outcome = scan_files(
        {
            "main.tf": REGIONLESS_BUCKET.replace('provider "aws" {}', ""),
            "providers.tf": 'provider "aws" {\n  region = var.region\n}\nvariable "region" {}\n',
            "terraform.tfvars": 'region = "ap-southeast-1"\n',
        }
    )
    assert outcome.ids == ["CII001"]
    assert outcome.violations[0].region == "ap-southeast-1"
    example = scan_path(EXAMPLES / "terraform" / "foreign-region")
    assert "CII001" in example.ids and example.violations[0].file == "main.tf"


def test_scanner_writes_each_scan_to_its_own_directory(tmp_path) -> None:
    scanner = Scanner(workdir=tmp_path)
    scanner.terraform(FOREIGN_BUCKET)
    scanner.terraform(FOREIGN_BUCKET.replace("us-east-1", "cn-north-1"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ciiguard-scan-1", "ciiguard-scan-2"]
    assert Path.cwd() != tmp_path  # the scan's chdir is undone


def test_claimed_by_names_the_parser() -> None:
    assert claimed_by("main.tf") == "terraform"
    assert claimed_by("notes.txt", "hello") is None


PLAN = {
    "format_version": "1.2",
    "terraform_version": "1.9.5",
    "planned_values": {
        "root_module": {
            "resources": [
                {
                    "address": "aws_s3_bucket.orders",
                    "mode": "managed",
                    "type": "aws_s3_bucket",
                    "name": "orders",
                    "provider_name": "registry.terraform.io/hashicorp/aws",
                    "schema_version": 0,
                    "values": {
                        "bucket": "acme-orders",
                        "force_destroy": False,
                        "tags": {"data-classification": "personal"},
                        "tags_all": {"data-classification": "personal"},
                    },
                    "sensitive_values": {"tags": {}, "tags_all": {}},
                }
            ]
        }
    },
    "resource_changes": [
        {
            "address": "aws_s3_bucket.orders",
            "mode": "managed",
            "type": "aws_s3_bucket",
            "name": "orders",
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {
                "actions": ["create"],
                "before": None,
                "after": {
                    "bucket": "acme-orders",
                    "force_destroy": False,
                    "tags": {"data-classification": "personal"},
                    "tags_all": {"data-classification": "personal"},
                },
                "after_unknown": {"arn": True, "id": True, "region": True, "tags": {}},
                "before_sensitive": False,
                "after_sensitive": {"tags": {}, "tags_all": {}},
            },
        }
    ],
    "configuration": {
        "provider_config": {
            "aws": {
                "name": "aws",
                "full_name": "registry.terraform.io/hashicorp/aws",
                "expressions": {"region": {"constant_value": "us-east-1"}},
            }
        },
        "root_module": {
            "resources": [
                {
                    "address": "aws_s3_bucket.orders",
                    "mode": "managed",
                    "type": "aws_s3_bucket",
                    "name": "orders",
                    "provider_config_key": "aws",
                    "expressions": {
                        "bucket": {"constant_value": "acme-orders"},
                        "tags": {"constant_value": {"data-classification": "personal"}},
                    },
                    "schema_version": 0,
                }
            ]
        },
    },
    "timestamp": "2025-01-01T00:00:00Z",
    "applyable": True,
    "complete": True,
    "errored": False,
}

PULUMI = """
    name: orders
    runtime: yaml
    resources:
      virginia:
        type: pulumi:providers:aws
        properties:
          region: us-east-1
      orders:
        type: aws:s3:BucketV2
        properties:
          tags:
            data-classification: personal
        options:
          provider: ${virginia}
"""


def require_parser(filename: str, text: str, what: str) -> None:
    if claimed_by(filename, text) is None:
        pytest.skip(f"no registered parser reads {what} yet ({filename} is not claimed)")


def test_plan_json_snippet_goes_through_the_plan_parser() -> None:
    import json

    require_parser("plan.json", json.dumps(PLAN), "Terraform plan JSON")
    outcome = scan_plan(PLAN)
    assert outcome.ids == ["CII001"]
    assert outcome.addresses() == ["aws_s3_bucket.orders"]
    assert outcome.resource("aws_s3_bucket.orders").input == "terraform-plan"
    assert scan_plan(json.dumps(PLAN)).ids == ["CII001"]  # text works as well as the mapping


def test_pulumi_yaml_snippet_goes_through_the_pulumi_parser() -> None:
    require_parser("Pulumi.yaml", textwrap.dedent(PULUMI), "Pulumi YAML")
    outcome = scan_pulumi_yaml(PULUMI)
    assert outcome.ids == ["CII001"]
    assert outcome.violations[0].region == "us-east-1"
    mainland = scan_pulumi_yaml(PULUMI.replace("us-east-1", "cn-northwest-1"))
    assert mainland.ids == []


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CIIGUARD_"))}
    env["PYTHONPATH"] = str(PLUGINS)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_pytest_plugin_fixture_with_plugins_from_the_ini_option(tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nciiguard_plugins = ["healthy"]\n'
    )
    (tmp_path / "test_policy.py").write_text(
        f'SNIPPET = """{FOREIGN_BUCKET}"""\n'
        + textwrap.dedent(
            """
            def test_flagged(ciiguard_scan):
                outcome = ciiguard_scan.terraform(SNIPPET)
                assert outcome.ids == ["CII001", "HEALTHY001"]

            def test_wrong_expectation_fails(ciiguard_scan):
                assert ciiguard_scan.terraform(SNIPPET).ids == []
            """
        )
    )
    proc = run_pytest(tmp_path)
    assert "1 failed, 1 passed" in proc.stdout, proc.stdout + proc.stderr
    assert "test_wrong_expectation_fails" in proc.stdout


def test_ciiguard_plugins_fixture_can_be_overridden(tmp_path) -> None:
    (tmp_path / "conftest.py").write_text(
        "import pytest, healthy\n\n@pytest.fixture\ndef ciiguard_plugins():\n    return [healthy]\n"
    )
    (tmp_path / "test_x.py").write_text(
        f'def test_x(ciiguard_scan):\n    assert "HEALTHY001" in ciiguard_scan.terraform("""{FOREIGN_BUCKET}""").ids\n'
    )
    proc = run_pytest(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_pytest_plugin_is_registered_by_entry_point_and_stays_lazy(tmp_path) -> None:
    (tmp_path / "test_unrelated.py").write_text(
        textwrap.dedent(
            """
            import sys

            def test_nothing_heavy_is_imported(request):
                assert request.config.pluginmanager.has_plugin("ciiguard.testing")
                heavy = ("ciiguard.scan", "ciiguard.plugins.manager", "hcl2", "lark", "botocore")
                assert [m for m in heavy if m in sys.modules] == []
            """
        )
    )
    proc = run_pytest(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    disabled = run_pytest(tmp_path, "-p", "no:ciiguard.testing")
    assert disabled.returncode == 1  # has_plugin is False: the test saw the plugin before


@pytest.mark.parametrize(
    "how", [("-p", "ciiguard.testing"), ("--confcutdir", ".")], ids=["-p", "pytest_plugins"]
)
def test_pytest_plugin_can_also_be_named_explicitly(tmp_path, how) -> None:
    if how[0] == "--confcutdir":
        (tmp_path / "conftest.py").write_text('pytest_plugins = ["ciiguard.testing"]\n')
    (tmp_path / "test_x.py").write_text(
        f'def test_x(ciiguard_scan):\n    assert ciiguard_scan.terraform("""{FOREIGN_BUCKET}""").ids == ["CII001"]\n'
    )
    proc = run_pytest(tmp_path, *how)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_entry_point_is_declared_in_pyproject() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert '[project.entry-points.pytest11]\n"ciiguard.testing" = "ciiguard.testing"' in text
