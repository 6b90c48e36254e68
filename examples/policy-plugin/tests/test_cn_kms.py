"""CNKMS001, tested through ciiguard.testing: each case is a real Terraform snippet, scanned by the
real parsers with this plugin registered (pyproject.toml: ciiguard_plugins)."""

from __future__ import annotations

import pytest

CHINA = """
provider "aws" {
  region = "cn-north-1"
}
"""

KEY = """
resource "aws_kms_key" "data" {
  description = "classified stores"
}
"""


def db(arguments: str, classification: str = "personal") -> str:
    return f"""{CHINA}{KEY}
resource "aws_db_instance" "orders" {{
  engine = "mysql"
  {arguments}
  tags = {{ data-classification = "{classification}" }}
}}
"""


def test_database_with_a_customer_key_in_china_passes(ciiguard_scan):
    outcome = ciiguard_scan.terraform(
        db("storage_encrypted = true\n  kms_key_id = aws_kms_key.data.arn")
    )
    assert outcome.ids == []


def test_database_without_a_key_is_flagged(ciiguard_scan):
    outcome = ciiguard_scan.terraform(db("storage_encrypted = true"))
    assert outcome.addresses("CNKMS001") == ["aws_db_instance.orders"]
    assert "kms_key_id is not set" in outcome.of("CNKMS001")[0].message


def test_unencrypted_database_is_flagged(ciiguard_scan):
    outcome = ciiguard_scan.terraform(db("kms_key_id = aws_kms_key.data.arn"))
    assert "encryption at rest is off" in outcome.of("CNKMS001")[0].message


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ('"arn:aws:kms:us-east-1:111122223333:key/1234abcd"', "'aws' partition"),
        ('"arn:aws-cn:kms:cn-north-1:111122223333:alias/aws/rds"', "AWS-managed key"),
        ('"alias/aws/rds"', "AWS-managed key"),
    ],
)
def test_keys_outside_china_or_managed_by_aws_are_flagged(ciiguard_scan, key, why):
    outcome = ciiguard_scan.terraform(db(f"storage_encrypted = true\n  kms_key_id = {key}"))
    assert why in outcome.of("CNKMS001")[0].message


def test_literal_china_partition_key_passes(ciiguard_scan):
    arn = '"arn:aws-cn:kms:cn-northwest-1:111122223333:key/1234abcd"'
    outcome = ciiguard_scan.terraform(db(f"storage_encrypted = true\n  kms_key_id = {arn}"))
    assert outcome.ids == []


def test_key_declared_under_a_foreign_provider_is_flagged(ciiguard_scan):
    outcome = ciiguard_scan.terraform(
        db("storage_encrypted = true\n  kms_key_id = aws_kms_key.tokyo.arn")
        + """
provider "aws" {
  alias  = "tokyo"
  region = "ap-northeast-1"
}
resource "aws_kms_key" "tokyo" {
  provider = aws.tokyo
}
"""
    )
    (finding,) = outcome.of("CNKMS001")
    assert "aws_kms_key.tokyo" in finding.message and finding.region == "ap-northeast-1"


def test_key_not_known_before_apply_fails_closed(ciiguard_scan):
    outcome = ciiguard_scan.terraform(
        db("storage_encrypted = true\n  kms_key_id = var.key") + 'variable "key" {}\n'
    )
    assert "cannot be verified before apply" in outcome.of("CNKMS001")[0].message


def test_out_of_scope_store_is_not_checked(ciiguard_scan):
    assert ciiguard_scan.terraform(db("", classification="public")).ids == []


S3 = (
    CHINA
    + KEY
    + """
resource "aws_s3_bucket" "orders" {
  bucket = "orders"
  tags   = { data-classification = "important" }
}
"""
)

S3_SSE = """
resource "aws_s3_bucket_server_side_encryption_configuration" "orders" {
  bucket = aws_s3_bucket.orders.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "%s"
      %s
    }
  }
}
"""


def test_bucket_encrypted_with_a_customer_key_passes(ciiguard_scan):
    sse = S3_SSE % ("aws:kms", "kms_master_key_id = aws_kms_key.data.arn")
    assert ciiguard_scan.terraform(S3 + sse).ids == []


def test_bucket_without_encryption_configuration_is_flagged(ciiguard_scan):
    outcome = ciiguard_scan.terraform(S3)
    assert outcome.addresses() == ["aws_s3_bucket.orders"]


def test_bucket_with_s3_managed_keys_is_flagged(ciiguard_scan):
    outcome = ciiguard_scan.terraform(S3 + S3_SSE % ("AES256", ""))
    assert "sse_algorithm = AES256" in outcome.of("CNKMS001")[0].message
