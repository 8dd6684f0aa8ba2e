"""AuditAnchorBucket: compliance-mode Object Lock, SSE-KMS, logged, retained, narrow grants."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from constructs_lib import AuditAnchorBucket, DataClass, EncryptionKeys

ENV = cdk.Environment(account="111111111111", region="eu-west-2")


def _stack(app: cdk.App, days: int = 30) -> tuple[cdk.Stack, AuditAnchorBucket]:
    stack = cdk.Stack(app, "Anchors", env=ENV)
    keys = EncryptionKeys(stack, "Keys", alias_prefix="t", classes=[DataClass.ARTIFACTS])
    anchors = AuditAnchorBucket(stack, "AuditAnchors", key=keys.artifacts,
                                retention=cdk.Duration.days(days))
    writer = iam.Role(stack, "Writer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    reader = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    anchors.grant_write(writer)
    anchors.grant_read(reader)
    return stack, anchors


def _anchor_bucket(template: Template) -> dict[str, Any]:
    [bucket] = [b for b in template.find_resources("AWS::S3::Bucket").values()
                if "ObjectLockConfiguration" in b["Properties"]]
    return bucket


def test_objects_are_locked_in_compliance_mode_for_the_configured_days(app: cdk.App) -> None:
    stack, _ = _stack(app, days=2557)
    bucket = _anchor_bucket(Template.from_stack(stack))
    props = bucket["Properties"]
    assert props["ObjectLockEnabled"] is True
    assert props["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 2557}},
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain"


def test_encrypted_with_the_cmk_private_tls_only_and_logged(app: cdk.App) -> None:
    stack, _ = _stack(app)
    template = Template.from_stack(stack)
    props = _anchor_bucket(template)["Properties"]
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert "Fn::GetAtt" in rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True,
        "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert "DestinationBucketName" in props["LoggingConfiguration"]
    policies = json.dumps(template.find_resources("AWS::S3::BucketPolicy"))
    assert '"aws:SecureTransport": "false"' in policies
    assert '"s3:TlsVersion": 1.2' in policies


def test_writers_may_only_put_and_readers_only_list_and_get(app: cdk.App) -> None:
    stack, _ = _stack(app)
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    actions: dict[str, set[str]] = {}
    for policy in policies.values():
        [role] = policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            found = statement["Action"]
            actions.setdefault(role["Ref"], set()).update(
                [found] if isinstance(found, str) else found)
    writer = next(v for k, v in actions.items() if k.startswith("Writer"))
    reader = next(v for k, v in actions.items() if k.startswith("Reader"))
    assert writer == {"s3:PutObject", "kms:GenerateDataKey"}
    assert reader == {"s3:ListBucket", "s3:GetObject", "kms:Decrypt"}


def test_retention_must_be_whole_days(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Bad", env=ENV)
    keys = EncryptionKeys(stack, "Keys", alias_prefix="t", classes=[DataClass.ARTIFACTS])
    with pytest.raises(ValueError, match="whole days"):
        AuditAnchorBucket(stack, "A", key=keys.artifacts, retention=cdk.Duration.hours(12))


def test_compliance_findings_are_all_accepted(app: cdk.App, nag_findings: Any) -> None:
    stack = cdk.Stack(app, "Nag", env=ENV)
    keys = EncryptionKeys(stack, "Keys", alias_prefix="t", classes=[DataClass.ARTIFACTS])
    AuditAnchorBucket(stack, "AuditAnchors", key=keys.artifacts, retention=cdk.Duration.days(7))
    findings = nag_findings(app)
    assert {path for _, path in findings if "AuditAnchors" in path} == set()
