"""``DriftDetection``: scheduled CloudFormation drift detection that alerts on any change.

An EventBridge schedule invokes a small Lambda (``handler.py`` beside this file,
inlined into the template) that runs ``DetectStackDrift`` on every named stack, waits
for each result and publishes one message to the (CMK-encrypted) alarm topic when a
stack drifted or its detection failed. Nothing is published while all are in sync.

Permissions: drift detection reads each resource's live configuration *with the
caller's permissions*, so the role gets the CloudFormation drift actions on exactly
the named stacks, ``sns:Publish`` on the one topic, and the read-only describe/get
actions of :data:`DEFAULT_READ_ACTIONS` (the resource types the library creates;
these describe calls support no resource-level scoping, which is accepted with its
reason). Pass ``read_actions`` to extend the list for other resource types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.acceptance import accept
from constructs_lib.log_storage import allow_cloudwatch_logs

__all__ = ["DEFAULT_READ_ACTIONS", "DriftDetection", "DriftedStack"]

_HANDLER_SOURCE = Path(__file__).with_name("handler.py")

DEFAULT_READ_ACTIONS: tuple[str, ...] = (
    "apigateway:GET", "backup:DescribeBackupVault", "backup:GetBackupPlan",
    "backup:GetBackupSelection", "backup:GetBackupVaultAccessPolicy",
    "cloudfront:GetDistribution", "cloudfront:GetDistributionConfig",
    "cloudfront:GetResponseHeadersPolicy", "cloudwatch:DescribeAlarms",
    "codedeploy:GetApplication", "codedeploy:GetDeploymentGroup",
    "cognito-idp:DescribeUserPool", "cognito-idp:DescribeUserPoolClient",
    "dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups",
    "ec2:DescribeFlowLogs", "ec2:DescribeNetworkAcls", "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
    "ec2:DescribeVpcEndpoints", "events:DescribeRule", "events:ListTargetsByRule",
    "iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetRole", "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies", "iam:ListRolePolicies",
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases",
    "kms:ListResourceTags", "lambda:GetAlias", "lambda:GetFunction",
    "lambda:GetFunctionConfiguration", "lambda:GetPolicy", "lambda:GetFunctionEventInvokeConfig",
    "logs:DescribeLogGroups", "rds:DescribeDBClusters", "rds:DescribeDBInstances",
    "rds:DescribeDBSubnetGroups", "rds:DescribeDBClusterParameterGroups",
    "s3:GetBucketPolicy", "s3:GetBucketLogging", "s3:GetBucketVersioning",
    "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration",
    "s3:GetBucketPublicAccessBlock", "s3:GetBucketOwnershipControls", "s3:GetBucketTagging",
    "secretsmanager:DescribeSecret", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic",
    "sqs:GetQueueAttributes", "ssm:GetParameters", "wafv2:GetWebACL",
    "wafv2:GetLoggingConfiguration",
)
"""Read-only actions drift detection needs for the library's resource types."""


@dataclass(frozen=True, slots=True)
class DriftedStack:
    """A stack to watch: its CloudFormation name and region."""

    name: str
    region: str


class DriftDetection(Construct):
    """Detect drift on ``stacks`` on ``schedule`` and alert ``topic`` when any drifted.

    Parameters
    ----------
    stacks:
        The stacks to check (every stack of a stage, any region of this account).
    topic:
        The CMK-encrypted alarm topic to alert.
    log_key:
        CMK of the detector's log group.
    environment_key:
        CMK of the detector's environment at rest.
    schedule:
        Default every 6 hours.
    stage:
        Name used in the alert's subject.
    read_actions:
        Read-only actions drift detection needs (default :data:`DEFAULT_READ_ACTIONS`).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        stacks: Sequence[DriftedStack],
        topic: sns.ITopic,
        log_key: kms.IKey,
        environment_key: kms.IKey,
        stage: str,
        schedule: events.Schedule | None = None,
        read_actions: Sequence[str] = DEFAULT_READ_ACTIONS,
    ) -> None:
        super().__init__(scope, id_)
        if not stacks:
            raise ValueError("DriftDetection needs at least one stack.")
        stack = cdk.Stack.of(self)
        allow_cloudwatch_logs(log_key, self)
        log_group = logs.LogGroup(self, "Logs", encryption_key=log_key,
                                  retention=logs.RetentionDays.ONE_YEAR,
                                  removal_policy=cdk.RemovalPolicy.RETAIN)
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description="Drift detection of one stage's stacks")
        log_group.grant_write(role)
        stack_arns = [
            stack.format_arn(service="cloudformation", region=s.region, resource="stack",
                             resource_name=f"{s.name}/*")
            for s in stacks
        ]
        role.add_to_policy(iam.PolicyStatement(
            actions=["cloudformation:DetectStackDrift", "cloudformation:DetectStackResourceDrift",
                     "cloudformation:DescribeStackResourceDrifts",
                     "cloudformation:DescribeStackResources"],
            resources=stack_arns))
        describe = iam.ManagedPolicy(
            self, "ReadConfiguration",
            description="Read-only describes drift detection runs with the caller's rights",
            statements=[
                iam.PolicyStatement(
                    actions=["cloudformation:DescribeStackDriftDetectionStatus"],
                    resources=["*"]),
                iam.PolicyStatement(actions=list(read_actions), resources=["*"]),
            ],
            roles=[role])
        accept(describe, ("AwsSolutions-IAM5[Resource::*]", "BankGrade-NoWildcardPermissions"),
               "Drift detection reads each resource's live configuration with the caller's "
               "permissions; these describe/get actions (no writes, no data reads such as "
               "GetSecretValue or GetObject) and DescribeStackDriftDetectionStatus have no "
               "resource-level scoping.")
        role.add_to_policy(iam.PolicyStatement(actions=["sns:Publish"],
                                               resources=[topic.topic_arn]))
        topic_key = getattr(topic, "master_key", None)
        if topic_key is not None:  # publishing to an encrypted topic needs its key
            role.add_to_policy(iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[topic_key.key_arn]))
        stack_ids = [f"AwsSolutions-IAM5[Resource::{arn}]" for arn in map(stack.resolve, stack_arns)
                     if isinstance(arn, str)]
        accept(role, stack_ids,
               "A stack ARN ends in the id CloudFormation assigns at creation; the statement "
               "names each watched stack, the wildcard covers only that id.")
        self._function = lambda_.Function(
            self, "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=lambda_.Code.from_inline(_HANDLER_SOURCE.read_text()),
            timeout=cdk.Duration.minutes(10),
            memory_size=256,
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            reserved_concurrent_executions=1,
            environment={
                "STACKS": cdk.Stack.of(self).to_json_string(
                    [{"name": s.name, "region": s.region} for s in stacks]),
                "TOPIC_ARN": topic.topic_arn,
                "STAGE": stage,
            },
            environment_encryption=environment_key,
            description=f"Drift detection of the {stage} stacks",
        )
        cfn = self._function.node.default_child
        assert isinstance(cfn, lambda_.CfnFunction)
        cfn.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
        tracing = iam.ManagedPolicy(
            self, "TracingPolicy", description="X-Ray trace upload for the drift detector",
            statements=[iam.PolicyStatement(
                actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                resources=["*"])],
            roles=[role])
        accept(tracing, ("AwsSolutions-IAM5[Resource::*]",),
               "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level "
               "permissions; this separate policy holds only those two actions.")
        accept(role, ("NIST.800.53.R5-IAMNoInlinePolicy", "HIPAA.Security-IAMNoInlinePolicy",
                      "PCI.DSS.321-IAMNoInlinePolicy"),
               "CDK grants put the detector's scoped statements (named stacks, one topic) in "
               "one policy attached only to its own role.")
        accept(self._function, ("NIST.800.53.R5-LambdaInsideVPC", "HIPAA.Security-LambdaInsideVPC",
                                "PCI.DSS.321-LambdaInsideVPC"),
               "The detector only calls the CloudFormation and SNS APIs over HTTPS with SigV4; "
               "a VPC would need NAT or endpoints and add no control over those paths.")
        accept(self._function, ("Serverless-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ",
                                "Serverless-LambdaAsyncFailureDestination",
                                "HIPAA.Security-LambdaDLQ", "BankGrade-LambdaInvokedViaAlias"),
               "A scheduled check: a failed run is visible in its log and the next schedule "
               "runs it again; there is no event worth redriving, and no traffic to shift "
               "through an alias.")
        self._rule = events.Rule(
            self, "Schedule",
            schedule=schedule or events.Schedule.rate(cdk.Duration.hours(6)),
            description=f"Drift detection of the {stage} stacks",
            targets=[targets.LambdaFunction(self._function, retry_attempts=0)],
        )
        accept(self._rule, ("BankGrade-LambdaInvokedViaAlias", "Serverless-EventBusDLQ"),
               "The schedule invokes the detector itself: no traffic to shift through an "
               "alias, and a missed run is repeated by the next schedule (nothing to redrive).")

    @property
    def function(self) -> lambda_.Function:
        """The detector Lambda."""
        return self._function

    @property
    def rule(self) -> events.Rule:
        """The EventBridge schedule."""
        return self._rule
