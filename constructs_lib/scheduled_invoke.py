"""``ScheduledInvoke``: invoke a Lambda alias with a fixed event on an EventBridge schedule.

What you get by default
-----------------------
* A schedule encrypted with your customer-managed ``key`` (its ``KmsKeyArn``; the target
  input is a fixed JSON event, encrypted at rest under it), no flexible window, and a target
  on the function's **alias** (or a version), never ``$LATEST``: traffic shifting and
  rollback by CodeDeploy apply to scheduled invocations as to every other.
* Its own role, assumable only by ``scheduler.amazonaws.com`` on behalf of this account
  (``aws:SourceAccount``), whose one managed policy allows ``lambda:InvokeFunction`` on that
  alias, ``kms:Decrypt`` with the schedule's key through Scheduler only and, when a
  dead-letter queue is given, ``sqs:SendMessage`` on that queue (and its key, through SQS
  only). The target gets the role as an immutable reference, so nothing adds an inline
  policy to it or a statement to the key's policy (which may live in another stack).
* Delivery retried ``retry_attempts`` times (default 2) within ``max_event_age`` (default one
  hour; pass the schedule's interval so a late invocation never overlaps the next one).
  Scheduler invokes asynchronously: a run that fails lands in the function's own
  dead-letter queue (``ServiceFunction`` has one); an invocation Scheduler could not
  deliver at all lands in ``dead_letter_queue`` when given (pass the same queue).

Example
-------
::

    ScheduledInvoke(
        self, "Sweep", function=worker.alias, key=keys.workflow_state,
        schedule=scheduler.ScheduleExpression.rate(cdk.Duration.minutes(5)),
        payload={"action": "sweep"}, description="Sweep stuck and due sync runs",
        max_event_age=cdk.Duration.minutes(5), dead_letter_queue=worker.dead_letter_queue,
    )
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib.workflows._machine import check_invocable

__all__ = ["ScheduledInvoke"]

MAX_RETRY_ATTEMPTS = 185
"""EventBridge Scheduler's ceiling on a target's retry attempts."""
_MIN_EVENT_AGE = cdk.Duration.minutes(1)
_MAX_EVENT_AGE = cdk.Duration.hours(24)


class ScheduledInvoke(Construct):
    """A CMK-encrypted schedule invoking one Lambda alias through a role that can do nothing else.

    Parameters
    ----------
    function:
        The function's alias (or a version); the function itself (``$LATEST``) is refused.
    schedule:
        When, e.g. ``ScheduleExpression.rate(Duration.minutes(5))``.
    key:
        Customer-managed key the schedule (and its target input) is encrypted with; its
        policy must let this account use it through EventBridge Scheduler
        (``EncryptionKeys.workflow_state`` does).
    description:
        What the schedule does (shown in the console; no secrets).
    payload:
        The JSON event every invocation receives (default ``{}``).
    retry_attempts:
        Delivery retries, 0 to :data:`MAX_RETRY_ATTEMPTS` (default 2).
    max_event_age:
        How long Scheduler keeps retrying one invocation, 1 minute to 24 hours (default one
        hour).
    dead_letter_queue:
        Where invocations that could not be delivered go (default none: they are dropped).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        function: lambda_.IAlias | lambda_.IVersion,
        schedule: scheduler.ScheduleExpression,
        key: kms.IKey,
        description: str,
        payload: Mapping[str, Any] | None = None,
        retry_attempts: int = 2,
        max_event_age: cdk.Duration | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
    ) -> None:
        super().__init__(scope, id_)
        check_invocable(function)
        if not 0 <= retry_attempts <= MAX_RETRY_ATTEMPTS:
            raise ValueError(f"retry_attempts must be 0-{MAX_RETRY_ATTEMPTS}, got {retry_attempts}")
        age = max_event_age or cdk.Duration.hours(1)
        if not cdk.Token.is_unresolved(age.to_seconds()) and not (
                _MIN_EVENT_AGE.to_seconds() <= age.to_seconds() <= _MAX_EVENT_AGE.to_seconds()):
            raise ValueError("max_event_age must be between 1 minute and 24 hours")
        if not description.strip():
            raise ValueError("a schedule needs a description")
        stack = cdk.Stack.of(self)
        statements = [
            iam.PolicyStatement(
                sid="InvokeTheAliasOnly",
                actions=["lambda:InvokeFunction"], resources=[function.function_arn]),
            # Scheduler decrypts the schedule's target input as this role, through itself.
            iam.PolicyStatement(
                sid="ScheduleKeyThroughScheduler",
                actions=["kms:Decrypt"], resources=[key.key_arn],
                conditions={"StringEquals": {
                    "kms:ViaService": f"scheduler.{stack.region}.amazonaws.com"}}),
        ]
        if dead_letter_queue is not None:
            statements.append(iam.PolicyStatement(
                sid="UndeliveredToTheDeadLetterQueue",
                actions=["sqs:SendMessage"], resources=[dead_letter_queue.queue_arn]))
            queue_key = dead_letter_queue.encryption_master_key
            if queue_key is not None:
                statements.append(iam.PolicyStatement(
                    sid="DeadLetterQueueKeyThroughSqs",
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=[queue_key.key_arn],
                    conditions={"StringEquals": {
                        "kms:ViaService": f"sqs.{stack.region}.amazonaws.com"}}))
        self._policy = iam.ManagedPolicy(
            self, "InvokePolicy", description=f"{description}: invoke one alias only",
            statements=statements)
        self._role = iam.Role(
            self, "Role",
            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com", conditions={
                "StringEquals": {"aws:SourceAccount": stack.account}}),
            description=f"EventBridge Scheduler: {description}",
            managed_policies=[self._policy],
        )
        # Immutable, so the target and the schedule add nothing of their own (an inline policy,
        # or the role in the key's policy): the managed policy above holds every permission.
        # By name, so the reference is known to be this account's.
        invoker = iam.Role.from_role_name(self, "RoleRef", self._role.role_name, mutable=False)
        self._schedule = scheduler.Schedule(
            self, "Schedule",
            description=description,
            schedule=schedule,
            target=targets.LambdaInvoke(
                function, role=invoker, retry_attempts=retry_attempts, max_event_age=age,
                input=scheduler.ScheduleTargetInput.from_object(dict(payload or {})),
                dead_letter_queue=dead_letter_queue),
            key=key,
            time_window=scheduler.TimeWindow.off(),
        )

    @property
    def schedule(self) -> scheduler.Schedule:
        """The schedule."""
        return self._schedule

    @property
    def role(self) -> iam.Role:
        """The schedule's role (it may only invoke the alias, and send to the queue given)."""
        return self._role
