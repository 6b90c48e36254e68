"""A replica in scope only because it receives replicated data is covered by the transfer's approval."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.conftest import run_cli

CONFIG = """
provider "aws" {{
  region = "cn-north-1"
}}

provider "aws" {{
  alias  = "hk"
  region = "ap-east-1"
}}

resource "aws_s3_bucket" "orders" {{
  bucket = "orders"
  tags = {{
    "data-classification" = "personal"
    {approval}
  }}
}}

resource "aws_s3_bucket" "orders_hk" {{
  provider = aws.hk
  bucket   = "orders-hk"
  {replica_tags}
}}

resource "aws_s3_bucket_replication_configuration" "orders" {{
  bucket = aws_s3_bucket.orders.id
  role   = "arn:aws-cn:iam::123456789012:role/replication"
  rule {{
    id     = "hk"
    status = "Enabled"
    destination {{
      bucket = aws_s3_bucket.orders_hk.arn
    }}
  }}
}}
"""


def scan(tmp_path: Path, approval: str, replica_tags: str = "") -> dict[tuple[str, str], dict]:
    (tmp_path / "main.tf").write_text(CONFIG.format(approval=approval, replica_tags=replica_tags))
    run = run_cli("scan", str(tmp_path), "--format", "json", "--no-cache", "--no-config")
    return {(v["policy"], v["resource"]): v for v in run.json["violations"]} | {
        ("exit", ""): {"code": run.code}
    }


def test_valid_approval_covers_the_transfer_and_the_replica_it_creates(tmp_path: Path) -> None:
    expires = (dt.date.today() + dt.timedelta(days=500)).isoformat()
    approval = f'"cross-border-approval" = "CAC-2026-0042"\n    "cross-border-approval-expires" = "{expires}"'
    got = scan(tmp_path, approval)
    flow = got[("CII002", "aws_s3_bucket_replication_configuration.orders")]
    replica = got[("CII001", "aws_s3_bucket.orders_hk")]
    for v in (flow, replica):
        assert v["blocking"] is False and v["approval_reference"] == "CAC-2026-0042"
    assert got[("exit", "")]["code"] == 0


def test_without_approval_both_block(tmp_path: Path) -> None:
    got = scan(tmp_path, "")
    assert got[("CII002", "aws_s3_bucket_replication_configuration.orders")]["blocking"] is True
    assert got[("CII001", "aws_s3_bucket.orders_hk")]["blocking"] is True
    assert got[("exit", "")]["code"] == 1


def test_expired_approval_covers_neither(tmp_path: Path) -> None:
    expired = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    approval = f'"cross-border-approval" = "CAC-2020-0001"\n    "cross-border-approval-expires" = "{expired}"'
    got = scan(tmp_path, approval)
    assert got[("CII001", "aws_s3_bucket.orders_hk")]["blocking"] is True
    assert got[("exit", "")]["code"] == 1


def test_a_replica_classified_on_its_own_is_not_covered(tmp_path: Path) -> None:
    expires = (dt.date.today() + dt.timedelta(days=500)).isoformat()
    approval = f'"cross-border-approval" = "CAC-2026-0042"\n    "cross-border-approval-expires" = "{expires}"'
    got = scan(tmp_path, approval, 'tags = { "data-classification" = "important" }')
    assert got[("CII002", "aws_s3_bucket_replication_configuration.orders")]["blocking"] is False
    assert got[("CII001", "aws_s3_bucket.orders_hk")]["blocking"] is True
    assert got[("exit", "")]["code"] == 1
