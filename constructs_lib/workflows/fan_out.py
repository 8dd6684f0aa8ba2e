"""``ScheduledFanOut``: run a :class:`StepWorkflow` once per item of an S3 manifest, on a schedule.

What you get by default
-----------------------
* A STANDARD state machine (same key, logging and tracing as :class:`StepWorkflow`):

  1. ``write_manifest`` -- the worker's ``{"action": "manifest"}`` writes a JSON array of
     items (``[{"connection_ref": ...}, ...]``) to the :class:`ManifestBucket` and returns
     ``{"bucket", "key", "count"}``;
  2. ``for_each_item`` -- a DISTRIBUTED map whose ``ItemReader`` reads that object
     (``s3:getObject``, ``InputType: JSON``), never an inline list that would meet the
     256 KB state limit; at most ``max_concurrency`` items at once; results discarded;
  3. per item: the worker's ``{"action": "create", "<item_field>": ..., "trigger":
     "schedule"}`` returns ``{"run_id", "skip"}``; a Choice ends skipped items; the rest
     start the target workflow with ``{"run_id"}`` (``startExecution.sync:2``, named after
     the run so a repeated start is the same execution) and wait for it. A failed run was
     recorded by the target's own failure handler, so it ends that item without failing
     the others.
* An EventBridge Scheduler schedule (encrypted with the same customer-managed key, no
  flexible window, its own role allowed to start only this machine).
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from constructs_lib.acceptance import accept, wildcard_finding_ids
from constructs_lib.log_storage import MIN_LOG_RETENTION_DAYS, as_retention, retention_days
from constructs_lib.opt_outs import OptOut, reject_unknown_opt_outs, weaken_if
from constructs_lib.workflows._machine import (
    LambdaServiceRetry,
    add_lambda_service_retry,
    alarm_on,
    check_invocable,
    encrypted_state_machine,
    grant_start,
)
from constructs_lib.workflows.manifest_bucket import ManifestBucket
from constructs_lib.workflows.step_workflow import StepWorkflow

__all__ = ["MAX_DISTRIBUTED_CONCURRENCY", "ScheduledFanOut"]

SETTING_LOG_RETENTION = "ScheduledFanOut.log_retention"
KNOWN_SETTINGS = (SETTING_LOG_RETENTION,)
MAX_DISTRIBUTED_CONCURRENCY = 10_000
"""Step Functions' ceiling on a distributed map's concurrent child executions."""
_TASK_TIMEOUT = cdk.Duration.minutes(5)
_INLINE_RULES = ("NIST.800.53.R5-IAMNoInlinePolicy", "HIPAA.Security-IAMNoInlinePolicy",
                 "PCI.DSS.321-IAMNoInlinePolicy")


class ScheduledFanOut(Construct):
    """A scheduled distributed map over a manifest, starting ``target`` once per item.

    Parameters
    ----------
    worker:
        The worker's alias (or a version): it writes the manifest and creates each run.
    target:
        The workflow each item runs (started with ``{"run_id"}``).
    manifest_bucket:
        Where the worker writes the manifest; the machine may read only its prefix.
    state_machine_name:
        The fan-out machine's name.
    key, log_key:
        Keys of the machine (and the schedule) and of its log group.
    max_concurrency:
        Items in flight at once (1 to :data:`MAX_DISTRIBUTED_CONCURRENCY`): size it to what
        the provider and the worker's reserved concurrency allow.
    schedule:
        When to run, e.g. ``ScheduleExpression.cron(minute="30", hour="2",
        time_zone=TimeZone.EUROPE_LONDON)``.
    item_field:
        The field of each manifest item passed to ``create`` (default ``connection_ref``).
    tolerated_failure_percentage:
        Items whose run could not even be created (0-100, default 5) before the map fails.
    log_retention:
        Default one year; shorter needs the opt-out ``ScheduledFanOut.log_retention``.
    alarm_topic:
        Where alarms on failed, timed-out or aborted fan-outs go.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        worker: lambda_.IAlias | lambda_.IVersion,
        target: StepWorkflow,
        manifest_bucket: ManifestBucket,
        state_machine_name: str,
        key: kms.IKey,
        log_key: kms.IKey,
        max_concurrency: int,
        schedule: scheduler.ScheduleExpression,
        item_field: str = "connection_ref",
        tolerated_failure_percentage: float = 5,
        log_retention: logs.RetentionDays | int = logs.RetentionDays.ONE_YEAR,
        lambda_service_retry: LambdaServiceRetry | None = None,
        schedule_description: str | None = None,
        alarm_topic: sns.ITopic | None = None,
        opt_outs: Sequence[OptOut] = (),
    ) -> None:
        super().__init__(scope, id_)
        check_invocable(worker)
        if not 1 <= max_concurrency <= MAX_DISTRIBUTED_CONCURRENCY:
            raise ValueError(f"max_concurrency must be 1-{MAX_DISTRIBUTED_CONCURRENCY}, "
                             f"got {max_concurrency}")
        if not 0 <= tolerated_failure_percentage <= 100:
            raise ValueError("tolerated_failure_percentage must be 0-100")
        mine = reject_unknown_opt_outs(opt_outs, KNOWN_SETTINGS)
        retention = as_retention(log_retention)
        weaken_if(self, retention_days(retention) < MIN_LOG_RETENTION_DAYS,
                  setting=SETTING_LOG_RETENTION, opt_outs=mine,
                  weakened=f"log_retention={retention.name}")
        self._name = state_machine_name
        self._key = key
        service_retry = lambda_service_retry or LambdaServiceRetry()

        write_manifest = tasks.LambdaInvoke(
            self, "write_manifest",
            lambda_function=worker,
            comment="Write the items to the manifest bucket; returns where.",
            payload=sfn.TaskInput.from_object({"action": "manifest"}),
            result_selector={"bucket": sfn.JsonPath.string_at("$.Payload.bucket"),
                             "key": sfn.JsonPath.string_at("$.Payload.key"),
                             "count": sfn.JsonPath.number_at("$.Payload.count")},
            task_timeout=sfn.Timeout.duration(_TASK_TIMEOUT),
            retry_on_service_exceptions=False,
        )
        add_lambda_service_retry(write_manifest, service_retry)
        create_run = tasks.LambdaInvoke(
            self, "create_run",
            lambda_function=worker,
            comment="Create the item's run, or skip it (not due, or one already running).",
            payload=sfn.TaskInput.from_object({
                "action": "create", item_field: sfn.JsonPath.string_at(f"$.{item_field}"),
                "trigger": "schedule",
            }),
            result_selector={"run_id": sfn.JsonPath.string_at("$.Payload.run_id"),
                             "skip": sfn.JsonPath.string_at("$.Payload.skip")},
            task_timeout=sfn.Timeout.duration(cdk.Duration.minutes(1)),
            retry_on_service_exceptions=False,
        )
        add_lambda_service_retry(create_run, service_retry)
        run_target = tasks.StepFunctionsStartExecution(
            self, "run_workflow",
            state_machine=target.state_machine,
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            input=sfn.TaskInput.from_object({"run_id": sfn.JsonPath.string_at("$.run_id")}),
            name=sfn.JsonPath.string_at("$.run_id"),
            associate_with_parent=True,
            result_selector={"status": sfn.JsonPath.string_at("$.Status")},
            result_path="$.result",
        )
        run_target.add_catch(sfn.Succeed(self, "run_failed_and_recorded"),
                             errors=["States.ALL"], result_path="$.error")
        item = create_run.next(
            sfn.Choice(self, "skip?")
            .when(sfn.Condition.boolean_equals("$.skip", True), sfn.Succeed(self, "skipped"))
            .otherwise(run_target)
        )
        for_each = sfn.DistributedMap(
            self, "for_each_item",
            item_reader=sfn.S3JsonItemReader(
                bucket_name_path=sfn.JsonPath.string_at("$.bucket"),
                key=sfn.JsonPath.string_at("$.key")),
            item_selector={item_field: sfn.JsonPath.string_at(f"$$.Map.Item.Value.{item_field}")},
            max_concurrency=max_concurrency,
            map_execution_type=sfn.StateMachineType.STANDARD,
            tolerated_failure_percentage=tolerated_failure_percentage,
            result_path=sfn.JsonPath.DISCARD,
            label="items",
        )
        for_each.item_processor(item)
        definition = write_manifest.next(for_each).next(sfn.Succeed(self, "done"))
        self._machine, self._log_group = encrypted_state_machine(
            self, name=state_machine_name, definition=definition, key=key, log_key=log_key,
            log_retention=retention, timeout=cdk.Duration.hours(23))
        manifest_bucket.grant_read(self._machine)
        target.grant_start_execution(self._machine)
        self._schedule = self._create_schedule(schedule, schedule_description)
        # Every grant of this construct is in place now; accept exactly those.
        self._accept_design()
        self._alarms = alarm_on(self, self._machine, alarm_topic, failed=True)

    # --- read-only resources -------------------------------------------------------------

    @property
    def state_machine(self) -> sfn.StateMachine:
        """The fan-out state machine."""
        return self._machine

    @property
    def schedule(self) -> scheduler.Schedule:
        """The schedule that starts it."""
        return self._schedule

    @property
    def log_group(self) -> logs.LogGroup:
        """The CMK-encrypted log group of its executions."""
        return self._log_group

    @property
    def alarms(self) -> tuple[cloudwatch.Alarm, ...]:
        """Alarms on failed, timed-out and aborted fan-outs (none without ``alarm_topic``)."""
        return self._alarms

    def grant_start_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start a fan-out now (e.g. an operator role)."""
        return grant_start(self._machine, self._key, grantee, name=self._name)

    # --- internals -----------------------------------------------------------------------

    def _create_schedule(self, expression: scheduler.ScheduleExpression,
                         description: str | None) -> scheduler.Schedule:
        stack = cdk.Stack.of(self)
        role = iam.Role(
            self, "ScheduleRole",
            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com", conditions={
                "StringEquals": {"aws:SourceAccount": stack.account}}),
            description=f"Starts {self._name} on its schedule",
        )
        self.grant_start_execution(role)
        self._schedule_role = role
        return scheduler.Schedule(
            self, "Schedule",
            schedule=expression,
            target=targets.StepFunctionsStartExecution(
                self._machine, role=role, input=scheduler.ScheduleTargetInput.from_object({}),
                retry_attempts=2, max_event_age=cdk.Duration.hours(1)),
            key=self._key,
            time_window=scheduler.TimeWindow.off(),
            description=description or f"Starts {self._name}",
        )

    def _accept_design(self) -> None:
        """Accept what this construct's own grants need, the wildcards by exact id."""
        stack = cdk.Stack.of(self)
        policies = [c for c in (*self._machine.node.find_all(),
                                *self._schedule_role.node.find_all())
                    if isinstance(c, iam.CfnPolicy)]
        for policy in policies:
            accept(policy, _INLINE_RULES, "CDK puts the grants of this machine (or of its "
                   "schedule) in a policy attached only to its own role and deployed with it.")
            ids = sorted(i for i in wildcard_finding_ids(stack.resolve(policy.policy_document))
                         if ":execution:" in i)
            if ids:
                accept(policy, ids, "Executions are named at run time (one per run, and the "
                       "map's child executions), so their ARNs end in a wildcard under exactly "
                       "one state machine's name.")
        accept(self._machine.role, ("AwsSolutions-IAM5[Resource::*]",),
               "Step Functions' log delivery and X-Ray trace upload support no resource-level "
               "permissions.")
