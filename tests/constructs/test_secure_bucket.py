"""``secure_bucket``: the library's fixed bucket settings cannot be passed in to weaken them."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from constructs_lib.secure_bucket import secure_bucket


@pytest.mark.parametrize("weakening", [
    {"enforce_ssl": False},
    {"block_public_access": s3.BlockPublicAccess.BLOCK_ACLS},
    {"encryption": s3.BucketEncryption.UNENCRYPTED},
    {"versioned": False},
])
def test_a_fixed_setting_cannot_be_passed(weakening: dict[str, object]) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(TypeError, match="cannot be passed"):
        secure_bucket(stack, "B", key=None, **weakening)


def test_kms_key_gives_sse_kms_with_a_bucket_key_and_none_gives_sse_s3() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    secure_bucket(stack, "Kms", key=kms.Key(stack, "K"))
    secure_bucket(stack, "Managed", key=None)
    buckets = Template.from_stack(stack).find_resources("AWS::S3::Bucket")
    rules = {name.rstrip("0123456789ABCDEF"): b["Properties"]["BucketEncryption"][
        "ServerSideEncryptionConfiguration"][0] for name, b in buckets.items()}
    assert rules["Kms"]["BucketKeyEnabled"] is True
    assert rules["Kms"]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rules["Managed"]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    Template.from_stack(stack).resource_properties_count_is("AWS::S3::Bucket", {
        "VersioningConfiguration": {"Status": "Enabled"},
        "PublicAccessBlockConfiguration": Match.object_like({"BlockPublicPolicy": True}),
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    }, 2)
