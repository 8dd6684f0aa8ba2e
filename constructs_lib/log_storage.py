"""Where the library's logs are kept: the retention floor and the key-policy statements.

Every construct that creates a log destination uses these, so the floor
(:data:`MIN_LOG_RETENTION_DAYS`) and the statements that let AWS services use a
customer-managed key for logs are written once.
"""

from __future__ import annotations

import math

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

__all__ = [
    "MIN_LOG_RETENTION_DAYS",
    "allow_cloudfront_log_delivery",
    "allow_cloudwatch_logs",
    "as_retention",
    "log_group_arn_pattern",
    "retention_days",
    "stack_log_groups",
]

_RETENTION_BY_DAYS: dict[int, str] = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS",
    30: "ONE_MONTH", 60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS",
    150: "FIVE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR", 400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1096: "THREE_YEARS", 1827: "FIVE_YEARS",
    2192: "SIX_YEARS", 2557: "SEVEN_YEARS", 2922: "EIGHT_YEARS", 3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}
_DAYS_BY_NAME = {name: days for days, name in _RETENTION_BY_DAYS.items()}

#: The floor for every log group the library creates: a year of evidence (PCI DSS 10.7).
MIN_LOG_RETENTION_DAYS = 365


def as_retention(value: logs.RetentionDays | int) -> logs.RetentionDays:
    """``value`` as a :class:`~aws_cdk.aws_logs.RetentionDays` (ints are day counts).

    Raises
    ------
    ValueError
        If ``value`` is a day count CloudWatch Logs does not offer.
    """
    if isinstance(value, logs.RetentionDays):
        return value
    try:
        return logs.RetentionDays[_RETENTION_BY_DAYS[int(value)]]
    except KeyError:
        raise ValueError(
            f"{value} is not a CloudWatch Logs retention; use one of {sorted(_RETENTION_BY_DAYS)}."
        ) from None


def retention_days(value: logs.RetentionDays | int) -> float:
    """Days kept by ``value`` (``math.inf`` for ``RetentionDays.INFINITE``)."""
    resolved = as_retention(value)
    if resolved == logs.RetentionDays.INFINITE:
        return math.inf
    return float(_DAYS_BY_NAME[resolved.name])


_LOGS_GRANT_MARKER = "BankGradeCloudWatchLogsGrant"
_LOG_DELIVERY_MARKER = "BankGradeLogDeliveryGrant"


def _own_key(key: kms.IKey, scope: Construct, marker: str) -> kms.Key | None:
    """``key`` when it is a ``kms.Key`` of ``scope``'s stack not yet carrying ``marker``."""
    if not isinstance(key, kms.Key) or cdk.Stack.of(key) is not cdk.Stack.of(scope):
        return None
    if key.node.try_find_child(marker) is not None:
        return None
    Construct(key, marker)  # marks the statement as added, once per key
    return key


def log_group_arn_pattern(scope: Construct, name_pattern: str) -> str:
    """``arn:<partition>:logs:<region>:<account>:log-group:<name_pattern>`` of ``scope``'s stack."""
    stack = cdk.Stack.of(scope)
    return f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:{name_pattern}"


def stack_log_groups(scope: Construct) -> str:
    """Pattern of the log groups CloudFormation names for ``scope``'s stack (``<stack>-*``).

    A log group created without a name is named ``<stack name>-<logical id>-<suffix>``.
    """
    return f"{cdk.Stack.of(scope).stack_name}-*"


def allow_cloudwatch_logs(
    key: kms.IKey, scope: Construct, *, log_group_name: str | None = None
) -> None:
    """Let CloudWatch Logs in this region use ``key`` for log groups of this stack only.

    Without ``log_group_name``: the log groups CloudFormation names for the stack
    (:func:`stack_log_groups`); with it, exactly that (explicitly named) log group.
    Only possible (and only needed here) for a key defined in the same stack; an
    imported or cross-stack key must already carry such a statement (``EncryptionKeys``
    takes the prefixes of other stacks' log groups as ``log_group_prefixes``).
    """
    marker = _LOGS_GRANT_MARKER
    if log_group_name is not None:
        marker += "-" + "".join(c for c in log_group_name if c.isalnum())[-180:]
    own = _own_key(key, scope, marker)
    if own is None:
        return
    stack = cdk.Stack.of(scope)
    own.add_to_resource_policy(iam.PolicyStatement(
        sid=None if log_group_name else "AllowCloudWatchLogsOfThisStack",
        principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
        actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                 "kms:Describe*"],
        resources=["*"],
        conditions={"ArnLike": {
            "kms:EncryptionContext:aws:logs:arn":
                log_group_arn_pattern(scope, log_group_name or stack_log_groups(scope)),
        }},
    ))


def allow_cloudfront_log_delivery(key: kms.IKey, scope: Construct) -> None:
    """Let vended-log delivery (CloudFront standard logging v2) write SSE-KMS objects with
    ``key`` (same stack only)."""
    own = _own_key(key, scope, _LOG_DELIVERY_MARKER)
    if own is None:
        return
    stack = cdk.Stack.of(scope)
    # Confused-deputy guard: only deliveries of this account's delivery sources in this
    # region (where CloudFront's sources must be created).
    own.add_to_resource_policy(iam.PolicyStatement(
        sid="AllowCloudFrontLogDelivery",
        principals=[iam.ServicePrincipal("delivery.logs.amazonaws.com")],
        actions=["kms:GenerateDataKey*"],
        resources=["*"],
        conditions={
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": stack.format_arn(
                service="logs", resource="delivery-source", resource_name="*",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)},
        },
    ))
