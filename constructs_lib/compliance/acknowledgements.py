"""THE registry of accepted compliance findings, and how it is applied.

Every finding the design accepts is listed here once, with the narrowest scope
that covers it and a reason a reviewer can judge. Construct opt-outs
(:mod:`constructs_lib.opt_outs`) acknowledge their own findings on their own
construct; everything else goes here.

Scopes: ``path`` is an ``fnmatch`` pattern on the construct path relative to
the stage (``*`` also matches ``/``), ``cfn_type`` restricts to L1 resources of
that CloudFormation type; both may be combined. An entry with neither must say
in ``global_why`` why it holds for every construct of a stage.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from constructs import IConstruct

from constructs_lib.compliance.namespacing import qualify
from constructs_lib.compliance.packs import PACK_NAMES


@dataclass(frozen=True, slots=True)
class AckEntry:
    """One accepted finding.

    Parameters
    ----------
    rule_id:
        The finding's rule id exactly as reported, e.g. ``"AwsSolutions-L1"`` or
        ``"AwsSolutions-IAM5[Resource::*]"``. ``{account}`` and ``{region}`` are
        replaced by those of the acknowledged construct's stack, for finding ids
        that embed an ARN.
    reason:
        Why the design accepts it (at least 40 characters).
    path:
        ``fnmatch`` pattern on the construct path relative to the stage.
    cfn_type:
        Only L1 resources of this CloudFormation type.
    stages:
        Stage names it applies to; empty means every stage.
    global_why:
        Required when neither ``path`` nor ``cfn_type`` narrows the scope.
    """

    rule_id: str
    reason: str
    path: str | None = None
    cfn_type: str | None = None
    stages: tuple[str, ...] = ()
    global_why: str | None = None

    def __post_init__(self) -> None:
        if len(self.reason.strip()) < 40:
            raise ValueError(f"Acknowledgement {self.rule_id}: the reason is too short to judge.")
        if self.path is None and self.cfn_type is None and not self.global_why:
            raise ValueError(
                f"Acknowledgement {self.rule_id} has no scope; give path/cfn_type, or "
                "global_why explaining why it holds stage-wide."
            )

    @property
    def scope(self) -> str:
        """Human-readable scope."""
        parts = [f"path={self.path}"] if self.path else []
        parts += [f"type={self.cfn_type}"] if self.cfn_type else []
        return ", ".join(parts) or "stage-wide"


@dataclass(frozen=True, slots=True)
class AppliedAck:
    """An entry applied to one construct."""

    entry: AckEntry
    stage: str
    construct_path: str
    qualified_id: str


@dataclass(frozen=True, slots=True)
class AckApplication:
    """What :func:`apply_acknowledgements` did."""

    applied: tuple[AppliedAck, ...]
    unmatched: tuple[tuple[AckEntry, str], ...]
    """``(entry, stage)`` pairs where the entry's scope matched no construct (stale)."""


def _each(rule_ids: Sequence[str], paths: Sequence[str], reason: str) -> tuple[AckEntry, ...]:
    return tuple(AckEntry(rule_id=r, path=p, reason=reason) for r in rule_ids for p in paths)


_ROTATION_RULES = ("AwsSolutions-SMG4", "NIST.800.53.R5-SecretsManagerRotationEnabled",
                   "HIPAA.Security-SecretsManagerRotationEnabled")

# Real weaknesses accepted only until the owning construct/stack is fixed. Each reason
# names the fix; once it lands the entry acknowledges nothing and the gate reports it
# as stale, so it gets deleted rather than forgotten.
INTERIM: tuple[AckEntry, ...] = ()

ACKNOWLEDGEMENTS: tuple[AckEntry, ...] = (
    # The API function is deliberately outside any VPC.
    *_each(
        ("NIST.800.53.R5-LambdaInsideVPC", "HIPAA.Security-LambdaInsideVPC",
         "PCI.DSS.321-LambdaInsideVPC"),
        ("Api/ApiFunction/Function/Resource",),
        "The API function reaches Aurora only through the RDS Data API over HTTPS with IAM "
        "auth scoped to one cluster (BankGrade-DataApiSingleCluster), and Secrets Manager, KMS "
        "and Cognito over their TLS endpoints with SigV4. The database stays in isolated "
        "subnets with no route out; attaching the function to that VPC would need NAT or "
        "endpoints and adds no control over the Data API path.",
    ),
    # CDK grants write least-privilege statements as the role's inline default policy.
    *_each(
        ("NIST.800.53.R5-IAMNoInlinePolicy", "HIPAA.Security-IAMNoInlinePolicy",
         "PCI.DSS.321-IAMNoInlinePolicy"),
        ("Api/ApiFunction/Role/DefaultPolicy/Resource",),
        "CDK grants put the function's statements in one policy attached only to its own role "
        "and deployed with it. Their content is what matters and is checked by "
        "BankGrade-NoWildcardPermissions and BankGrade-DataApiSingleCluster; a managed policy "
        "would be a separately mutable object without narrowing any access.",
    ),
    # Credentials issued by third parties cannot be rotated by a Secrets Manager function.
    *_each(
        _ROTATION_RULES,
        ("Data/Secrets/BankClient/Resource", "Data/Secrets/WebhookSigning/Resource"),
        "Issued by the Open Banking provider (client secret, webhook signing secret): a new "
        "value can only be obtained from the provider's console/API, so rotation is the "
        "provider-driven runbook (put the new value, old one revoked by the provider). A "
        "Secrets Manager rotation function has nothing it could generate.",
    ),
    *_each(
        _ROTATION_RULES,
        ("Data/Secrets/OriginVerify/Resource",),
        "CloudFront reads the origin-verify header through a {{resolve:secretsmanager}} "
        "reference at deploy time, so automatic rotation would make CloudFront and the service "
        "disagree and lock clients out. It is rotated by the runbook: put a new value, then "
        "deploy the Api stack; new Lambda containers load it on cold start. Automatic rotation "
        "needs a rotation function that also updates the distribution (follow-up).",
    ),
    AckEntry(
        rule_id="AwsSolutions-IAM5[Resource::arn:aws:logs:{region}:{account}:log-group:"
                "RDSOSMetrics:log-stream:*]",
        path="Data/Database/MonitoringPolicy/Resource",
        reason="RDS Enhanced Monitoring writes one stream per instance into the fixed, "
               "AWS-named RDSOSMetrics log group; stream names are instance resource ids "
               "unknown at synth time. The wildcard is limited to streams of that group.",
    ),
    # The CloudFront access-log bucket is itself the log destination.
    *_each(
        ("NIST.800.53.R5-S3BucketLoggingEnabled", "HIPAA.Security-S3BucketLoggingEnabled",
         "PCI.DSS.321-S3BucketLoggingEnabled"),
        ("Api/Cdn/AccessLogs/Resource",),
        "This bucket only receives CloudFront access logs. Server access logging on it would "
        "need another log bucket that in turn fails the same rule; reads and deletes of the "
        "logs are recorded by CloudTrail, and objects are KMS-encrypted and versioned.",
    ),
    *_each(
        ("NIST.800.53.R5-S3BucketReplicationEnabled",
         "HIPAA.Security-S3BucketReplicationEnabled", "PCI.DSS.321-S3BucketReplicationEnabled"),
        ("Api/Cdn/AccessLogs/Resource",),
        "CloudFront access logs are operational telemetry (no request bodies or customer "
        "records) kept 365 days with versioning; the security record of requests is the WAF "
        "log in us-east-1. A cross-region replica would double log storage and key management "
        "for no recovery need of the service.",
    ),
    *INTERIM,
    # AWS Backup protects Aurora per cluster; cdk-nag looks for the instance.
    *(AckEntry(rule_id=rule_id, path="Data/Database/Cluster/*/Resource",
               cfn_type="AWS::RDS::DBInstance",
               reason="The Aurora cluster is in the stage's AWS Backup plan (Data/Backups "
                      "selects the cluster ARN, locked vault). AWS Backup protects Aurora only "
                      "at cluster level and cannot select its instances, which is what this "
                      "rule looks for.")
      for rule_id in ("NIST.800.53.R5-RDSInBackupPlan", "HIPAA.Security-RDSInBackupPlan")),
    AckEntry(
        rule_id="BankGrade-LambdaInvokedViaAlias",
        cfn_type="Custom::VpcRestrictDefaultSG",
        reason="CDK's provider that strips the default security group's rules "
               "(@aws-cdk/aws-ec2:restrictDefaultSecurityGroup). CloudFormation invokes it "
               "only during deployments; it serves no traffic, has no alias, and is not part "
               "of the CodeDeploy-shifted API.",
    ),
)


@dataclass(frozen=True, slots=True)
class DesignAck:
    """A finding that a construct's own design accepts, on a resource the construct makes.

    Constructs apply these by name with :func:`acknowledge_design`, so every accepted
    finding and its reason is written here, in this one module, while still travelling
    with the construct to other teams' apps.
    """

    rule_ids: tuple[str, ...]
    reason: str
    applies_to: str


_KEY_STORE_NO_BACKUP_RULES = (
    "AwsSolutions-DDB3",
    "NIST.800.53.R5-DynamoDBPITREnabled",
    "NIST.800.53.R5-DynamoDBInBackupPlan",
    "HIPAA.Security-DynamoDBPITREnabled",
    "HIPAA.Security-DynamoDBInBackupPlan",
)

#: Findings accepted by the constructs' design, by name.
DESIGN: dict[str, DesignAck] = {
    "ServiceFunction.dead_letter_queue": DesignAck(
        ("Serverless-SQSRedrivePolicy",),
        "This queue is itself the terminal dead-letter queue of the function.",
        "ServiceFunction dead-letter queue",
    ),
    "ServiceFunction.async_failure_destination": DesignAck(
        ("Serverless-LambdaAsyncFailureDestination",),
        "Failed asynchronous invocations go to the CMK-encrypted dead-letter queue "
        "(DeadLetterConfig); a failure destination would duplicate them.",
        "ServiceFunction function and live alias",
    ),
    "ServiceFunction.codedeploy_role": DesignAck(
        ("AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
         "AWSCodeDeployRoleForLambdaLimited]",),
        "The AWS-maintained minimal policy for CodeDeploy Lambda deployments (alias update, "
        "alarm reads); assumable only by CodeDeploy.",
        "ServiceFunction CodeDeploy service role",
    ),
    "ServiceFunction.xray_policy": DesignAck(
        ("AwsSolutions-IAM5[Resource::*]",),
        "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; "
        "this separate policy holds only those two actions.",
        "ServiceFunction X-Ray tracing policy",
    ),
    "PlatformHttpApi.public_health": DesignAck(
        ("AwsSolutions-APIG4",), "Public route GET /health: liveness probe, returns no "
        "customer data.", "PlatformHttpApi route GET /health",
    ),
    "PlatformHttpApi.public_openapi": DesignAck(
        ("AwsSolutions-APIG4",), "Public route GET /openapi.json: the API description is "
        "public by design and holds no data.", "PlatformHttpApi route GET /openapi.json",
    ),
    "PlatformHttpApi.public_docs": DesignAck(
        ("AwsSolutions-APIG4",), "Public route GET /docs: static API documentation page, "
        "holds no data.", "PlatformHttpApi route GET /docs",
    ),
    "PlatformHttpApi.public_webhooks": DesignAck(
        ("AwsSolutions-APIG4",), "Public route POST /v1/webhooks/{proxy+}: provider webhooks "
        "carry no Cognito token; the service verifies each provider's signature before use.",
        "PlatformHttpApi route POST /v1/webhooks/{proxy+}",
    ),
    "EdgeDistribution.no_geo_restriction": DesignAck(
        ("AwsSolutions-CFR1",),
        "No geo restriction configured: UK customers travel and use the app abroad; WAF IP "
        "reputation/anonymous-IP lists and rate limits apply.",
        "EdgeDistribution without geo_allow_list",
    ),
    "EdgeDistribution.log_bucket_access_logs": DesignAck(
        ("AwsSolutions-S1",),
        "This bucket only receives CloudFront access logs; logging access to the log bucket "
        "into another bucket would recurse without adding evidence.",
        "EdgeDistribution access-log bucket",
    ),
    "CryptoShreddingKeyStore.no_backups": DesignAck(
        _KEY_STORE_NO_BACKUP_RULES,
        "Crypto-shredding store: a tenant's wrapped data key must be destroyable everywhere, "
        "so this table is deliberately never backed up (no PITR, no backup plan). Deletion "
        "protection and RETAIN guard against losing it; the database's own backups hold only "
        "ciphertext.",
        "CryptoShreddingKeyStore table",
    ),
    "BackupProtection.selection_role": DesignAck(
        ("AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
         "AWSBackupServiceRolePolicyForBackup]",),
        "The AWS-maintained policy AWS Backup documents for its selection role; assumable "
        "only by backup.amazonaws.com and kept current with new resource types.",
        "BackupProtection selection role",
    ),
    "AlarmNotifications.email_redrive": DesignAck(
        ("Serverless-SNSRedrivePolicy",),
        "An undeliverable alert e-mail loses no state: the alarm stays in ALARM in "
        "CloudWatch and still drives CodeDeploy rollback; SNS retries e-mail delivery itself.",
        "AlarmNotifications e-mail subscriptions",
    ),
}


def acknowledge_design(scope: IConstruct, name: str) -> DesignAck:
    """Acknowledge the findings of :data:`DESIGN` entry ``name`` on ``scope`` (and below)."""
    entry = DESIGN[name]
    cdk.Validations.of(scope).acknowledge(
        *(cdk.Acknowledgment(id=rule_id, reason=entry.reason) for rule_id in entry.rule_ids)
    )
    return entry


def _stages(scope: IConstruct) -> list[cdk.Stage]:
    if cdk.Stage.is_stage(scope) and not cdk.App.is_app(scope):
        return [scope]  # type: ignore[list-item]
    return [c for c in scope.node.children if cdk.Stage.is_stage(c)]  # type: ignore[misc]


def _matches(entry: AckEntry, relative_path: str, construct: IConstruct) -> bool:
    if entry.path is not None and not fnmatch.fnmatchcase(relative_path, entry.path):
        return False
    if entry.cfn_type is not None:
        return bool(cdk.CfnResource.is_cfn_resource(construct)) and (
            construct.cfn_resource_type == entry.cfn_type  # type: ignore[attr-defined]
        )
    return True


def _expand(rule_id: str, target: IConstruct) -> str:
    if "{account}" not in rule_id and "{region}" not in rule_id:
        return rule_id
    stack = cdk.Stack.of(target)
    return rule_id.replace("{account}", stack.account).replace("{region}", stack.region)


def apply_acknowledgements(
    stage_or_app: IConstruct, entries: Sequence[AckEntry] = ACKNOWLEDGEMENTS,
    *, pack_names: Iterable[str] = PACK_NAMES,
) -> AckApplication:
    """Acknowledge ``entries`` on the constructs they scope, in every stage.

    Ids of known packs are recorded namespace-qualified so the CDK's validation
    report lists each acknowledged finding with its reason (see
    :mod:`constructs_lib.compliance.namespacing`).
    """
    packs = tuple(pack_names)
    applied: list[AppliedAck] = []
    unmatched: list[tuple[AckEntry, str]] = []
    for stage in _stages(stage_or_app):
        stage_name = stage.node.id
        prefix = stage.node.path + "/"
        relevant = [e for e in entries if not e.stages or stage_name in e.stages]
        if not relevant:
            continue
        constructs = [(path.removeprefix(prefix), c) for c in stage.node.find_all()
                      if (path := c.node.path).startswith(prefix)]
        for entry in relevant:
            targets = ([c for rel, c in constructs if _matches(entry, rel, c)]
                       if entry.path is not None or entry.cfn_type is not None else [stage])
            if not targets:
                unmatched.append((entry, stage_name))
            for target in targets:
                qualified = qualify(_expand(entry.rule_id, target), packs)
                cdk.Validations.of(target).acknowledge(
                    cdk.Acknowledgment(id=qualified, reason=entry.reason))
                applied.append(AppliedAck(entry, stage_name, target.node.path, qualified))
    return AckApplication(tuple(applied), tuple(unmatched))
