"""The scheduled audit anchor: a function the schedule invokes every N minutes (config).

It runs ``service.audit.scheduled.handler`` with the same Lambda-mode settings as the
API (``Settings.from_env`` requires them), as the least-privilege database role, and may
only *put* anchors into the Object Lock bucket; it reads no secret but its database one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_app.config import FunctionConfig, StageConfig
from cdk_app.stacks.data_stack import DataStack
from cdk_app.stacks.service_functions import service_function
from constructs_lib import OptOut, ScheduledInvoke
from service import deployment_contract as contract

# Fixed, not stage config: one anchor at a time, a small job on any stage.
ANCHOR_SIZING = FunctionConfig(memory_mb=512, timeout_seconds=120, reserved_concurrency=1,
                               deployment="all_at_once", p99_latency_alarm_ms=60_000)


class AuditAnchoring(Construct):
    """The anchor function (alias ``live``, deployed after migrations) and its schedule."""

    def __init__(
        self, scope: Construct, id_: str, *, config: StageConfig, data: DataStack,
        environment: Mapping[str, str], alarm_topic: sns.ITopic,
        migrations: lambda_.IFunction, opt_outs: Sequence[OptOut],
    ) -> None:
        super().__init__(scope, id_)
        self.function = service_function(
            self, "Function", handler=contract.AUDIT_ANCHOR_HANDLER, sizing=ANCHOR_SIZING,
            config=config, data=data, alarm_topic=alarm_topic, environment=environment,
            description="Copies every audit chain's last link to the anchor bucket",
            pre_traffic_hook=migrations, opt_outs=opt_outs,
        )
        role = self.function.role
        data.database.grant_data_access(role, secret=data.app_role.secret)
        data.audit_anchors.grant_write(role)
        # A failed run lands in the function's own dead-letter queue, and so does an
        # invocation the scheduler could not deliver; the next run anchors anyway.
        interval = cdk.Duration.minutes(config.audit.anchor_interval_minutes)
        self.scheduled = ScheduledInvoke(
            self, "Schedule",
            function=self.function.alias,
            schedule=scheduler.ScheduleExpression.rate(interval),
            key=data.keys.workflow_state,
            description="Anchor the audit chain heads",
            max_event_age=interval,
            dead_letter_queue=self.function.dead_letter_queue,
        )
        self.schedule = self.scheduled.schedule
