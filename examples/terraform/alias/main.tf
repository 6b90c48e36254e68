# Violation CII001 through a provider alias: the database looks like it belongs to the China
# provider, but `provider = aws.tokyo` puts it in ap-northeast-1.
provider "aws" {
  region = "cn-northwest-1"
}

provider "aws" {
  alias  = "tokyo"
  region = "ap-northeast-1"
}

resource "aws_db_instance" "members" {
  provider          = aws.tokyo
  identifier        = "members"
  engine            = "postgres"
  instance_class    = "db.t3.micro"
  allocated_storage = 20
  tags              = { "data-classification" = "sensitive-personal" }
}
