"""Claims documents and their index in Beijing; a disaster-recovery copy in the DR region."""

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
dr_region = config.require("drRegion")

dr = aws.Provider("dr", region=dr_region)

documents = aws.s3.BucketV2("claim-documents")
documents_dr = aws.s3.BucketV2("claim-documents-dr", opts=pulumi.ResourceOptions(provider=dr))

aws.s3.BucketVersioningV2(
    "claim-documents-versioning",
    bucket=documents.id,
    versioning_configuration=aws.s3.BucketVersioningV2VersioningConfigurationArgs(status="Enabled"),
)

aws.s3.BucketReplicationConfig(
    "claim-documents-dr-replication",
    bucket=documents.id,
    role="arn:aws-cn:iam::123456789012:role/s3-replication",
    rules=[
        aws.s3.BucketReplicationConfigRuleArgs(
            id="all-documents",
            status="Enabled",
            destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(bucket=documents_dr.arn),
        )
    ],
)

index = aws.dynamodb.Table(
    "claim-index",
    hash_key="claimId",
    billing_mode="PAY_PER_REQUEST",
    stream_enabled=True,
    stream_view_type="NEW_AND_OLD_IMAGES",
    attributes=[aws.dynamodb.TableAttributeArgs(name="claimId", type="S")],
    replicas=[aws.dynamodb.TableReplicaArgs(region_name=dr_region)],
)

pulumi.export("documents_bucket", documents.id)
pulumi.export("claim_index", index.name)
