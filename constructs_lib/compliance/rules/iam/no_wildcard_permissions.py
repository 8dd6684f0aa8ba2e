"""No IAM statement grants ``*`` / ``service:*`` actions, or data-plane actions on ``*``.

Only ``Allow`` statements are judged (broad ``Deny`` statements such as
"deny ``s3:*`` without TLS" make things safer). ``NotAction`` / ``NotResource`` in
an ``Allow`` are treated as wildcards. In KMS key policies ``Resource: "*"``
means "this key", so only actions are judged there, and the standard key
administration statement for the account root principal may use ``kms:*``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from constructs_lib.compliance.cfn import flatten, render
from constructs_lib.compliance.iam import (
    Statement,
    action_covers,
    is_full_wildcard,
    policy_statements,
)
from constructs_lib.compliance.model import Compliance, Resource, Template

DATA_PLANE_ACTIONS: tuple[str, ...] = (
    "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject",
    "s3:DeleteObjectVersion", "s3:ListBucket", "s3:RestoreObject",
    "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
    "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem",
    "dynamodb:TransactGetItems", "dynamodb:TransactWriteItems", "dynamodb:ConditionCheckItem",
    "rds-data:ExecuteStatement", "rds-data:BatchExecuteStatement", "rds-data:BeginTransaction",
    "rds-data:CommitTransaction", "rds-data:RollbackTransaction", "rds-db:connect",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath",
    "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair", "kms:ReEncryptFrom", "kms:ReEncryptTo",
    "sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
    "sns:Publish",
    "states:StartExecution", "states:StartSyncExecution", "states:SendTaskSuccess",
    "lambda:InvokeFunction", "lambda:InvokeFunctionUrl",
    "execute-api:Invoke",
    "kinesis:PutRecord", "kinesis:PutRecords", "kinesis:GetRecords",
    "events:PutEvents",
)
"""Actions that read or write business data; never allowed on ``Resource: "*"``."""


def _is_root_principal(principal: Any) -> bool:
    if not isinstance(principal, Mapping) or set(principal) != {"AWS"}:
        return False
    values = principal["AWS"] if isinstance(principal["AWS"], list) else [principal["AWS"]]
    return all(render(flatten(v, {})).endswith(":root") for v in values)


def _statement_ok(statement: Statement, template: Template) -> bool:
    body = statement.body
    if not statement.allows:
        return True
    if "NotAction" in body:
        return False
    for action in statement.actions:
        if is_full_wildcard(action):
            root_admin = (statement.kind == "key" and action in ("kms:*", "*")
                          and _is_root_principal(body.get("Principal")))
            if not root_admin:
                return False
    if statement.kind == "key":
        return True
    if "NotResource" in body:
        return False
    wildcard_resource = any(r == "*" for r in statement.resources)
    data_plane = any(
        action_covers(pattern, action)
        for pattern in statement.actions for action in DATA_PLANE_ACTIONS
    )
    return not (wildcard_resource and data_plane)


def check(logical_id: str, resource: Resource, template: Template) -> Compliance:
    """Judge every permission statement of the resource."""
    statements = list(policy_statements(resource))
    if not statements:
        return Compliance.NOT_APPLICABLE
    ok = all(_statement_ok(s, template) for s in statements)
    return Compliance.COMPLIANT if ok else Compliance.NON_COMPLIANT
