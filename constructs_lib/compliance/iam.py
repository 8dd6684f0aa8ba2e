"""IAM policy statements of a CloudFormation resource, for the IAM rules."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from constructs_lib.compliance.cfn import as_list, properties
from constructs_lib.compliance.model import Resource

PolicyKind = Literal["identity", "resource", "key"]

# Where each resource type keeps its policy documents.
_IDENTITY_DOCS = {
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
}
_INLINE_POLICIES = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")
_RESOURCE_DOCS = {
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SecretsManager::ResourcePolicy": "ResourcePolicy",
    "AWS::Logs::ResourcePolicy": "PolicyDocument",
}


@dataclass(frozen=True, slots=True)
class Statement:
    """One policy statement and the kind of policy it belongs to."""

    kind: PolicyKind
    body: Mapping[str, Any]

    @property
    def allows(self) -> bool:
        return self.body.get("Effect") == "Allow"

    @property
    def actions(self) -> list[Any]:
        return as_list(self.body.get("Action"))

    @property
    def resources(self) -> list[Any]:
        return as_list(self.body.get("Resource"))


def _statements(document: Any, kind: PolicyKind) -> Iterator[Statement]:
    if not isinstance(document, Mapping):
        return
    for body in as_list(document.get("Statement")):
        if isinstance(body, Mapping):
            yield Statement(kind, body)


def policy_statements(resource: Resource) -> Iterator[Statement]:
    """Every permission statement the resource defines (trust policies excluded).

    Role trust policies (``AssumeRolePolicyDocument``) only say who may assume
    the role, so they are not permission statements.
    """
    rtype = resource.get("Type")
    props = properties(resource)
    for key in _IDENTITY_DOCS.get(str(rtype), ()):
        yield from _statements(props.get(key), "identity")
    if rtype in _INLINE_POLICIES:
        for policy in as_list(props.get("Policies")):
            if isinstance(policy, Mapping):
                yield from _statements(policy.get("PolicyDocument"), "identity")
    if rtype in _RESOURCE_DOCS:
        yield from _statements(props.get(_RESOURCE_DOCS[str(rtype)]), "resource")
    if rtype == "AWS::KMS::Key":
        yield from _statements(props.get("KeyPolicy"), "key")


def action_covers(pattern: Any, action: str) -> bool:
    """Whether the statement action ``pattern`` grants ``action`` (IAM is case-insensitive)."""
    if not isinstance(pattern, str):
        return True  # computed action: assume the worst
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def is_full_wildcard(action: Any) -> bool:
    """``*`` or ``service:*``."""
    return isinstance(action, str) and (action == "*" or action.endswith(":*"))
