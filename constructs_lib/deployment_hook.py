"""``DeploymentHookFunction``: a Lambda that CodeDeploy runs before it shifts an alias.

Pass it to :class:`~constructs_lib.function.ServiceFunction` as ``pre_traffic_hook``
(CodeDeploy's ``BeforeAllowTraffic``): the deployment group grants CodeDeploy the
invoke and the hook ``codedeploy:PutLifecycleEventHookExecutionStatus`` on that group
only. One hook may serve several groups (an API's and a worker's), so its reserved
concurrency allows a few runs at once; the code must be idempotent and safe run
concurrently (the platform's migration hook takes an advisory lock).

Defaults: Python 3.14 arm64, X-Ray active, JSON logs into its own CMK-encrypted log
group (a year, retained), environment CMK-encrypted and checked for secret values,
an execution role of its own with nothing but its logs and traces; grant the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.acceptance import accept
from constructs_lib.function import find_secret_like_environment
from constructs_lib.log_storage import (
    MIN_LOG_RETENTION_DAYS,
    allow_cloudwatch_logs,
    as_retention,
    retention_days,
)
from constructs_lib.opt_outs import OptOut, SecureDefaultError, reject_unknown_opt_outs, weaken_if

__all__ = ["DeploymentHookFunction"]

SETTING_LOG_RETENTION = "DeploymentHookFunction.log_retention"

_NOT_IN_VPC_RULES = ("NIST.800.53.R5-LambdaInsideVPC", "HIPAA.Security-LambdaInsideVPC",
                     "PCI.DSS.321-LambdaInsideVPC")
_NO_DLQ_RULES = ("Serverless-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ", "HIPAA.Security-LambdaDLQ",
                 "Serverless-LambdaAsyncFailureDestination")
_NO_DLQ_REASON = (
    "CodeDeploy invokes a lifecycle hook and waits for its reported status: a hook that "
    "never reports fails the deployment (which rolls back), so a queued event would have "
    "no one to redrive it; the failure is in the deployment's history and the hook's log."
)
_INLINE_RULES = ("NIST.800.53.R5-IAMNoInlinePolicy", "HIPAA.Security-IAMNoInlinePolicy",
                 "PCI.DSS.321-IAMNoInlinePolicy")


class DeploymentHookFunction(Construct):
    """A CodeDeploy lifecycle hook Lambda (e.g. migrations before traffic).

    Parameters
    ----------
    code, handler:
        The hook's code and handler (``service.db.migrate_hook.handler``).
    log_key:
        CMK of the log group (``EncryptionKeys.logs``).
    environment_key:
        CMK of the environment at rest (``EncryptionKeys.functions``).
    environment:
        Names, ids and ARNs only (checked; a secret-like value raises).
    timeout:
        Default 5 minutes (CodeDeploy waits up to an hour for the status).
    memory_size:
        Default 512 MB.
    concurrency:
        Reserved concurrency, default 2 (an API's and a worker's deployment at once).
    log_retention:
        Default one year; shorter needs ``DeploymentHookFunction.log_retention``.
    opt_outs:
        Explicit, recorded opt-outs (others' are ignored).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        code: lambda_.Code,
        handler: str,
        log_key: kms.IKey,
        environment_key: kms.IKey,
        environment: Mapping[str, str] | None = None,
        timeout: cdk.Duration | None = None,
        memory_size: int = 512,
        concurrency: int = 2,
        log_retention: logs.RetentionDays | int = logs.RetentionDays.ONE_YEAR,
        description: str | None = None,
        opt_outs: Sequence[OptOut] = (),
    ) -> None:
        super().__init__(scope, id_)
        mine = reject_unknown_opt_outs(opt_outs, (SETTING_LOG_RETENTION,))
        env = dict(environment or {})
        flagged = find_secret_like_environment(env, resolve=cdk.Stack.of(self))
        if flagged:
            raise SecureDefaultError(
                f"Hook environment values must be names or ARNs, never secrets: {flagged}")
        retention = as_retention(log_retention)
        weaken_if(self, retention_days(retention) < MIN_LOG_RETENTION_DAYS,
                  setting=SETTING_LOG_RETENTION, opt_outs=mine,
                  weakened=f"log_retention={retention.name}")
        allow_cloudwatch_logs(log_key, self)
        self._log_group = logs.LogGroup(self, "Logs", encryption_key=log_key,
                                        retention=retention,
                                        removal_policy=cdk.RemovalPolicy.RETAIN)
        self._role = iam.Role(self, "Role",
                              assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                              description=f"Execution role of {self.node.path}")
        self._log_group.grant_write(self._role)
        accept(self._role, _INLINE_RULES,
               "CDK grants put the hook's statements in one policy attached only to its own "
               "role; their content is checked by BankGrade-NoWildcardPermissions.")
        self._function = lambda_.Function(
            self, "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            code=code,
            handler=handler,
            timeout=timeout or cdk.Duration.minutes(5),
            memory_size=memory_size,
            role=self._role,
            log_group=self._log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            environment=env,
            environment_encryption=environment_key,
            reserved_concurrent_executions=concurrency,
            recursive_loop=lambda_.RecursiveLoop.TERMINATE,
            description=description or "CodeDeploy BeforeAllowTraffic hook",
        )
        cfn = self._function.node.default_child
        assert isinstance(cfn, lambda_.CfnFunction)
        cfn.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
        tracing = iam.ManagedPolicy(
            self, "TracingPolicy", description="X-Ray trace upload for one hook",
            statements=[iam.PolicyStatement(
                actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                resources=["*"])],
            roles=[self._role])
        accept(tracing, ("AwsSolutions-IAM5[Resource::*]",),
               "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level "
               "permissions; this separate policy holds only those two actions.")
        accept(self._function, _NOT_IN_VPC_RULES,
               "The hook reaches its targets (e.g. Aurora through the RDS Data API) over "
               "HTTPS with IAM auth; a VPC attachment would need NAT or endpoints and add "
               "no control over those paths.")
        accept(self._function, _NO_DLQ_RULES, _NO_DLQ_REASON)

    @property
    def function(self) -> lambda_.Function:
        """The hook function (CodeDeploy invokes it directly; no alias)."""
        return self._function

    @property
    def role(self) -> iam.Role:
        """Its execution role: grant what the hook does here."""
        return self._role

    @property
    def log_group(self) -> logs.LogGroup:
        """Its CMK-encrypted log group."""
        return self._log_group
