"""What every state machine of the workflow family shares: key, logs, tracing, grants."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from constructs_lib.log_storage import allow_cloudwatch_logs

# The Lambda service errors AWS documents as transient for the Lambda integration
# (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html),
# plus throttling: retried on every worker call, whatever the step's own policy.
LAMBDA_SERVICE_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
KMS_DATA_KEY_REUSE = cdk.Duration.minutes(5)


def check_invocable(worker: object) -> None:
    """Only an alias or a version may be a task's target: ``$LATEST`` skips CodeDeploy."""
    qualified = hasattr(worker, "alias_name") or hasattr(worker, "version")
    if isinstance(worker, lambda_.Function) or not qualified:
        raise TypeError("Pass the worker's alias (ServiceFunction.alias), not the function: "
                        "invoking $LATEST bypasses the alias' CodeDeploy traffic shifting.")


def add_lambda_service_retry(task: tasks.LambdaInvoke, retrier: LambdaServiceRetry) -> None:
    """Retry the documented transient Lambda errors with full jitter."""
    task.add_retry(
        errors=list(LAMBDA_SERVICE_ERRORS),
        interval=cdk.Duration.seconds(retrier.interval_seconds),
        backoff_rate=retrier.backoff_rate,
        max_attempts=retrier.max_attempts,
        max_delay=cdk.Duration.seconds(retrier.max_delay_seconds),
        jitter_strategy=sfn.JitterType.FULL,
    )


class LambdaServiceRetry:
    """How Lambda service errors are retried (default: 2 s, doubling, 3 retries, <= 20 s)."""

    __slots__ = ("backoff_rate", "interval_seconds", "max_attempts", "max_delay_seconds")

    def __init__(self, *, interval_seconds: int = 2, backoff_rate: float = 2.0,
                 max_attempts: int = 3, max_delay_seconds: int = 20) -> None:
        if not (1 <= interval_seconds <= max_delay_seconds and backoff_rate >= 1
                and 1 <= max_attempts <= 10):
            raise ValueError("LambdaServiceRetry needs 1 <= interval <= max_delay, rate >= 1, "
                             "1-10 attempts")
        self.interval_seconds = interval_seconds
        self.backoff_rate = backoff_rate
        self.max_attempts = max_attempts
        self.max_delay_seconds = max_delay_seconds

    def worst_case_wait_seconds(self) -> int:
        """The longest total wait between attempts."""
        return sum(min(self.max_delay_seconds, int(self.interval_seconds * self.backoff_rate ** n))
                   for n in range(self.max_attempts))


def state_machine_arn(scope: Construct, name: str) -> str:
    """The ARN of the state machine called ``name`` in ``scope``'s stack (no reference)."""
    return cdk.Stack.of(scope).format_arn(
        service="states", resource="stateMachine", resource_name=name,
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)


def encrypted_state_machine(
    scope: Construct,
    *,
    name: str,
    definition: sfn.IChainable,
    key: kms.IKey,
    log_key: kms.IKey,
    log_retention: logs.RetentionDays,
    timeout: cdk.Duration,
) -> tuple[sfn.StateMachine, logs.LogGroup]:
    """A STANDARD state machine under ``key``, logging ALL without data, traced by X-Ray.

    The encryption is set on the resource with the library's own statements (the L2's would
    add an unconditioned ``kms:Decrypt*`` for log delivery to the key's policy; the key's
    policy, from :class:`~constructs_lib.EncryptionKeys`, carries a conditioned one).
    """
    allow_cloudwatch_logs(log_key, scope)
    # The vendedlogs prefix keeps Step Functions' log delivery within the resource policy
    # size limit however many machines an account has.
    log_group = logs.LogGroup(
        scope, "ExecutionLogs",
        log_group_name=f"/aws/vendedlogs/states/{name}",
        encryption_key=log_key,
        retention=log_retention,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    machine = sfn.StateMachine(
        scope, "StateMachine",
        state_machine_name=name,
        state_machine_type=sfn.StateMachineType.STANDARD,
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        timeout=timeout,
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL,
                            include_execution_data=False),
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    cfn = machine.node.default_child
    assert isinstance(cfn, sfn.CfnStateMachine)
    cfn.encryption_configuration = sfn.CfnStateMachine.EncryptionConfigurationProperty(
        type="CUSTOMER_MANAGED_KMS_KEY", kms_key_id=key.key_arn,
        kms_data_key_reuse_period_seconds=int(KMS_DATA_KEY_REUSE.to_seconds()))
    stack = cdk.Stack.of(scope)
    machine.add_to_role_policy(iam.PolicyStatement(
        sid="StateUnderItsOwnKey",
        actions=["kms:Decrypt", "kms:GenerateDataKey"],
        resources=[key.key_arn],
        conditions={"StringEquals": {
            "kms:EncryptionContext:aws:states:stateMachineArn": state_machine_arn(scope, name)}},
    ))
    machine.add_to_role_policy(iam.PolicyStatement(
        sid="EncryptedLogDelivery",
        actions=["kms:GenerateDataKey"],
        resources=[key.key_arn],
        conditions={"StringEquals": {"kms:EncryptionContext:SourceArn": stack.format_arn(
            service="logs", resource="*", arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)}},
    ))
    return machine, log_group


def grant_start(machine: sfn.StateMachine, key: kms.IKey, grantee: iam.IGrantable,
                *, name: str) -> iam.Grant:
    """``states:StartExecution`` on ``machine`` only, and its key for exactly that machine."""
    grant = machine.grant_start_execution(grantee)
    grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
        actions=["kms:GenerateDataKey", "kms:Decrypt"],
        resources=[key.key_arn],
        conditions={"StringEquals": {
            "kms:EncryptionContext:aws:states:stateMachineArn":
                state_machine_arn(machine, name)}},
    ))
    return grant


def alarm_on(scope: Construct, machine: sfn.StateMachine, topic: sns.ITopic | None, *,
             failed: bool) -> tuple[cloudwatch.Alarm, ...]:
    """Alarms (to ``topic``) on timed-out and aborted executions, and failed ones if asked."""
    if topic is None:
        return ()
    period = cdk.Duration.minutes(5)
    metrics = {"TimedOut": machine.metric_timed_out(period=period, statistic="Sum"),
               "Aborted": machine.metric_aborted(period=period, statistic="Sum")}
    if failed:
        metrics["Failed"] = machine.metric_failed(period=period, statistic="Sum")
    alarms = []
    for what, metric in metrics.items():
        alarm = cloudwatch.Alarm(
            scope, f"Executions{what}Alarm",
            alarm_description=f"An execution of {machine.node.path} {what.lower()}.",
            metric=metric, threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(topic))
        alarms.append(alarm)
    return tuple(alarms)
