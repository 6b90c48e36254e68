"""Google Cloud's provider ``default_labels`` (provider 5.0 and later) label every resource that
takes labels, under the resource's own: a classification set there puts an unlabelled bucket in
scope, as AWS ``default_tags`` do. Terraform HCL, plan JSON, Pulumi stack config and a Pulumi
provider resource alike (the fourth audit found an unlabelled Hong Kong bucket passing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import clean_env, run_cli

BUCKET = 'resource "google_storage_bucket" "b" {\n  name     = "orders-hk"\n  location = "asia-east2"\n%s}\n'
PROVIDER = 'provider "google" {\n  project = "p"\n  default_labels = {\n    data-classification = "%s"\n  }\n}\n'
GOOGLE = "registry.terraform.io/hashicorp/google"


def scan(target: Path, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    env = clean_env(CIIGUARD_CACHE_DIR=str(tmp_path / "cache"))
    run = run_cli("scan", str(target), "--format", "json", env=env)
    assert run.code in (0, 1), run.stderr
    return run.code, run.json


def bucket(report: dict[str, Any]) -> dict[str, Any]:
    (found,) = [r for r in report["resources"] if r["type"] == "google_storage_bucket"]
    return found


def plan(path: Path, default_labels: dict[str, str], labels: dict[str, str] | None) -> None:
    """A plan in the shape Terraform 1.11 writes for this configuration (no provider can be
    downloaded here): the provider's ``default_labels`` a constant, as ``terraform show -json``
    records a literal."""
    values: dict[str, Any] = {"name": "orders-hk", "location": "ASIA-EAST2", "labels": labels}
    res = {"address": "google_storage_bucket.b", "mode": "managed", "type": "google_storage_bucket",
           "name": "b", "provider_name": GOOGLE}  # fmt: skip
    expressions: dict[str, Any] = {"name": {"constant_value": "orders-hk"},
                                   "location": {"constant_value": "asia-east2"}}  # fmt: skip
    if labels is not None:
        expressions["labels"] = {"constant_value": labels}
    path.write_text(json.dumps({
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "planned_values": {"root_module": {"resources": [{**res, "schema_version": 0, "values": values}]}},
        "resource_changes": [{**res, "change": {"actions": ["create"], "before": None, "after": values,
                                                "after_unknown": {"id": True, "self_link": True}}}],
        "configuration": {
            "provider_config": {"google": {"name": "google", "full_name": GOOGLE, "expressions": {
                "project": {"constant_value": "p"},
                "default_labels": {"constant_value": default_labels}}}},
            "root_module": {"resources": [{**{k: res[k] for k in ("address", "mode", "type", "name")},
                                           "provider_config_key": "google", "schema_version": 0,
                                           "expressions": expressions}]},
        },
    }))  # fmt: skip


def pulumi(path: Path, provider_resource: bool, label: str) -> None:
    path.mkdir()
    if provider_resource:
        program = (
            "name: orders\nruntime: yaml\nresources:\n  labelled:\n    type: pulumi:providers:gcp\n"
            "    properties:\n      project: p\n      defaultLabels:\n"
            f"        data-classification: {label}\n"
            "  orders:\n    type: gcp:storage:Bucket\n    properties:\n      location: asia-east2\n"
            "    options:\n      provider: ${labelled}\n"
        )
    else:
        program = (
            "name: orders\nruntime: yaml\nresources:\n  orders:\n    type: gcp:storage:Bucket\n"
            "    properties:\n      location: asia-east2\n"
        )
        (path / "Pulumi.prod.yaml").write_text(
            f"config:\n  gcp:project: p\n  gcp:defaultLabels:\n    data-classification: {label}\n"
        )
    (path / "Pulumi.yaml").write_text(program)


@pytest.mark.parametrize("form", ["hcl", "plan", "pulumi-config", "pulumi-provider"])
def test_a_classification_in_default_labels_puts_an_unlabelled_bucket_in_scope(
    form: str, tmp_path: Path
) -> None:
    target = tmp_path / "in"
    if form == "hcl":
        target.mkdir()
        (target / "main.tf").write_text(PROVIDER % "personal" + BUCKET % "")
    elif form == "plan":
        target = tmp_path / "plan.json"
        plan(target, {"data-classification": "personal"}, None)
    else:
        pulumi(target, form == "pulumi-provider", "personal")
    code, report = scan(target, tmp_path)
    b = bucket(report)
    assert (code, b["classification"], b["in_scope"]) == (1, "personal", True), b
    assert [v["policy"] for v in report["violations"]] == ["CII001"]


@pytest.mark.parametrize("form", ["hcl", "plan"])
def test_the_resource_s_own_label_overrides_the_default(form: str, tmp_path: Path) -> None:
    """``labels = { data-classification = "public" }`` on the bucket wins over the provider's
    "personal", as the provider merges them; and the other way round."""
    for default, own, in_scope, code in (("personal", "public", False, 0),
                                         ("public", "personal", True, 1)):  # fmt: skip
        target = tmp_path / f"{default}-{own}"
        if form == "hcl":
            target.mkdir()
            own_labels = f'  labels = {{ data-classification = "{own}" }}\n'
            (target / "main.tf").write_text(PROVIDER % default + BUCKET % own_labels)
        else:
            target = target.with_suffix(".json")
            plan(target, {"data-classification": default}, {"data-classification": own})
        got, report = scan(target, tmp_path)
        assert (got, bucket(report)["in_scope"]) == (code, in_scope), report
