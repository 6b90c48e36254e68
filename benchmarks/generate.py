"""Generate synthetic Terraform monorepos of a given size for benchmarks.

Each service is its own root module with variables, tfvars, provider aliases, a local module
called with for_each, replication rules and resources of several clouds, so the scan exercises
the evaluator, module expansion and flows, not just the parser.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

# Resources per service root: 3 direct S3 + 1 replication config + 1 DynamoDB + 2 alicloud
# + 1 azurerm + for_each module (4 buckets) = 12.
PER_SERVICE = 12

MODULE = """\
variable "name" {
  type = string
}

variable "classification" {
  type    = string
  default = "personal"
}

resource "aws_s3_bucket" "this" {
  bucket = var.name
  tags = {
    "data-classification" = var.classification
    "Name"                = format("%s-%s", var.name, "store")
  }
}

output "arn" {
  value = aws_s3_bucket.this.arn
}
"""

MAIN = """\
terraform {{
  required_providers {{
    aws      = {{ source = "hashicorp/aws" }}
    alicloud = {{ source = "aliyun/alicloud" }}
    azurerm  = {{ source = "hashicorp/azurerm" }}
  }}
}}

provider "aws" {{
  region = var.region
  default_tags {{
    tags = local.common_tags
  }}
}}

provider "aws" {{
  alias  = "dr"
  region = lookup(local.dr_regions, var.environment, "cn-northwest-1")
}}

provider "alicloud" {{
  region = "cn-hangzhou"
}}

provider "azurerm" {{
  features {{}}
}}

locals {{
  common_tags = {{
    "data-classification" = "personal"
    owner                 = "team-{i}"
    service               = "svc-{i}"
  }}
  dr_regions = {{
    prod    = "{dr}"
    staging = "cn-northwest-1"
  }}
  stores = toset([for n in ["a", "b", "c", "d"] : "svc-{i}-${{n}}"])
}}

resource "aws_s3_bucket" "primary" {{
  bucket = "svc-{i}-primary"
}}

resource "aws_s3_bucket" "replica" {{
  provider = aws.dr
  bucket   = "svc-{i}-replica"
}}

resource "aws_s3_bucket" "public" {{
  bucket = "svc-{i}-public"
  tags   = {{ "data-classification" = "public" }}
}}

resource "aws_s3_bucket_replication_configuration" "primary" {{
  bucket = aws_s3_bucket.primary.id
  role   = "arn:aws-cn:iam::123456789012:role/replication"
  rule {{
    id     = "dr"
    status = "Enabled"
    destination {{
      bucket = aws_s3_bucket.replica.arn
    }}
  }}
}}

resource "aws_dynamodb_table" "sessions" {{
  name     = "svc-{i}-sessions"
  hash_key = "id"
  attribute {{
    name = "id"
    type = "S"
  }}
  dynamic "replica" {{
    for_each = var.replica_regions
    content {{
      region_name = replica.value
    }}
  }}
}}

resource "alicloud_oss_bucket" "docs" {{
  bucket = "svc-{i}-docs"
  tags   = {{ "data-classification" = "important" }}
}}

resource "alicloud_db_instance" "db" {{
  engine         = "MySQL"
  engine_version = "8.0"
  instance_type  = "rds.mysql.s1.small"
  tags           = {{ "data-classification" = "personal" }}
}}

resource "azurerm_storage_account" "archive" {{
  name                     = "svc{i}archive"
  location                 = "{azure}"
  resource_group_name      = "rg-{i}"
  account_tier             = "Standard"
  account_replication_type = "GRS"
  tags                     = {{ "data-classification" = "important" }}
}}

module "stores" {{
  source   = "../../modules/store"
  for_each = local.stores
  name     = each.key
}}
"""

VARIABLES = """\
variable "region" {
  type    = string
  default = "cn-north-1"
}

variable "environment" {
  type    = string
  default = "prod"
}

variable "replica_regions" {
  type    = list(string)
  default = ["cn-northwest-1"]
}
"""


def generate(root: Path, resources: int) -> int:
    """Write a monorepo of about ``resources`` resources under root; return the exact count."""
    if root.exists():
        shutil.rmtree(root)
    services = max(1, resources // PER_SERVICE)
    (root / "modules" / "store").mkdir(parents=True)
    (root / "modules" / "store" / "main.tf").write_text(MODULE)
    for i in range(services):
        d = root / "services" / f"svc{i:05d}"
        d.mkdir(parents=True)
        outside = i % 10 == 0  # every tenth service has a cross-border flaw
        dr = "ap-east-1" if outside else "cn-northwest-1"
        azure = "eastasia" if i % 7 == 0 else "chinaeast2"
        (d / "main.tf").write_text(MAIN.format(i=i, dr=dr, azure=azure))
        (d / "variables.tf").write_text(VARIABLES)
        region = "us-east-1" if i % 25 == 0 else "cn-north-1"
        (d / "terraform.tfvars").write_text(f'region = "{region}"\nenvironment = "prod"\n')
    return services * PER_SERVICE


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dir", type=Path)
    ap.add_argument("--resources", type=int, default=1000)
    args = ap.parse_args()
    n = generate(args.dir, args.resources)
    print(f"generated {n} resources in {args.dir}")


if __name__ == "__main__":
    main()
