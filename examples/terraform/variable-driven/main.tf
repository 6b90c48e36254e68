# Violation CII001 decided by a variable: terraform.tfvars sets the region to Singapore.
# `ciiguard scan examples/terraform/variable-driven --var region=cn-north-1` passes.
variable "region" {
  type    = string
  default = "cn-north-1"
}

variable "environment" {
  type    = string
  default = "prod"
}

locals {
  bucket_names = {
    prod    = "acme-ledger"
    staging = "acme-ledger-staging"
  }
}

provider "aws" {
  region = var.region
}

resource "aws_s3_bucket" "ledger" {
  bucket = lookup(local.bucket_names, var.environment, "acme-ledger-dev")
  tags   = { "data-classification" = "core" }
}
