"""Bank sync in AWS: the worker function, the bank-sync workflow, its daily fan-out, the run
sweep's schedule and the daily data retention's (the worker's ``retention`` action).

Built inside the API stack so references flow one way: the machines name the worker's
alias, the worker's and the API's grants name the machines by their (configured) names,
and the worker shares the API's migrations hook as its ``BeforeAllowTraffic`` hook. The
step list comes from the service's own definition (:data:`service.workflows.bank_sync.BANK_SYNC`)
through :func:`~service.workflows.definition.step_functions_spec`; nothing here repeats it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_app.config import StageConfig
from cdk_app.stacks.data_stack import TOKENS_KEY_USER_TAG, DataStack
from cdk_app.stacks.service_functions import service_function
from constructs_lib import (
    AppSecret,
    ManifestBucket,
    OptOut,
    ScheduledFanOut,
    ScheduledInvoke,
    ServiceFunction,
    StepWorkflow,
    WorkflowSpec,
)
from service import deployment_contract as contract
from service.workflows.bank_sync import BANK_SYNC
from service.workflows.definition import step_functions_spec


class BankSyncWorkflows(Construct):
    """The worker (alias ``live``, its own deployment group), both machines, the daily
    schedule, the sweep's and the retention's."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: StageConfig,
        data: DataStack,
        alarm_topic: sns.ITopic,
        migrations: lambda_.IFunction,
        runtime_environment: Mapping[str, str],
        opt_outs: Sequence[OptOut],
    ) -> None:
        """``runtime_environment``: what ``Settings.from_env`` requires in Lambda mode (names
        and ARNs only; the worker reads none of those secrets, so it gets no grant on them)."""
        super().__init__(scope, id_)
        self._runtime_environment = dict(runtime_environment)
        spec = WorkflowSpec.from_mapping(step_functions_spec(BANK_SYNC))
        longest = max(step.timeout_seconds for step in spec.steps)
        if config.worker_function.timeout_seconds < longest:
            raise ValueError(f"worker_function.timeout_seconds "
                             f"({config.worker_function.timeout_seconds}) must cover the longest "
                             f"bank-sync step ({longest} s)")
        prefix = config.resource_prefix
        self.sync_machine_name = f"{prefix}-bank-sync"
        self.fan_out_machine_name = f"{prefix}-daily-sync"
        keys = data.keys
        self._workflow_key = keys.workflow_state
        self.manifests = ManifestBucket(
            self, "Manifests", key=keys.workflow_state,
            expire_after=cdk.Duration.days(config.sync.manifest_retention_days))
        self.worker = self._worker(config, data, alarm_topic, migrations, opt_outs)
        self.bank_sync = StepWorkflow(
            self, "BankSync", spec=spec, worker=self.worker.alias,
            state_machine_name=self.sync_machine_name,
            key=keys.workflow_state, log_key=keys.logs,
            log_retention=config.log_retention_days, alarm_topic=alarm_topic,
            opt_outs=opt_outs)
        self.daily = ScheduledFanOut(
            self, "DailySync", worker=self.worker.alias, target=self.bank_sync,
            manifest_bucket=self.manifests, state_machine_name=self.fan_out_machine_name,
            key=keys.workflow_state, log_key=keys.logs,
            max_concurrency=config.sync.max_concurrency,
            schedule=scheduler.ScheduleExpression.cron(
                minute=str(config.sync.schedule_minute), hour=str(config.sync.schedule_hour),
                time_zone=cdk.TimeZone.of(config.sync.time_zone)),
            schedule_description="Daily sync of every active bank connection",
            log_retention=config.log_retention_days, alarm_topic=alarm_topic,
            opt_outs=opt_outs)
        # The worker starts runs too; by name, as the machine already refers to the worker.
        self._grant_start_by_name(self.worker.role)
        # The run sweep: stuck runs failed once their lease has passed, due deferred runs
        # resumed (an execution each); a late sweep is dropped, the next one does the work.
        sweep_every = cdk.Duration.minutes(config.sync.sweep_interval_minutes)
        self.sweep = ScheduledInvoke(
            self, "Sweep",
            function=self.worker.alias,
            schedule=scheduler.ScheduleExpression.rate(sweep_every),
            key=keys.workflow_state,
            description="Sweep bank-sync runs: fail abandoned ones, resume due ones",
            payload={"action": "sweep"},
            max_event_age=sweep_every,
            dead_letter_queue=self.worker.dead_letter_queue,
        )
        # Daily retention: expired chats and week-old webhook event ids deleted (idempotent
        # batches, so a retried or late invocation is harmless); away from the 03:00 fan-out.
        retention = config.retention
        self.retention = ScheduledInvoke(
            self, "Retention",
            function=self.worker.alias,
            schedule=scheduler.ScheduleExpression.cron(
                minute=str(retention.schedule_minute), hour=str(retention.schedule_hour),
                time_zone=cdk.TimeZone.of(retention.time_zone)),
            key=keys.workflow_state,
            description="Delete expired chat conversations and week-old webhook event ids",
            payload={"action": "retention"},
            max_event_age=cdk.Duration.hours(1),
            dead_letter_queue=self.worker.dead_letter_queue,
        )

    def provider_environment(self, config: StageConfig) -> dict[str, str]:
        """The provider settings the API and the worker both read."""
        return {
            contract.BANK_PROVIDER_ENVIRONMENT: config.bank_provider.environment,
            contract.BANK_REDIRECT_URI: config.bank_provider.redirect_uri,
            contract.TRUELAYER_JKU_ALLOWLIST: ",".join(config.bank_provider.jku_allowlist),
            contract.BANK_SYNC_STATE_MACHINE_ARN: self.sync_machine_arn,
        }

    @property
    def sync_machine_arn(self) -> str:
        """The bank-sync machine's ARN, built from its name (no reference to the machine)."""
        return cdk.Stack.of(self).format_arn(
            service="states", resource="stateMachine", resource_name=self.sync_machine_name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)

    def grant_start_sync(self, function: ServiceFunction, config: StageConfig) -> None:
        """Give ``function`` (the API) the provider settings and StartExecution on bank sync."""
        for name, value in self.provider_environment(config).items():
            function.add_environment(name, value)
        self._grant_start_by_name(function.role)

    def _grant_start_by_name(self, role: iam.IRole) -> None:
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["states:StartExecution"], resources=[self.sync_machine_arn]))
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["kms:GenerateDataKey", "kms:Decrypt"],
            resources=[self._workflow_key.key_arn],
            conditions={"StringEquals": {
                "kms:EncryptionContext:aws:states:stateMachineArn": self.sync_machine_arn}}))

    def _worker(self, config: StageConfig, data: DataStack, alarm_topic: sns.ITopic,
                migrations: lambda_.IFunction, opt_outs: Sequence[OptOut]) -> ServiceFunction:
        fn_config = config.worker_function
        environment = {
            **self._runtime_environment,
            contract.BANK_CLIENT_SECRET_ARN: data.secrets.bank_client_secret.secret_arn,
            contract.SYNC_MANIFEST_BUCKET: self.manifests.bucket.bucket_name,
            contract.BANK_PROVIDER_ENVIRONMENT: config.bank_provider.environment,
            contract.BANK_REDIRECT_URI: config.bank_provider.redirect_uri,
            contract.BANK_SYNC_STATE_MACHINE_ARN: self.sync_machine_arn,
            contract.LOG_LEVEL: "INFO",
            contract.POWERTOOLS_SERVICE_NAME: "family-finance-worker",
        }
        worker = service_function(
            self, "Worker",
            # A name only: the module is the service's; synthesis never imports it.
            handler=contract.WORKER_HANDLER, sizing=fn_config, config=config, data=data,
            alarm_topic=alarm_topic, environment=environment,
            description=("Bank sync workflow worker "
                         "(create, step, fail, manifest, sweep, retention)"),
            pre_traffic_hook=migrations, opt_outs=opt_outs,
        )
        # As the least-privilege app role; tokens only with a family's encryption context.
        data.database.grant_data_access(worker.role, secret=data.app_role.secret)
        worker.role.add_to_principal_policy(iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[data.keys.tokens.key_arn],
            conditions={"ForAllValues:StringEquals": {
                "kms:EncryptionContextKeys": list(contract.TOKEN_ENCRYPTION_CONTEXT_KEYS)},
                "Null": {"kms:EncryptionContextKeys": "false"}}))
        cdk.Tags.of(worker.role).add(TOKENS_KEY_USER_TAG, config.resource_prefix)
        data.family_keys.grant_key_read(worker.role)
        data.secrets.grant_read(AppSecret.BANK_CLIENT, worker.role)
        self.manifests.grant_write(worker.role)
        return worker
