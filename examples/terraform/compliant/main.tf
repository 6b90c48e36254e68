# A compliant AWS China deployment: every classified store and every replica stays in the
# aws-cn partition (Beijing cn-north-1, Ningxia cn-northwest-1).
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}

provider "aws" {
  region = "cn-north-1"
  default_tags {
    tags = { "data-classification" = "personal", owner = "payments" }
  }
}

provider "aws" {
  alias  = "ningxia"
  region = "cn-northwest-1"
}

resource "aws_s3_bucket" "customer_records" {
  bucket = "acme-customer-records"
}

resource "aws_s3_bucket" "customer_records_dr" {
  provider = aws.ningxia
  bucket   = "acme-customer-records-dr"
  tags     = { "data-classification" = "personal" }
}

resource "aws_s3_bucket_replication_configuration" "dr" {
  bucket = aws_s3_bucket.customer_records.id
  role   = "arn:aws-cn:iam::123456789012:role/replication"
  rule {
    id     = "dr"
    status = "Enabled"
    destination {
      bucket = aws_s3_bucket.customer_records_dr.arn
    }
  }
}

resource "aws_dynamodb_table" "orders" {
  name         = "orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
  replica {
    region_name = "cn-northwest-1"
  }
}

resource "aws_cloudwatch_log_group" "public_docs" {
  name = "public-docs"
  tags = { "data-classification" = "public" }
}
