"""Data at rest is encrypted with a customer-managed KMS key.

Applies to log groups, secrets, queues, topics, buckets, state machines, RDS
clusters and instances and DynamoDB tables. A key counts as customer-managed
when it is an ``AWS::KMS::Key`` in the template (or an alias of one), or an
imported key id/ARN that is not an AWS-managed ``alias/aws/*`` alias.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from constructs_lib.compliance.cfn import (
    Opaque,
    ResourceRef,
    as_list,
    definition,
    flatten,
    properties,
    render,
)
from constructs_lib.compliance.model import Compliance, Resource, Template

_AWS_MANAGED = re.compile(r"(^|:)alias/aws/")
_KEY_TEXT = re.compile(
    r"^(arn:[^:]+:kms:[^:]*:[^:]*:(key|alias)/.+|alias/.+|[0-9a-f]{8}-[0-9a-f-]{27}|mrk-[0-9a-f]+)$"
)


def is_customer_managed_key(value: Any, template: Template) -> bool:
    """Whether ``value`` identifies a customer-managed KMS key."""
    if value is None:
        return False
    parts = flatten(value, template)
    if any(isinstance(p, Opaque) for p in parts):
        return False
    refs = [p for p in parts if isinstance(p, ResourceRef)]
    if len(parts) == 1 and refs:
        ref = refs[0]
        if ref.resource_type == "AWS::KMS::Key":
            return ref.attribute in (None, "Arn", "KeyId")
        if ref.resource_type == "AWS::KMS::Alias" and ref.attribute is None:
            alias = properties(definition(ref, template)).get("AliasName")
            return isinstance(alias, str) and not _AWS_MANAGED.search(alias)
        return False
    if refs:
        # An ARN assembled around a reference: only trust one that embeds a key in the template.
        return any(r.resource_type == "AWS::KMS::Key" for r in refs) and ":kms:" in render(parts)
    text = render(parts)
    return bool(_KEY_TEXT.match(text)) and not _AWS_MANAGED.search(text)


def _bucket(props: Mapping[str, Any], template: Template) -> bool:
    rules = as_list(props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration"))
    if not rules:
        return False
    for rule in rules:
        default = rule.get("ServerSideEncryptionByDefault", {}) if isinstance(rule, Mapping) else {}
        if default.get("SSEAlgorithm") not in ("aws:kms", "aws:kms:dsse"):
            return False
        if not is_customer_managed_key(default.get("KMSMasterKeyID"), template):
            return False
    return True


def _dynamodb(props: Mapping[str, Any], template: Template, *, global_table: bool) -> bool:
    sse = props.get("SSESpecification", {})
    if not isinstance(sse, Mapping) or sse.get("SSEEnabled") is not True:
        return False
    if sse.get("SSEType") != "KMS":
        return False
    if not global_table:
        return is_customer_managed_key(sse.get("KMSMasterKeyId"), template)
    replicas = as_list(props.get("Replicas"))
    return bool(replicas) and all(
        is_customer_managed_key(r.get("SSESpecification", {}).get("KMSMasterKeyId"), template)
        for r in replicas if isinstance(r, Mapping)
    )


def _rds(props: Mapping[str, Any], template: Template) -> bool:
    return props.get("StorageEncrypted") is True and is_customer_managed_key(
        props.get("KmsKeyId"), template
    )


def _db_instance(props: Mapping[str, Any], template: Template) -> bool:
    if "DBClusterIdentifier" not in props:
        return _rds(props, template)
    # Cluster members inherit the cluster's storage encryption.
    parts = flatten(props["DBClusterIdentifier"], template)
    if len(parts) != 1 or not isinstance(parts[0], ResourceRef):
        return False
    ref = parts[0]
    home = ref.home if ref.home is not None else template
    return ref.resource_type == "AWS::RDS::DBCluster" and _rds(
        properties(definition(ref, template)), home)


def check(logical_id: str, resource: Resource, template: Template) -> Compliance:
    """Judge the encryption at rest of the data-holding resource types."""
    rtype = resource.get("Type")
    props = properties(resource)
    simple_key = {
        "AWS::Logs::LogGroup": "KmsKeyId",
        "AWS::SecretsManager::Secret": "KmsKeyId",
        "AWS::SQS::Queue": "KmsMasterKeyId",
        "AWS::SNS::Topic": "KmsMasterKeyId",
    }
    if rtype in simple_key:
        ok = is_customer_managed_key(props.get(simple_key[str(rtype)]), template)
    elif rtype == "AWS::S3::Bucket":
        ok = _bucket(props, template)
    elif rtype == "AWS::StepFunctions::StateMachine":
        config = props.get("EncryptionConfiguration", {})
        ok = (isinstance(config, Mapping) and config.get("Type") == "CUSTOMER_MANAGED_KMS_KEY"
              and is_customer_managed_key(config.get("KmsKeyId"), template))
    elif rtype == "AWS::RDS::DBCluster":
        ok = _rds(props, template)
    elif rtype == "AWS::RDS::DBInstance":
        ok = _db_instance(props, template)
    elif rtype == "AWS::DynamoDB::Table":
        ok = _dynamodb(props, template, global_table=False)
    elif rtype == "AWS::DynamoDB::GlobalTable":
        ok = _dynamodb(props, template, global_table=True)
    else:
        return Compliance.NOT_APPLICABLE
    return Compliance.COMPLIANT if ok else Compliance.NON_COMPLIANT
