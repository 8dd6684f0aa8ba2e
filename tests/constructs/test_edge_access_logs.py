"""EdgeAccessLogs: CloudFront standard logging v2 without query strings or cookies."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template

from constructs_lib.edge_access_logs import (
    ACCESS_LOG_FIELDS,
    EXCLUDED_LOG_FIELDS,
    EdgeAccessLogs,
)
from constructs_lib.opt_outs import OptOut, SecureDefaultError

ACCOUNT = "111111111111"
US_EAST_1 = cdk.Environment(account=ACCOUNT, region="us-east-1")
DISTRIBUTION_ID = "E2EXAMPLE123"


def make_logs(env: cdk.Environment = US_EAST_1, **overrides: Any) -> tuple[cdk.Stack,
                                                                            EdgeAccessLogs]:
    app = cdk.App()
    stack = cdk.Stack(app, "EdgeLogs", env=env)
    props: dict[str, Any] = {
        "distribution_id": DISTRIBUTION_ID,
        "log_key": kms.Key(stack, "Key", enable_key_rotation=True),
    }
    props.update(overrides)
    return stack, EdgeAccessLogs(stack, "CdnLogs", **props)


def _in_aws(value: Any) -> Any:
    """``value`` with ``Fn::Join`` over the ``AWS::Partition`` pseudo parameter resolved to aws."""
    if isinstance(value, dict):
        if set(value) == {"Fn::Join"}:
            sep, parts = value["Fn::Join"]
            resolved = [_in_aws(p) for p in parts]
            if all(isinstance(p, str) for p in resolved):
                return sep.join(resolved)
            return {"Fn::Join": [sep, resolved]}
        if value == {"Ref": "AWS::Partition"}:
            return "aws"
        return {k: _in_aws(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_in_aws(v) for v in value]
    return value


@pytest.fixture(scope="module")
def template() -> Template:
    stack, _ = make_logs()
    return Template.from_json(_in_aws(Template.from_stack(stack).to_json()))


def test_delivery_fields_leave_out_query_string_cookies_and_referer(template: Template) -> None:
    (delivery,) = template.find_resources("AWS::Logs::Delivery").values()
    fields = delivery["Properties"]["RecordFields"]
    assert fields == list(ACCESS_LOG_FIELDS)
    assert "cs-uri-query" not in fields
    assert not [f for f in fields if "cookie" in f.lower()]
    assert "cs(Referer)" not in fields
    assert {"date", "time", "c-ip", "cs-method", "cs-uri-stem", "sc-status"} <= set(fields)


def test_source_is_the_distribution_and_delivery_joins_source_and_destination(
    template: Template,
) -> None:
    resources = template.to_json()["Resources"]
    (source_id,) = template.find_resources("AWS::Logs::DeliverySource")
    source = resources[source_id]["Properties"]
    assert source["LogType"] == "ACCESS_LOGS"
    assert source["ResourceArn"] == f"arn:aws:cloudfront::{ACCOUNT}:distribution/{DISTRIBUTION_ID}"
    (dest_id,) = template.find_resources("AWS::Logs::DeliveryDestination")
    (bucket_id,) = template.find_resources("AWS::S3::Bucket")
    assert resources[dest_id]["Properties"]["DestinationResourceArn"] == {
        "Fn::GetAtt": [bucket_id, "Arn"]}
    (delivery,) = template.find_resources("AWS::Logs::Delivery").values()
    assert delivery["Properties"]["DeliverySourceName"] == {"Ref": source_id}
    assert delivery["Properties"]["DeliveryDestinationArn"] == {"Fn::GetAtt": [dest_id, "Arn"]}
    (policy_id,) = template.find_resources("AWS::S3::BucketPolicy")
    assert policy_id in delivery["DependsOn"]  # the bucket admits the delivery first


def test_destination_bucket_is_private_kms_tls_versioned_expiring_retained(
    template: Template,
) -> None:
    (bucket,) = template.find_resources("AWS::S3::Bucket").values()
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert "KMSMasterKeyID" in sse["ServerSideEncryptionByDefault"]
    assert sse["BucketKeyEnabled"] is True
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True,
        "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"
    assert props["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 400
    statements = Match.array_with([
        Match.object_like({"Effect": "Deny",
                           "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
        Match.object_like({"Effect": "Deny",
                           "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}}}),
        Match.object_like({
            "Effect": "Allow", "Action": "s3:PutObject",
            "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Condition": {
                "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                 "aws:SourceAccount": ACCOUNT},
                "ArnLike": {"aws:SourceArn":
                            f"arn:aws:logs:us-east-1:{ACCOUNT}:delivery-source:*"},
            }}),
    ])
    template.has_resource_properties("AWS::S3::BucketPolicy",
                                     {"PolicyDocument": {"Statement": statements}})
    template.has_resource_properties("AWS::KMS::Key", {
        "KeyPolicy": {"Statement": Match.array_with([Match.object_like({
            "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Action": "kms:GenerateDataKey*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnLike": {"aws:SourceArn":
                            f"arn:aws:logs:us-east-1:{ACCOUNT}:delivery-source:*"},
            }})])},
    })


@pytest.mark.parametrize("field", sorted(EXCLUDED_LOG_FIELDS))
def test_fields_that_leak_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match="record_fields"):
        make_logs(record_fields=(*ACCESS_LOG_FIELDS, field))


def test_must_be_in_us_east_1() -> None:
    with pytest.raises(ValueError, match="us-east-1"):
        make_logs(env=cdk.Environment(account=ACCOUNT, region="eu-west-2"))


def test_short_retention_and_deletion_need_opt_outs() -> None:
    with pytest.raises(SecureDefaultError, match=r"EdgeAccessLogs\.log_retention"):
        make_logs(log_retention_days=30)
    with pytest.raises(SecureDefaultError, match=r"EdgeAccessLogs\.log_removal_policy"):
        make_logs(log_removal_policy=cdk.RemovalPolicy.DESTROY)
    make_logs(log_retention_days=30, opt_outs=[
        OptOut("EdgeAccessLogs.log_retention", "Sandbox stage, logs of no evidential value.")])
