# Violation CII002: the Beijing bucket replicates to Hong Kong (ap-east-1), and a DynamoDB
# global table keeps a replica in Singapore. Hong Kong is outside the mainland.
provider "aws" {
  region = "cn-north-1"
}

provider "aws" {
  alias  = "hongkong"
  region = "ap-east-1"
}

resource "aws_s3_bucket" "orders" {
  bucket = "acme-orders"
  tags   = { "data-classification" = "important" }
}

resource "aws_s3_bucket" "orders_replica" {
  provider = aws.hongkong
  bucket   = "acme-orders-replica"
}

resource "aws_s3_bucket_replication_configuration" "orders" {
  bucket = aws_s3_bucket.orders.id
  role   = "arn:aws-cn:iam::123456789012:role/replication"
  rule {
    id     = "to-hk"
    status = "Enabled"
    destination {
      bucket = aws_s3_bucket.orders_replica.arn
    }
  }
}

variable "replica_regions" {
  type    = list(string)
  default = ["cn-northwest-1", "ap-southeast-1"]
}

resource "aws_dynamodb_table" "sessions" {
  name         = "sessions"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
  dynamic "replica" {
    for_each = var.replica_regions
    content {
      region_name = replica.value
    }
  }
  tags = { "data-classification" = "personal" }
}
