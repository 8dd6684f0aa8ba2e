"""``StepWorkflow``: a Step Functions state machine built from a plain workflow spec.

What you get by default
-----------------------
* One ``LambdaInvoke`` task per step, in the spec's order, on the worker's *alias*, passing
  ids only (the payload below) and keeping only ``run_id`` and ``deferred`` of the answer: ids,
  never payloads, flow between steps (so no state comes near the 256 KB limit and no customer
  data enters the execution history).
* After each task a ``Choice``: when the worker answered ``deferred: true`` the execution
  ends successfully in the ``Parked`` state (the run waits, holding no execution; whoever
  resumes it starts a new one); otherwise the next step runs.
* Per step: its timeout, its own retrier from the spec (exponential backoff, full jitter,
  attempt limit, delay cap) and a retrier for the documented transient Lambda service
  errors; a ``Catch`` of everything else that invokes the worker with
  ``{"action": "fail", "run_id", "step", "error"}`` (the run records the failure) and then
  fails the execution.
* A STANDARD machine encrypted with a customer-managed key (the workflow-state key), logging
  level ALL *without execution data* to its own CMK-encrypted log group (one year at least),
  X-Ray tracing, an execution timeout no retry schedule can outlive, retained on delete.

The worker contract
-------------------
The machine's input is ``{"run_id": "..."}``: whoever starts it created the run first. Each
step's task invokes the worker with::

    {"action": "step", "run_id": "<run>", "step": "<name>",
     "retry_count": <$$.State.RetryCount: 0 on the first attempt of this execution>,
     "execution": "<$$.Execution.Name>"}

and the worker must answer ``{"run_id": "<run>", "deferred": <bool>}`` -- both fields, always
(a missing one fails the task) -- or raise. An error whose type name the step's retrier
lists is retried; anything else goes to the Catch. ``retry_count`` tells the worker which
attempt it makes, so on the last one it can park the run (answer ``deferred: true``) instead of
raising into the Catch; ``deferred: true`` is also the answer for a run that is not to be
worked on by this execution. The Catch's ``fail`` call answers ``{"run_id": "<run>"}``.

Example
-------
::

    spec = WorkflowSpec.from_mapping(step_functions_spec(BANK_SYNC))   # the app's own data
    sync = StepWorkflow(
        self, "BankSync", spec=spec, worker=worker.alias,
        state_machine_name="prod-bank-sync",
        key=keys.workflow_state, log_key=keys.logs,
    )
    sync.grant_start_execution(api_function.role)
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from constructs_lib.acceptance import accept
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
from constructs_lib.workflows.spec import WorkflowSpec, WorkflowStep

__all__ = ["StepWorkflow"]

SETTING_LOG_RETENTION = "StepWorkflow.log_retention"
KNOWN_SETTINGS = (SETTING_LOG_RETENTION,)
FAILURE_RECORD_TIMEOUT = cdk.Duration.seconds(30)


class StepWorkflow(Construct):
    """A state machine of discrete worker steps, defined by a :class:`WorkflowSpec`.

    Parameters
    ----------
    spec:
        The workflow as data (steps in order, timeouts, retriers); the library never sees
        the app's code.
    worker:
        The worker function's alias (or a version): every task invokes it, never ``$LATEST``.
        It must keep the worker contract (module doc): answer ``{"run_id", "deferred"}``.
    state_machine_name:
        The machine's name (also its log group's, ``/aws/vendedlogs/states/<name>``). Named
        so that grants can carry the KMS encryption context of exactly this machine.
    key:
        Customer-managed key for the definition and execution history
        (``EncryptionKeys.workflow_state``).
    log_key:
        Customer-managed key of the log group (``EncryptionKeys.logs``).
    log_retention:
        Log retention, default one year; shorter needs the opt-out
        ``StepWorkflow.log_retention``.
    lambda_service_retry:
        How the documented transient Lambda errors are retried on every task.
    alarm_topic:
        Where alarms on timed-out or aborted executions go (a failed run is an outcome the
        run records, e.g. an expired consent, so it does not alarm).
    opt_outs:
        Explicit, recorded weakenings of these defaults.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        spec: WorkflowSpec,
        worker: lambda_.IAlias | lambda_.IVersion,
        state_machine_name: str,
        key: kms.IKey,
        log_key: kms.IKey,
        log_retention: logs.RetentionDays | int = logs.RetentionDays.ONE_YEAR,
        lambda_service_retry: LambdaServiceRetry | None = None,
        alarm_topic: sns.ITopic | None = None,
        opt_outs: Sequence[OptOut] = (),
    ) -> None:
        super().__init__(scope, id_)
        check_invocable(worker)
        mine = reject_unknown_opt_outs(opt_outs, KNOWN_SETTINGS)
        retention = as_retention(log_retention)
        weaken_if(self, retention_days(retention) < MIN_LOG_RETENTION_DAYS,
                  setting=SETTING_LOG_RETENTION, opt_outs=mine,
                  weakened=f"log_retention={retention.name}")
        self._spec = spec
        self._name = state_machine_name
        self._key = key
        self._service_retry = lambda_service_retry or LambdaServiceRetry()
        failed = sfn.Fail(self, "Failed", error="WorkflowStepFailed",
                          cause="A step failed after its retries; the run records why.")
        steps = [self._step_task(step, worker, failed) for step in spec.steps]
        parked = sfn.Succeed(self, "Parked", comment=(
            "The worker parked the run (deferred); an event or its due time resumes it in a "
            "new execution."))
        following: list[sfn.IChainable] = [*steps[1:], sfn.Succeed(self, "Succeeded")]
        for step, task, then in zip(spec.steps, steps, following, strict=True):
            task.next(sfn.Choice(self, f"{step.name}.parked",
                                 comment=f"Stop here if {step.name} parked the run.")
                      .when(sfn.Condition.boolean_equals("$.deferred", True), parked)
                      .otherwise(then))
        self._machine, self._log_group = encrypted_state_machine(
            self, name=state_machine_name, definition=steps[0], key=key, log_key=log_key,
            log_retention=retention, timeout=self._execution_timeout())
        _accept_machine_design(self._machine)
        self._alarms = alarm_on(self, self._machine, alarm_topic, failed=False)

    # --- read-only resources -------------------------------------------------------------

    @property
    def state_machine(self) -> sfn.StateMachine:
        """The state machine."""
        return self._machine

    @property
    def state_machine_name(self) -> str:
        """The machine's name."""
        return self._name

    @property
    def log_group(self) -> logs.LogGroup:
        """The CMK-encrypted log group of its executions."""
        return self._log_group

    @property
    def alarms(self) -> tuple[cloudwatch.Alarm, ...]:
        """Alarms on timed-out and aborted executions (none without ``alarm_topic``)."""
        return self._alarms

    @property
    def spec(self) -> WorkflowSpec:
        """The spec it was built from."""
        return self._spec

    # --- grants --------------------------------------------------------------------------

    def grant_start_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start executions of this machine only (and use its key for it)."""
        return grant_start(self._machine, self._key, grantee, name=self._name)

    # --- internals -----------------------------------------------------------------------

    def _step_task(self, step: WorkflowStep, worker: lambda_.IAlias | lambda_.IVersion,
                   failed: sfn.Fail) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            self, step.name,
            lambda_function=worker,
            comment=step.description or None,
            payload=sfn.TaskInput.from_object({
                "action": "step", "run_id": sfn.JsonPath.string_at("$.run_id"),
                "step": step.name,
                "retry_count": sfn.JsonPath.state_retry_count,
                "execution": sfn.JsonPath.execution_name,
            }),
            result_selector={"run_id": sfn.JsonPath.string_at("$.Payload.run_id"),
                             "deferred": sfn.JsonPath.object_at("$.Payload.deferred")},
            task_timeout=sfn.Timeout.duration(cdk.Duration.seconds(step.timeout_seconds)),
            retry_on_service_exceptions=False,
        )
        if step.retry is not None:
            task.add_retry(
                errors=list(step.retry.error_equals),
                interval=cdk.Duration.seconds(step.retry.interval_seconds),
                backoff_rate=step.retry.backoff_rate,
                max_attempts=step.retry.max_attempts,
                max_delay=cdk.Duration.seconds(step.retry.max_delay_seconds),
                jitter_strategy=sfn.JitterType.FULL,
            )
        add_lambda_service_retry(task, self._service_retry)
        record = tasks.LambdaInvoke(
            self, f"{step.name}.record_failure",
            lambda_function=worker,
            comment=f"Record that {step.name} failed, then fail the execution.",
            payload=sfn.TaskInput.from_object({
                "action": "fail", "run_id": sfn.JsonPath.string_at("$.run_id"),
                "step": step.name, "error": sfn.JsonPath.object_at("$.error"),
            }),
            result_selector={"run_id": sfn.JsonPath.string_at("$.Payload.run_id")},
            task_timeout=sfn.Timeout.duration(FAILURE_RECORD_TIMEOUT),
            retry_on_service_exceptions=False,
        )
        add_lambda_service_retry(record, self._service_retry)
        # Failing to record still ends the execution as failed (never a hanging run).
        record.add_catch(failed, errors=["States.ALL"], result_path="$.record_error")
        record.next(failed)
        task.add_catch(record, errors=["States.ALL"], result_path="$.error")
        return task

    def _execution_timeout(self) -> cdk.Duration:
        """Every attempt of every step at its timeout, every wait at its cap, plus recording."""
        service = self._service_retry
        total = int(FAILURE_RECORD_TIMEOUT.to_seconds()) * (1 + service.max_attempts)
        total += service.worst_case_wait_seconds()
        for step in self._spec.steps:
            retries = step.retry.max_attempts if step.retry else 0
            attempts = 1 + retries + service.max_attempts
            total += attempts * step.timeout_seconds + service.worst_case_wait_seconds()
            if step.retry is not None:
                total += step.retry.worst_case_wait_seconds()
        return cdk.Duration.seconds(total)


def _accept_machine_design(machine: sfn.StateMachine) -> None:
    """Accept, on this machine's own role policy, what Step Functions logging and X-Ray need."""
    accept(machine.role, (
        "AwsSolutions-IAM5[Resource::*]",
        "NIST.800.53.R5-IAMNoInlinePolicy", "HIPAA.Security-IAMNoInlinePolicy",
        "PCI.DSS.321-IAMNoInlinePolicy",
    ), "Step Functions' log delivery (logs:*LogDelivery, PutResourcePolicy, Describe*) and "
       "X-Ray trace upload support no resource-level permissions; CDK puts them with the "
       "machine's task grants in one policy attached only to this machine's role.")
