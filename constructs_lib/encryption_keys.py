"""Customer-managed KMS keys, one per data class, with usage limited by key policy.

Every key has rotation on, is retained when removed from a stack and, when finally
deleted, waits the full pending window. The key policy gives the account root
*administration* only (required so the account can always manage the key); use of a
key for cryptography is allowed only where its data class needs it:

===================  ==========================================================
data class           who may use the key for cryptography
===================  ==========================================================
``database``         principals of this account, only through RDS (``kms:ViaService``)
``secrets``          principals of this account, only through Secrets Manager
``logs``             the CloudWatch Logs service, only for this stack's log groups
                     (and those of ``log_group_prefixes``)
``workflow_state``   principals of this account, only through Step Functions, SQS,
                     DynamoDB, EventBridge Scheduler and S3 (workflow manifests); and
                     CloudWatch Logs delivery of this account (encrypted state machines)
``artifacts``        principals of this account, only through S3
``tokens``           principals of this account directly (application-level envelope
                     encryption, e.g. consent tokens), when their IAM policy allows it
===================  ==========================================================

In every case except ``logs`` the key policy only *allows* IAM to grant use; a
principal still needs an IAM permission, e.g. from :meth:`EncryptionKeys.grant_encrypt_decrypt`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.log_storage import log_group_arn_pattern, stack_log_groups
from constructs_lib.opt_outs import OptOut, reject_unknown_opt_outs, weaken_if

__all__ = ["DataClass", "DirectKeyUse", "EncryptionKeys"]


class DataClass(StrEnum):
    """The classes of data that each get their own key."""

    DATABASE = "database"
    SECRETS = "secrets"
    LOGS = "logs"
    WORKFLOW_STATE = "workflow_state"
    ARTIFACTS = "artifacts"
    TOKENS = "tokens"
    ALERTS = "alerts"
    BACKUPS = "backups"
    FUNCTIONS = "functions"
    """Lambda environment variables (and so any SnapStart snapshot) at rest."""


# AWS services (``<name>.<region>.amazonaws.com``) through which account principals may
# use each class's key. ``None``: direct use through IAM; LOGS is served by the Logs
# service principal instead.
_VIA_SERVICES: Mapping[DataClass, tuple[str, ...] | None] = MappingProxyType({
    DataClass.DATABASE: ("rds",),
    DataClass.SECRETS: ("secretsmanager",),
    DataClass.LOGS: (),
    DataClass.WORKFLOW_STATE: ("states", "sqs", "dynamodb", "scheduler", "s3"),
    DataClass.ARTIFACTS: ("s3",),
    DataClass.TOKENS: None,
    DataClass.ALERTS: ("sns",),
    DataClass.BACKUPS: ("backup",),
    DataClass.FUNCTIONS: ("lambda",),
})

# Key management without any cryptographic use (and without kms:CreateGrant, which
# would hand out use).
_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey",
    "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation",
    "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListGrants",
    "kms:ListKeyPolicies", "kms:ListKeyRotations", "kms:ListResourceTags",
    "kms:ListRetirableGrants", "kms:PutKeyPolicy", "kms:RevokeGrant",
    "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion", "kms:TagResource",
    "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
)
_USE_ACTIONS = (
    "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*",
)
_GRANT_ACTIONS = ("kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant")
_GRANT_ENCRYPT_DECRYPT = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")

_MAX_ROTATION_DAYS = 365
_MAX_PENDING_DAYS = 30

OPT_OUT_SETTINGS = (
    "EncryptionKeys.removal_policy",
    "EncryptionKeys.pending_window",
    "EncryptionKeys.rotation_period",
)


@dataclass(frozen=True, slots=True)
class DirectKeyUse:
    """Who may use a directly-used key (``tokens``) outside any AWS service, and how.

    Only principals carrying the IAM tag ``principal_tag`` = ``principal_tag_value``
    (tag the API/worker roles; no reference between stacks is needed), and only with an
    encryption context made of exactly ``context_keys`` (each non-empty). Naming roles
    by tag keeps the key's stack free of references to the stacks that use it.
    """

    principal_tag: str
    principal_tag_value: str
    context_keys: tuple[str, ...] = ("family",)

    def __post_init__(self) -> None:
        if not self.context_keys:
            raise ValueError("DirectKeyUse needs at least one encryption context key.")


class EncryptionKeys(Construct):
    """Rotating customer-managed KMS keys, one per :class:`DataClass`.

    Example
    -------
    ::

        keys = EncryptionKeys(self, "Keys", alias_prefix="family-finance/prod")
        keys.grant_encrypt_decrypt(DataClass.TOKENS, api_function)
        edge_keys = EncryptionKeys(edge_stack, "Keys", alias_prefix="family-finance/prod",
                                   classes=[DataClass.LOGS])

    Parameters
    ----------
    alias_prefix:
        Aliases are ``alias/<alias_prefix>/<class>``.
    classes:
        The data classes to create a key for (default: all).
    extra_via_services:
        More AWS services (short names such as ``"lambda"``) through which a class's
        key may be used, in addition to the built-in ones.
    rotation_period:
        Automatic rotation period (default 365 days; longer needs an opt-out).
    pending_window:
        Waiting period before a deleted key is destroyed (default 30 days; shorter
        needs an opt-out).
    removal_policy:
        ``RETAIN`` (default); anything else needs an opt-out, because a deleted key
        makes its data unreadable.
    direct_use:
        For the directly-used class (``tokens``): the tagged principals and the
        encryption context that direct use requires (:class:`DirectKeyUse`). Without
        it nobody may use that key outside its AWS services (default).
    log_group_prefixes:
        Names (prefixes, no ``*``) of log groups outside this stack that may use the
        ``logs`` key, e.g. ``"<other stack name>-"`` for the unnamed log groups of a stack
        that shares this key. By default only this stack's unnamed log groups may;
        constructs add their explicitly named groups (``allow_cloudwatch_logs``).
    opt_outs:
        Explicit, recorded weakenings of the defaults above.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        alias_prefix: str,
        classes: Iterable[DataClass] = tuple(DataClass),
        extra_via_services: Mapping[DataClass, Sequence[str]] | None = None,
        rotation_period: cdk.Duration | None = None,
        pending_window: cdk.Duration | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        direct_use: DirectKeyUse | None = None,
        log_group_prefixes: Sequence[str] = (),
        opt_outs: Sequence[OptOut] = (),
    ) -> None:
        super().__init__(scope, id_)
        self._direct_use = direct_use
        self._log_group_prefixes = tuple(log_group_prefixes)
        if any(not p or "*" in p for p in self._log_group_prefixes):
            raise ValueError("log_group_prefixes must be non-empty names without '*'")
        reject_unknown_opt_outs(opt_outs, OPT_OUT_SETTINGS)
        wanted = tuple(dict.fromkeys(DataClass(c) for c in classes))
        if not wanted:
            raise ValueError("EncryptionKeys needs at least one data class.")
        prefix = alias_prefix.strip("/")
        if not prefix or prefix.startswith("aws/") or prefix.startswith("alias/"):
            raise ValueError(
                f"alias_prefix {alias_prefix!r} must be non-empty, without 'alias/', not 'aws/'."
            )
        extra = {DataClass(k): tuple(v) for k, v in (extra_via_services or {}).items()}

        rotation_days = 365 if rotation_period is None else int(rotation_period.to_days())
        weaken_if(self, rotation_days > _MAX_ROTATION_DAYS,
                  setting="EncryptionKeys.rotation_period", opt_outs=opt_outs,
                  weakened=f"rotation_period of {rotation_days} days")
        pending = pending_window or cdk.Duration.days(_MAX_PENDING_DAYS)
        weaken_if(self, pending.to_days() < _MAX_PENDING_DAYS,
                  setting="EncryptionKeys.pending_window", opt_outs=opt_outs,
                  weakened=f"pending_window of {pending.to_days()} days")
        weaken_if(self, removal_policy != cdk.RemovalPolicy.RETAIN,
                  setting="EncryptionKeys.removal_policy", opt_outs=opt_outs,
                  weakened=f"removal_policy {removal_policy}")

        self._keys: dict[DataClass, kms.Key] = {}
        for data_class in wanted:
            self._keys[data_class] = kms.Key(
                self,
                _pascal(data_class),
                alias=f"alias/{prefix}/{data_class.value}",
                description=f"{prefix}: {data_class.value} data",
                enable_key_rotation=True,
                rotation_period=cdk.Duration.days(rotation_days),
                pending_window=pending,
                removal_policy=removal_policy,
                policy=self._key_policy(data_class, extra.get(data_class, ())),
            )

    # -- key policies -------------------------------------------------------------------

    def _key_policy(self, data_class: DataClass, extra: tuple[str, ...]) -> iam.PolicyDocument:
        stack = cdk.Stack.of(self)
        account = iam.AccountRootPrincipal()
        statements = [
            iam.PolicyStatement(
                sid="KeyAdministrationByAccount",
                principals=[account],
                actions=list(_ADMIN_ACTIONS),
                resources=["*"],
            )
        ]
        via = _VIA_SERVICES[data_class]
        if via is None:
            statements += self._direct_use_statements()
            via = ()
        services = [f"{name}.{stack.region}.amazonaws.com" for name in (*via, *extra)]
        if services:
            condition = {"StringEquals": {"kms:CallerAccount": stack.account,
                                          "kms:ViaService": services}}
            statements.append(iam.PolicyStatement(
                sid="UseThroughServices",
                principals=[account],
                actions=list(_USE_ACTIONS),
                resources=["*"],
                conditions=condition,
            ))
            statements.append(iam.PolicyStatement(
                sid="GrantsForServiceResources",
                principals=[account],
                actions=list(_GRANT_ACTIONS),
                resources=["*"],
                conditions={**condition, "Bool": {"kms:GrantIsForAWSResource": "true"}},
            ))
        if data_class is DataClass.LOGS:
            # Only this stack's log groups (and those named by ``log_group_prefixes``),
            # never every log group of the account.
            log_groups = [log_group_arn_pattern(self, stack_log_groups(self)),
                          *(log_group_arn_pattern(self, f"{prefix}*")
                            for prefix in self._log_group_prefixes)]
            statements.append(iam.PolicyStatement(
                sid="CloudWatchLogsForTheseLogGroups",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*",
                         "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            ))
        if data_class is DataClass.WORKFLOW_STATE:
            # A state machine under a CMK that logs: Step Functions' log delivery decrypts
            # what it delivers, and only for this account.
            statements.append(iam.PolicyStatement(
                sid="StepFunctionsLogDeliveryOfThisAccount",
                principals=[iam.ServicePrincipal("delivery.logs.amazonaws.com")],
                actions=["kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ))
        if data_class is DataClass.ALERTS:
            # Alarm actions publish to an encrypted topic as the CloudWatch service itself.
            statements.append(iam.PolicyStatement(
                sid="CloudWatchAlarmsOfThisAccount",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ))
        return iam.PolicyDocument(statements=statements)

    def _direct_use_statements(self) -> list[iam.PolicyStatement]:
        """Direct use only by tagged principals, only with the required encryption context."""
        use = self._direct_use
        if use is None:
            return []
        stack = cdk.Stack.of(self)
        who = {"kms:CallerAccount": stack.account,
               f"aws:PrincipalTag/{use.principal_tag}": use.principal_tag_value}
        return [
            iam.PolicyStatement(
                sid="DirectUseByTaggedPrincipalsWithContext",
                principals=[iam.AccountRootPrincipal()],
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey",
                         "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom",
                         "kms:ReEncryptTo"],
                resources=["*"],
                conditions={
                    "StringEquals": who,
                    "ForAllValues:StringEquals": {"kms:EncryptionContextKeys":
                                                  list(use.context_keys)},
                    "Null": {"kms:EncryptionContextKeys": "false"},
                    "StringLike": {f"kms:EncryptionContext:{key}": "?*"
                                   for key in use.context_keys},
                },
            ),
            iam.PolicyStatement(
                sid="DescribeByTaggedPrincipals",
                principals=[iam.AccountRootPrincipal()],
                actions=["kms:DescribeKey"],
                resources=["*"],
                conditions={"StringEquals": who},
            ),
        ]

    # -- accessors ----------------------------------------------------------------------

    @property
    def keys(self) -> Mapping[DataClass, kms.IKey]:
        """The created keys by data class (read-only)."""
        return MappingProxyType(dict(self._keys))

    def key(self, data_class: DataClass | str) -> kms.IKey:
        """The key of ``data_class``.

        Raises
        ------
        KeyError
            If that class's key was not created by this construct.
        """
        data_class = DataClass(data_class)
        try:
            return self._keys[data_class]
        except KeyError:
            raise KeyError(
                f"No {data_class.value!r} key here; created: {[c.value for c in self._keys]}"
            ) from None

    @property
    def database(self) -> kms.IKey:
        """Key for the Aurora cluster's storage, snapshots and Performance Insights."""
        return self.key(DataClass.DATABASE)

    @property
    def secrets(self) -> kms.IKey:
        """Key for Secrets Manager secrets."""
        return self.key(DataClass.SECRETS)

    @property
    def logs(self) -> kms.IKey:
        """Key for CloudWatch Logs log groups."""
        return self.key(DataClass.LOGS)

    @property
    def workflow_state(self) -> kms.IKey:
        """Key for workflow state (Step Functions, queues, tables)."""
        return self.key(DataClass.WORKFLOW_STATE)

    @property
    def artifacts(self) -> kms.IKey:
        """Key for stored artifacts (S3)."""
        return self.key(DataClass.ARTIFACTS)

    @property
    def tokens(self) -> kms.IKey:
        """Key for application-level envelope encryption (e.g. consent tokens)."""
        return self.key(DataClass.TOKENS)

    @property
    def alerts(self) -> kms.IKey:
        """Key for alarm notification topics (usable by CloudWatch alarms of this account)."""
        return self.key(DataClass.ALERTS)

    @property
    def backups(self) -> kms.IKey:
        """Key for AWS Backup vaults."""
        return self.key(DataClass.BACKUPS)

    @property
    def functions(self) -> kms.IKey:
        """Key for Lambda environments (``ServiceFunction(environment_key=...)``)."""
        return self.key(DataClass.FUNCTIONS)

    # -- grants -------------------------------------------------------------------------

    def grant_encrypt_decrypt(
        self, data_class: DataClass | str, grantee: iam.IGrantable
    ) -> iam.Grant:
        """Let ``grantee`` encrypt, decrypt and make data keys with one class's key.

        Exact actions (``kms:Encrypt``, ``kms:Decrypt``, ``kms:GenerateDataKey``; no
        wildcards) on that key only, in the grantee's IAM policy; the key policy is not
        touched, so a grantee in another stack creates no reference cycle. The key
        policy still applies: except for ``tokens``, use is effective only through that
        class's AWS services.
        """
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=list(_GRANT_ENCRYPT_DECRYPT),
            resource_arns=[self.key(data_class).key_arn],
        )

    def grant_decrypt(self, data_class: DataClass | str, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` decrypt with one class's key (``kms:Decrypt`` only, IAM side)."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["kms:Decrypt"],
            resource_arns=[self.key(data_class).key_arn],
        )


def _pascal(data_class: DataClass) -> str:
    return "".join(part.capitalize() for part in data_class.value.split("_")) + "Key"
