"""A value chosen by something unknown is never the resource that made the choice.

``Unknown.refs`` ties a flow's destination to a resource (the region of the bucket behind
``aws_s3_bucket.dr.arn``). A value chosen among others by an unknown condition, key or index
(``x.arn == "" ? "ap-east-1" : "cn-northwest-1"``) is one of those others: tying it to ``x``
put a Hong Kong replica in x's mainland region, and the scan passed. These hold every way of
choosing to CII003 (or to the candidates' own resources when every candidate is one), and the
idiom that hid real replicas (``var.x == null ? [] : var.x``) to Terraform's answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ciiguard.testing import scan_path

TABLE = """
provider "aws" {
  region = "cn-north-1"
}

resource "aws_kms_key" "nx" {
  description = "a mainland resource whose ARN is known only after apply"
}

resource "aws_dynamodb_table" "t" {
  name         = "users"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
  %s
  tags = { data-classification = "personal" }
}
"""

CHOICES = {
    "condition": 'replica {\n    region_name = aws_kms_key.nx.arn == "" ? "ap-east-1" : "cn-northwest-1"\n  }',
    "lookup": 'replica {\n    region_name = lookup({ a = "cn-northwest-1" }, aws_kms_key.nx.arn, "ap-east-1")\n  }',
    "index": 'replica {\n    region_name = { a = "cn-northwest-1", b = "ap-east-1" }[aws_kms_key.nx.arn]\n  }',
    "element": 'replica {\n    region_name = element(["cn-northwest-1", "ap-east-1"], length(aws_kms_key.nx.arn))\n  }',
    "for condition": 'replica {\n    region_name = [for r in ["ap-east-1"] : r if aws_kms_key.nx.arn != ""][0]\n  }',
    "template if": 'replica {\n    region_name = "%{if aws_kms_key.nx.arn != ""}ap-east-1%{else}cn-northwest-1%{endif}"\n  }',
    "dynamic": (
        'dynamic "replica" {\n    for_each = aws_kms_key.nx.arn == "" ? [] : ["ap-east-1"]\n'
        "    content {\n      region_name = replica.value\n    }\n  }"
    ),
}


@pytest.mark.parametrize("how", sorted(CHOICES))
def test_a_region_chosen_by_an_unknown_is_never_the_choosers_region(
    tmp_path: Path, how: str
) -> None:
    (tmp_path / "main.tf").write_text(TABLE % CHOICES[how])
    outcome = scan_path(tmp_path, check=False, use_cache=False)
    table = {r.address: r for r in outcome.resources}["aws_dynamodb_table.t"]
    assert [f.destination_resource for f in table.flows] == [None], table.flows
    assert [(v.policy, v.resource) for v in outcome.violations] == [
        ("CII003", "aws_dynamodb_table.t")
    ]
    assert outcome.exit_code == 1


def test_a_choice_among_resources_is_still_tied_to_them(tmp_path: Path) -> None:
    """Every candidate a resource's attribute: the destination is one of them, so the flow
    is tied to them (and to both places, it is unknown which: CII003 naming them)."""
    (tmp_path / "main.tf").write_text(
        """
provider "aws" {
  region = "cn-north-1"
}

provider "aws" {
  alias  = "nx"
  region = "cn-northwest-1"
}

resource "aws_kms_key" "k" {}

resource "aws_s3_bucket" "src" {
  bucket = "src"
  tags   = { data-classification = "personal" }
}

resource "aws_s3_bucket" "a" {
  provider = aws.nx
  bucket   = "a"
}

resource "aws_s3_bucket" "b" {
  provider = aws.nx
  bucket   = "b"
}

resource "aws_s3_bucket_replication_configuration" "r" {
  bucket = aws_s3_bucket.src.id
  role   = "arn:aws-cn:iam::123456789012:role/r"
  rule {
    id     = "all"
    status = "Enabled"
    destination {
      bucket = aws_kms_key.k.arn == "" ? aws_s3_bucket.a.arn : aws_s3_bucket.b.arn
    }
  }
}
"""
    )
    outcome = scan_path(tmp_path, check=False, use_cache=False)
    rc = {r.address: r for r in outcome.resources}["aws_s3_bucket_replication_configuration.r"]
    (flow,) = rc.flows
    assert flow.destination_resource in ("aws_s3_bucket.a", "aws_s3_bucket.b")
    assert flow.destination == "cn-northwest-1"
    assert outcome.exit_code == 0, outcome.violations


@pytest.mark.parametrize(
    "fallback",
    [
        "local.replicas == null ? [] : local.replicas",
        "local.replicas != null ? local.replicas : []",
    ],
)
def test_replicas_behind_a_null_check_are_all_judged(tmp_path: Path, fallback: str) -> None:
    """``for_each = x == null ? [] : x`` with an apply-time value in one element: both replicas
    are known to Terraform (``tests/test_differential.py``, ``known_null_comparison``), so both
    are judged; the Hong Kong one is CII002. It used to be one unknown block tied to the KMS
    key's mainland region: a pass."""
    dynamic = (
        f'dynamic "replica" {{\n    for_each = {fallback}\n    content {{\n'
        "      region_name = replica.value.region_name\n"
        '      kms_key_arn = lookup(replica.value, "kms_key_arn", null)\n    }\n  }'
    )
    (tmp_path / "main.tf").write_text(
        TABLE % dynamic
        + """
locals {
  replicas = [
    { region_name = "cn-northwest-1", kms_key_arn = aws_kms_key.nx.arn },
    { region_name = "ap-east-1" },
  ]
}
"""
    )
    outcome = scan_path(tmp_path, check=False, use_cache=False)
    table = {r.address: r for r in outcome.resources}["aws_dynamodb_table.t"]
    assert sorted((f.argument, f.destination) for f in table.flows) == [
        ("replica[0].region_name", "cn-northwest-1"),
        ("replica[1].region_name", "ap-east-1"),
    ]
    assert [(v.policy, v.resource) for v in outcome.violations] == [
        ("CII002", "aws_dynamodb_table.t")
    ]


def _plan(tmp_path: Path, references: list[str]) -> Path:
    """A plan of a mainland table with one replica whose region is known only after apply and
    whose expression has these references (the configuration JSON records nothing more)."""
    import json

    table_values = {
        "name": "users",
        "hash_key": "id",
        "billing_mode": "PAY_PER_REQUEST",
        "attribute": [{"name": "id", "type": "S"}],
        "replica": [{"kms_key_arn": None, "point_in_time_recovery": False}],
        "tags": {"data-classification": "personal"},
        "tags_all": {"data-classification": "personal"},
    }
    key_values = {"description": "k"}
    doc = {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "planned_values": {
            "root_module": {
                "resources": [
                    {
                        "address": a,
                        "mode": "managed",
                        "type": t,
                        "name": n,
                        "provider_name": "registry.terraform.io/hashicorp/aws",
                        "schema_version": 0,
                        "values": v,
                    }
                    for a, t, n, v in (
                        ("aws_kms_key.nx", "aws_kms_key", "nx", key_values),
                        ("aws_dynamodb_table.t", "aws_dynamodb_table", "t", table_values),
                    )
                ]
            }
        },
        "resource_changes": [
            {
                "address": "aws_kms_key.nx",
                "mode": "managed",
                "type": "aws_kms_key",
                "name": "nx",
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": key_values,
                    "after_unknown": {"arn": True, "id": True},
                },
            },
            {
                "address": "aws_dynamodb_table.t",
                "mode": "managed",
                "type": "aws_dynamodb_table",
                "name": "t",
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": table_values,
                    "after_unknown": {"arn": True, "id": True, "replica": [{"region_name": True}]},
                },
            },
        ],
        "configuration": {
            "provider_config": {
                "aws": {
                    "name": "aws",
                    "full_name": "registry.terraform.io/hashicorp/aws",
                    "expressions": {"region": {"constant_value": "cn-north-1"}},
                }
            },
            "root_module": {
                "resources": [
                    {
                        "address": "aws_kms_key.nx",
                        "mode": "managed",
                        "type": "aws_kms_key",
                        "name": "nx",
                        "provider_config_key": "aws",
                        "expressions": {"description": {"constant_value": "k"}},
                        "schema_version": 0,
                    },
                    {
                        "address": "aws_dynamodb_table.t",
                        "mode": "managed",
                        "type": "aws_dynamodb_table",
                        "name": "t",
                        "provider_config_key": "aws",
                        "expressions": {
                            "name": {"constant_value": "users"},
                            "replica": [{"region_name": {"references": references}}],
                            "tags": {"constant_value": {"data-classification": "personal"}},
                        },
                        "schema_version": 0,
                    },
                ]
            },
        },
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    return path


def test_a_plan_ties_a_region_only_to_a_referenced_region(tmp_path: Path) -> None:
    """Without --source a plan shows an expression's references, not the expression:
    ``aws_kms_key.nx.arn == "" ? "ap-east-1" : "cn-northwest-1"`` and ``aws_kms_key.nx.arn``
    look alike. A region argument is tied to a resource only through its region."""
    outcome = scan_path(_plan(tmp_path, ["aws_kms_key.nx.arn", "aws_kms_key.nx"]), check=False)
    table = {r.address: r for r in outcome.resources}["aws_dynamodb_table.t"]
    assert [f.destination_resource for f in table.flows] == [None]
    assert ("CII003", "aws_dynamodb_table.t") in [
        (v.policy, v.resource) for v in outcome.violations
    ]
    # the key's own region: the replica is where the key is (cn-north-1 here)
    outcome = scan_path(_plan(tmp_path, ["aws_kms_key.nx.region", "aws_kms_key.nx"]), check=False)
    table = {r.address: r for r in outcome.resources}["aws_dynamodb_table.t"]
    assert [(f.destination_resource, f.destination) for f in table.flows] == [
        ("aws_kms_key.nx", "cn-north-1")
    ]


MAPPING = """
provider "aws" {
  region = "cn-north-1"
}

provider "aws" {
  alias  = "elsewhere"
  region = "%s"
}

resource "aws_dynamodb_table" "t" {
  name             = "orders"
  hash_key         = "id"
  billing_mode     = "PAY_PER_REQUEST"
  stream_enabled   = true
  stream_view_type = "NEW_IMAGE"
  attribute {
    name = "id"
    type = "S"
  }
  tags = { data-classification = "personal" }
}

resource "aws_sqs_queue" "failure" {
  provider = aws.elsewhere
  name     = "orders-failure"
}

resource "aws_lambda_event_source_mapping" "m" {
  event_source_arn  = aws_dynamodb_table.t.stream_arn
  function_name     = "arn:aws-cn:lambda:cn-north-1:123456789012:function:f"
  starting_position = "LATEST"

  # terraform-aws-modules/lambda's idiom: the block exists when the queue's ARN is not null,
  # which is known only after apply; if it exists, its one destination is that queue
  dynamic "destination_config" {
    for_each = try(aws_sqs_queue.failure.arn, null) != null ? [true] : []
    content {
      on_failure {
        destination_arn = aws_sqs_queue.failure.arn
      }
    }
  }
}
"""


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("cn-north-1", []),
        (
            "ap-east-1",
            [("CII001", "aws_sqs_queue.failure"), ("CII002", "aws_lambda_event_source_mapping.m")],
        ),
    ],
)
def test_a_block_that_may_not_exist_still_names_its_destination(
    tmp_path: Path, region: str, expected: list[tuple[str, str]]
) -> None:
    """A dynamic block whose for_each is unknown: how many blocks there are is unknown, but what
    the content sets without the iterator is known. The destination it names is where the data
    goes if the block exists: a mainland queue passes, a Hong Kong one is CII002."""
    (tmp_path / "main.tf").write_text(MAPPING % region)
    outcome = scan_path(tmp_path, check=False, use_cache=False)
    mapping = {r.address: r for r in outcome.resources}["aws_lambda_event_source_mapping.m"]
    assert [(f.argument, f.destination_resource) for f in mapping.flows] == [
        ("destination_config[0].on_failure[0].destination_arn", "aws_sqs_queue.failure")
    ]
    assert sorted((v.policy, v.resource) for v in outcome.violations) == expected
