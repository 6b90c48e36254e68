# Violation CII001: a bucket of personal data in Virginia (us-east-1), outside mainland China.
provider "aws" {
  region = "us-east-1"
}

resource "aws_s3_bucket" "user_profiles" {
  bucket = "acme-user-profiles"
  tags = {
    "data-classification" = "personal"
  }
}
