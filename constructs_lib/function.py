"""``ServiceFunction``: the platform's Python Lambda, deployed safely through an alias.

What you get by default
-----------------------
* Python 3.14 on arm64, X-Ray tracing active, JSON logs with an application log
  level, into the function's own CMK-encrypted log group (retained on delete).
* A least-privilege execution role of its own (no AWS managed policies): it can
  write to its log group, send to its dead-letter queue and emit X-Ray traces;
  everything else is granted explicitly by the caller.
* A dead-letter queue for failed asynchronous invocations (SQS, CMK-encrypted,
  TLS enforced, 14 days retention) and an explicit async retry count.
* A version published on every deploy, the alias ``live`` on it, and a CodeDeploy
  deployment group shifting ``live`` with ``deployment_config`` (e.g. canary in
  prod, all-at-once in staging -- chosen by config, never by stage name), rolling
  back automatically on a failed deployment or when an alarm on the *alias* fires:
  any error, any throttle, or p99 duration above ``p99_duration_threshold``.
* Environment values are checked: names, ids and ARNs pass, anything that looks
  like a secret value (keys, tokens, passwords, connection strings with
  credentials, PEM blocks, high-entropy strings, CloudFormation dynamic references
  to Secrets Manager or SecureString parameters) is rejected at synth time.

Integrate :attr:`ServiceFunction.alias`, never :attr:`ServiceFunction.function`
(``$LATEST``): only traffic through the alias is shifted and watched by CodeDeploy.

Example
-------
::

    fn = ServiceFunction(
        self, "Api",
        memory_size=1024,
        timeout=Duration.seconds(29),
        p99_duration_threshold=Duration.seconds(2),
        deployment_config=codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
        log_key=keys.logs, queue_key=keys.data,
        environment={"DB_CLUSTER_ARN": cluster.cluster_arn, "LOG_LEVEL": "INFO"},
    )
    fn.grant_invoke(some_principal)      # grants on the alias
    HttpLambdaIntegration("Api", fn.alias)
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib.acceptance import accept
from constructs_lib.alarms import AlarmNotifications
from constructs_lib.log_storage import (
    MIN_LOG_RETENTION_DAYS,
    allow_cloudwatch_logs,
    as_retention,
    retention_days,
)
from constructs_lib.opt_outs import (
    OptOut,
    SecureDefaultError,
    reject_unknown_opt_outs,
    require_opt_out,
    weaken_if,
)

__all__ = [
    "LIVE_ALIAS_NAME",
    "ServiceFunction",
    "find_secret_like_environment",
]

LIVE_ALIAS_NAME = "live"

_PREFIX = "ServiceFunction."
SETTING_LOG_RETENTION = f"{_PREFIX}log_retention"
SETTING_LOG_REMOVAL_POLICY = f"{_PREFIX}log_removal_policy"
SETTING_ENVIRONMENT = f"{_PREFIX}environment"  # used as "ServiceFunction.environment[NAME]"
SETTING_ALARM_ACTIONS = f"{_PREFIX}alarm_actions"
KNOWN_SETTINGS = (SETTING_LOG_RETENTION, SETTING_LOG_REMOVAL_POLICY, SETTING_ALARM_ACTIONS)
_ENVIRONMENT_SETTING = re.escape(SETTING_ENVIRONMENT) + r"\[[A-Za-z_][A-Za-z0-9_]*\]"

DLQ_RETENTION = cdk.Duration.days(14)

# --- environment value checks ------------------------------------------------------------

_SECRETISH_NAME = re.compile(
    r"(PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|SIGNING_?KEY|"
    r"ACCESS_?KEY|SESSION_?KEY|CLIENT_?KEY|AUTH)",
    re.IGNORECASE,
)
# Names that hold a *reference* to a secret (what we want), not the secret itself.
_REFERENCE_SUFFIX = re.compile(
    r"_(ARN|NAME|ID|PARAMETER|PARAMETER_NAME|PATH|REGION|URL|URI|ENDPOINT|HEADER|TTL|"
    r"SECONDS|ENABLED)$",
    re.IGNORECASE,
)
_DYNAMIC_SECRET_REF = re.compile(r"\{\{resolve:(secretsmanager|ssm-secure):", re.IGNORECASE)
_VALUE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a PEM private key or certificate", re.compile(r"-----BEGIN [A-Z ]+-----")),
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA|AROA|AIDA)[0-9A-Z]{16}\b")),
    ("a JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.")),
    ("a URL or connection string with credentials",
     re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE)),
    ("a password in a connection string", re.compile(r"(password|pwd)\s*=\s*[^;\s]+",
                                                      re.IGNORECASE)),
    ("a bearer / basic credential", re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}")),
    ("a provider API key", re.compile(r"\b(sk|rk|pk)_(live|test)_[A-Za-z0-9]{8,}")),
    ("a Slack/GitHub token", re.compile(r"\b(xox[abpr]-|ghp_|gho_|github_pat_)[A-Za-z0-9_-]{8,}")),
)
_REFERENCE_VALUE = re.compile(
    r"^(arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:\S+"  # an ARN
    r"|/[A-Za-z0-9_.\-/]+"                                   # an SSM parameter path
    r"|[A-Za-z0-9_.\-]{0,64})$"                               # a short plain identifier/name
)
_HIGH_ENTROPY_MIN_LEN = 32
_HIGH_ENTROPY_BITS = 3.5


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())


def _looks_random(value: str) -> bool:
    """A long run of base64/hex characters with high per-character entropy."""
    for token in re.findall(rf"[A-Za-z0-9+/=_-]{{{_HIGH_ENTROPY_MIN_LEN},}}", value):
        if token.startswith("arn") or _entropy(token) < _HIGH_ENTROPY_BITS:
            continue
        classes = sum(bool(re.search(p, token)) for p in ("[a-z]", "[A-Z]", "[0-9]"))
        hex_only = re.fullmatch(r"[0-9a-fA-F]+", token) is not None
        if classes == 3 or hex_only:
            return True
    return False


def find_secret_like_environment(
    environment: Mapping[str, str], *, resolve: cdk.Stack | None = None
) -> dict[str, str]:
    """Return ``{name: why}`` for environment entries that look like secret values.

    Parameters
    ----------
    environment:
        Lambda environment variables (names to values; values may be CDK tokens).
    resolve:
        A stack used to resolve tokens so dynamic references (``{{resolve:...}}``)
        hidden in tokens are caught too.

    Notes
    -----
    A heuristic: it errs on the side of rejecting. Secrets belong in Secrets
    Manager / SSM SecureString and the environment carries only their ARN or name.
    """
    findings: dict[str, str] = {}
    for name, raw in environment.items():
        value = raw
        if cdk.Token.is_unresolved(raw):
            resolved = resolve.resolve(raw) if resolve is not None else raw
            value = resolved if isinstance(resolved, str) else json.dumps(resolved)
            if _DYNAMIC_SECRET_REF.search(value):
                findings[name] = "a CloudFormation dynamic reference that resolves a secret value"
            # Other tokens are references (Ref/GetAtt/Join of ARNs and names).
            continue
        if _DYNAMIC_SECRET_REF.search(value):
            findings[name] = "a CloudFormation dynamic reference that resolves a secret value"
            continue
        why = next((label for label, rx in _VALUE_PATTERNS if rx.search(value)), None)
        if why is None and _looks_random(value):
            why = "a high-entropy string (a key or token?)"
        if (
            why is None
            and _SECRETISH_NAME.search(name)
            and not _REFERENCE_SUFFIX.search(name)
            and value
            and not (value.startswith(("arn:", "/")) and _REFERENCE_VALUE.match(value))
        ):
            why = f"a literal value in a secret-like variable ({name}); pass its ARN or name"
        if why is not None:
            findings[name] = why
    return findings


# --- the construct -----------------------------------------------------------------------

_NOT_IN_VPC_RULES = ("NIST.800.53.R5-LambdaInsideVPC", "HIPAA.Security-LambdaInsideVPC",
                     "PCI.DSS.321-LambdaInsideVPC")
_NOT_IN_VPC_REASON = (
    "By design the function runs outside any VPC: it reaches Aurora only through the RDS "
    "Data API over HTTPS with IAM auth scoped to one cluster (BankGrade-DataApiSingleCluster) "
    "and other AWS services over their TLS endpoints with SigV4. A VPC attachment would need "
    "NAT or endpoints and add no control over those paths."
)
_INLINE_POLICY_RULES = ("NIST.800.53.R5-IAMNoInlinePolicy", "HIPAA.Security-IAMNoInlinePolicy",
                        "PCI.DSS.321-IAMNoInlinePolicy")
_INLINE_POLICY_REASON = (
    "CDK grants put the function's statements in one policy attached only to its own role and "
    "deployed with it; their content is checked by BankGrade-NoWildcardPermissions and "
    "BankGrade-DataApiSingleCluster. A managed policy would be a separately mutable object "
    "without narrowing any access."
)
_NO_ALARM_ACTION_RULES = ("NIST.800.53.R5-CloudWatchAlarmAction",
                          "PCI.DSS.321-CloudWatchAlarmAction",
                          "HIPAA.Security-CloudWatchAlarmAction")


class ServiceFunction(Construct):
    """A Python 3.14 arm64 Lambda behind the alias ``live``, shifted by CodeDeploy.

    Parameters
    ----------
    scope, id_:
        Construct scope and id.
    code, handler:
        The function's code (e.g. :meth:`LambdaAsset.code`) and handler path.
    memory_size:
        Memory in MB (128-10240). Required: no silent default.
    timeout:
        Function timeout. Required: no silent default (API Gateway gives up at 30 s).
    p99_duration_threshold:
        The alias' p99 duration above which the deployment rolls back.
    deployment_config:
        How CodeDeploy shifts ``live`` to a new version, e.g.
        ``LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES`` or ``ALL_AT_ONCE``.
    log_key:
        CMK encrypting the log group (``EncryptionKeys.logs``).
    queue_key:
        CMK encrypting the dead-letter queue.
    environment_key:
        CMK encrypting the environment (and any SnapStart snapshot) at rest
        (``EncryptionKeys.functions``).
    alarm_topic, alarm_emails, alarm_key:
        Where the function's alarms go: a topic with at least one subscription (e.g.
        :attr:`AlarmNotifications.topic`) or e-mail addresses, for which a topic is
        created under ``alarm_key`` (a key CloudWatch may use, ``EncryptionKeys.alerts``).
        One of them is required unless the opt-out ``ServiceFunction.alarm_actions``
        says why nobody needs to be told.
    environment:
        Environment variables: names, ids and ARNs only (checked).
    reserved_concurrent_executions:
        Reserved concurrency, also the hard cap on concurrent executions (so a flood
        cannot starve the account's other functions or run up cost). Required.
    retry_attempts:
        Retries of failed asynchronous invocations before the DLQ (0-2); default 2.
    max_event_age:
        Maximum age of an asynchronous event; default 6 hours.
    log_retention:
        Log retention (``RetentionDays`` or a day count); default one year.
        Under 365 days needs the opt-out ``ServiceFunction.log_retention``.
    log_removal_policy:
        Default ``RETAIN``; anything else needs ``ServiceFunction.log_removal_policy``.
    application_log_level:
        Lambda application log level (JSON logging); default INFO.
    code_signing_config:
        Optional code signing configuration.
    description:
        Function description.
    pre_traffic_hook:
        A function CodeDeploy runs before any traffic shifts to a new version (its
        ``BeforeAllowTraffic`` hook, e.g. a
        :class:`~constructs_lib.deployment_hook.DeploymentHookFunction` applying
        migrations). It may only report on this deployment group; ``Failed`` (or no
        report) stops the deployment and rolls it back.
    opt_outs:
        Explicit, recorded opt-outs from these defaults. Settings:
        ``ServiceFunction.log_retention``, ``ServiceFunction.log_removal_policy``,
        ``ServiceFunction.alarm_actions``, ``ServiceFunction.environment[<NAME>]`` (accept
        one variable the secret check flags as a false positive). Opt-outs for other
        constructs are ignored.

    Design decisions accepted on its own resources (with reasons, in the compliance
    report): no VPC (Data API), CDK's inline grant policy, the X-Ray wildcard, the
    queue being the terminal DLQ, the DLQ instead of an async failure destination and
    the AWS-managed CodeDeploy policy.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        code: lambda_.Code,
        handler: str,
        memory_size: int,
        timeout: cdk.Duration,
        p99_duration_threshold: cdk.Duration,
        deployment_config: codedeploy.ILambdaDeploymentConfig,
        log_key: kms.IKey,
        queue_key: kms.IKey,
        environment_key: kms.IKey,
        reserved_concurrent_executions: int,
        alarm_topic: sns.ITopic | None = None,
        alarm_emails: Sequence[str] = (),
        alarm_key: kms.IKey | None = None,
        environment: Mapping[str, str] | None = None,
        retry_attempts: int = 2,
        max_event_age: cdk.Duration | None = None,
        log_retention: logs.RetentionDays | int = logs.RetentionDays.ONE_YEAR,
        log_removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        application_log_level: lambda_.ApplicationLogLevel = lambda_.ApplicationLogLevel.INFO,
        code_signing_config: lambda_.ICodeSigningConfig | None = None,
        description: str | None = None,
        pre_traffic_hook: lambda_.IFunction | None = None,
        opt_outs: Sequence[OptOut] = (),
    ) -> None:
        super().__init__(scope, id_)
        mine = reject_unknown_opt_outs(opt_outs, KNOWN_SETTINGS, patterns=(_ENVIRONMENT_SETTING,))
        _check_sizes(memory_size, retry_attempts, timeout, reserved_concurrent_executions)
        self._check_environment(dict(environment or {}), mine, cdk.Stack.of(self))
        self._log_group = self._create_log_group(log_key, log_retention, log_removal_policy,
                                                 mine)
        self._dead_letter_queue = self._create_dead_letter_queue(queue_key)
        self._role = iam.Role(
            self, "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {self.node.path}",
        )
        self._log_group.grant_write(self._role)
        # The L2 grants only sqs:SendMessage for a DLQ; without the key the service
        # could not put a message on the CMK-encrypted queue.
        queue_key.grant(self._role, "kms:GenerateDataKey", "kms:Decrypt")
        accept(self._role, _INLINE_POLICY_RULES, _INLINE_POLICY_REASON)
        self._function = lambda_.Function(
            self, "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler,
            code=code,
            memory_size=memory_size,
            timeout=timeout,
            role=self._role,
            log_group=self._log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=application_log_level,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            dead_letter_queue=self._dead_letter_queue,
            reserved_concurrent_executions=reserved_concurrent_executions,
            environment=dict(environment or {}),
            environment_encryption=environment_key,
            code_signing_config=code_signing_config,
            recursive_loop=lambda_.RecursiveLoop.TERMINATE,
            description=description,
            current_version_options=lambda_.VersionOptions(
                removal_policy=cdk.RemovalPolicy.RETAIN,
                description="Published by CDK on every deploy; the alias 'live' moves to it.",
            ),
        )
        accept(self._function, _NOT_IN_VPC_RULES, _NOT_IN_VPC_REASON)
        self._enable_tracing()
        self._alias = self._create_alias(retry_attempts, max_event_age)
        self._alarms = self._create_alarms(p99_duration_threshold)
        self._notify_alarms(alarm_topic, alarm_emails, alarm_key, mine)
        self._deployment_group = self._create_deployment_group(deployment_config,
                                                                pre_traffic_hook)

    # --- read-only resources -------------------------------------------------------------

    @property
    def function(self) -> lambda_.Function:
        """The function (``$LATEST``). Do not integrate it; use :attr:`alias`."""
        return self._function

    @property
    def alias(self) -> lambda_.Alias:
        """The alias ``live``: what every caller and integration must invoke."""
        return self._alias

    @property
    def deployment_group(self) -> codedeploy.LambdaDeploymentGroup:
        """The CodeDeploy group shifting :attr:`alias` with alarm rollback."""
        return self._deployment_group

    @property
    def alarms(self) -> tuple[cloudwatch.Alarm, ...]:
        """Errors, throttles and p99 duration alarms on the alias."""
        return self._alarms

    @property
    def dead_letter_queue(self) -> sqs.Queue:
        """CMK-encrypted DLQ for failed asynchronous invocations."""
        return self._dead_letter_queue

    @property
    def log_group(self) -> logs.LogGroup:
        """The function's CMK-encrypted log group."""
        return self._log_group

    @property
    def role(self) -> iam.Role:
        """The execution role (no managed policies)."""
        return self._role

    # --- grants and changes --------------------------------------------------------------

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to invoke the alias ``live`` (never ``$LATEST``)."""
        return self._alias.grant_invoke(grantee)

    def add_to_role_policy(self, statement: iam.PolicyStatement) -> None:
        """Add ``statement`` to the execution role's policy."""
        self._alias.add_to_role_policy(statement)

    def add_environment(self, name: str, value: str, *, opt_outs: Sequence[OptOut] = ()) -> None:
        """Add one environment variable, checked like the ``environment`` prop."""
        self._check_environment({name: value}, opt_outs, cdk.Stack.of(self))
        self._function.add_environment(name, value)

    # --- internals -----------------------------------------------------------------------

    def _create_log_group(
        self, key: kms.IKey, retention: logs.RetentionDays | int,
        removal_policy: cdk.RemovalPolicy, opt_outs: Sequence[OptOut],
    ) -> logs.LogGroup:
        retention = as_retention(retention)
        weaken_if(self, retention_days(retention) < MIN_LOG_RETENTION_DAYS,
                  setting=SETTING_LOG_RETENTION, opt_outs=opt_outs,
                  weakened=f"log_retention={retention.name}")
        weaken_if(self, removal_policy != cdk.RemovalPolicy.RETAIN,
                  setting=SETTING_LOG_REMOVAL_POLICY, opt_outs=opt_outs,
                  weakened=f"log_removal_policy={removal_policy.name}")
        allow_cloudwatch_logs(key, self)
        return logs.LogGroup(self, "Logs", encryption_key=key, retention=retention,
                             removal_policy=removal_policy)

    def _create_dead_letter_queue(self, key: kms.IKey) -> sqs.Queue:
        queue = sqs.Queue(
            self, "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            data_key_reuse=cdk.Duration.minutes(5),
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
            # Failed events are the evidence of what went wrong: keep them on stack delete.
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        accept(queue, ("Serverless-SQSRedrivePolicy",),
               "This queue is itself the terminal dead-letter queue of the function.")
        return queue

    def _create_alias(self, retry_attempts: int, max_event_age: cdk.Duration | None,
                      ) -> lambda_.Alias:
        # Async retry settings belong to the alias: anything invoking $LATEST bypasses
        # the deployment safety net, so nothing may be configured there.
        alias = lambda_.Alias(
            self, "LiveAlias",
            alias_name=LIVE_ALIAS_NAME,
            version=self._function.current_version,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age or cdk.Duration.hours(6),
        )
        for target in (self._function, alias):
            accept(target, ("Serverless-LambdaAsyncFailureDestination",),
                   "Failed asynchronous invocations go to the CMK-encrypted dead-letter queue "
                   "(DeadLetterConfig); a failure destination would duplicate them.")
        return alias

    def _create_deployment_group(
        self, deployment_config: codedeploy.ILambdaDeploymentConfig,
        pre_traffic_hook: lambda_.IFunction | None,
    ) -> codedeploy.LambdaDeploymentGroup:
        group = codedeploy.LambdaDeploymentGroup(
            self, "Deployment",
            alias=self._alias,
            deployment_config=deployment_config,
            alarms=list(self._alarms),
            # CDK grants CodeDeploy the invoke and the hook the status report on this group.
            pre_hook=pre_traffic_hook,
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True,
            ),
        )
        accept(group.role,
               ("AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSCodeDeployRoleForLambdaLimited]",),
               "The AWS-maintained minimal policy for CodeDeploy Lambda deployments (alias "
               "update, alarm reads); assumable only by CodeDeploy.")
        if pre_traffic_hook is not None:
            self._accept_hook_grants(group, pre_traffic_hook)
        return group

    def _accept_hook_grants(self, group: codedeploy.LambdaDeploymentGroup,
                            hook: lambda_.IFunction) -> None:
        """CodeDeploy invokes a lifecycle hook by its function ARN; accept exactly that."""
        stack = cdk.Stack.of(self)
        logical = stack.resolve(hook.function_arn)
        hook_ref = (f"<{'.'.join(logical['Fn::GetAtt'])}>:*"
                    if isinstance(logical, dict) and "Fn::GetAtt" in logical else None)
        reason = ("CodeDeploy invokes the BeforeAllowTraffic hook function itself (hooks are "
                  "named by function, not alias, and take no traffic); the grant names that "
                  "one function and is attached only to this group's CodeDeploy role.")
        accept(group.role, (*_INLINE_POLICY_RULES, "BankGrade-LambdaInvokedViaAlias",
                            *((f"AwsSolutions-IAM5[Resource::{hook_ref}]",) if hook_ref else ())),
               reason)
        accept(self._alias, ("BankGrade-LambdaInvokedViaAlias",),
               "The alias' CodeDeploy update policy names its BeforeAllowTraffic hook by "
               "function name: CodeDeploy calls the hook, no client traffic reaches it.")

    def _notify_alarms(
        self, topic: sns.ITopic | None, emails: Sequence[str], key: kms.IKey | None,
        opt_outs: Sequence[OptOut],
    ) -> None:
        """Send every alarm to someone, or record the opt-out saying why not."""
        if topic is not None and emails:
            raise ValueError("Pass alarm_topic or alarm_emails, not both.")
        if emails and key is None:
            raise ValueError("alarm_emails needs alarm_key (e.g. EncryptionKeys.alerts), a key "
                             "CloudWatch may use to publish to the encrypted topic.")
        if emails and key is not None:
            topic = AlarmNotifications(self, "Alerts", key=key, emails=emails).topic
        elif topic is not None and not _has_subscription(topic):
            raise SecureDefaultError(
                f"alarm_topic {topic.node.path} has no subscription in this app: alarms on it "
                "would notify nobody. Subscribe someone, or pass alarm_emails.")
        if topic is None:
            require_opt_out(self, SETTING_ALARM_ACTIONS, opt_outs,
                            weakened="No alarm_topic or alarm_emails (alarms notify nobody)")
            return
        action = cw_actions.SnsAction(topic)
        for alarm in self._alarms:
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)

    def _check_environment(
        self, environment: Mapping[str, str], opt_outs: Sequence[OptOut], stack: cdk.Stack
    ) -> None:
        for name, why in find_secret_like_environment(environment, resolve=stack).items():
            if why.startswith("a CloudFormation dynamic reference"):
                raise SecureDefaultError(
                    f"Environment variable {name} would put {why} into the function "
                    "configuration in plain text. Pass the secret's ARN and read it at runtime."
                )
            require_opt_out(
                self, f"{SETTING_ENVIRONMENT}[{name}]", opt_outs,
                weakened=f"Environment variable {name} looks like {why}; environment "
                         "values must be names or ARNs, never secrets. If it is not a secret,",
            )

    def _enable_tracing(self) -> None:
        """X-Ray ``Active``, with its write permissions in a policy of their own.

        ``Tracing.ACTIVE`` on the L2 would put ``xray:*`` on ``Resource: *`` into the
        role's default policy, where acknowledging the wildcard would also hide any
        later grant with ``Resource: *``. A separate managed policy keeps the
        acknowledgement to exactly the two X-Ray actions.
        """
        cfn = self._function.node.default_child
        assert isinstance(cfn, lambda_.CfnFunction)
        cfn.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
        tracing_policy = iam.ManagedPolicy(
            self, "TracingPolicy",
            description="X-Ray trace upload for one function",
            statements=[iam.PolicyStatement(
                actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                resources=["*"],
            )],
            roles=[self._role],
        )
        accept(tracing_policy, ("AwsSolutions-IAM5[Resource::*]",),
               "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level "
                       "permissions; this separate policy holds only those two actions.")

    def _create_alarms(self, p99_threshold: cdk.Duration) -> tuple[cloudwatch.Alarm, ...]:
        period = cdk.Duration.minutes(1)
        errors = cloudwatch.Alarm(
            self, "ErrorsAlarm",
            alarm_description="Any invocation error on the live alias (rolls a deploy back).",
            metric=self._alias.metric_errors(period=period, statistic="Sum"),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        throttles = cloudwatch.Alarm(
            self, "ThrottlesAlarm",
            alarm_description="Throttled invocations on the live alias.",
            metric=self._alias.metric_throttles(period=period, statistic="Sum"),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        duration = cloudwatch.Alarm(
            self, "P99DurationAlarm",
            alarm_description=f"p99 duration on the live alias above "
                              f"{p99_threshold.to_milliseconds()} ms for 2 minutes.",
            metric=self._alias.metric_duration(period=period, statistic="p99"),
            threshold=p99_threshold.to_milliseconds(),
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=2,
            datapoints_to_alarm=2,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        return (errors, throttles, duration)


def _check_sizes(memory_size: int, retry_attempts: int, timeout: cdk.Duration,
                 concurrency: int) -> None:
    if concurrency < 1:
        raise ValueError(f"reserved_concurrent_executions must be >= 1, got {concurrency}")
    if not 128 <= memory_size <= 10240:
        raise ValueError(f"memory_size must be 128-10240 MB, got {memory_size}")
    if not 0 <= retry_attempts <= 2:
        raise ValueError(f"retry_attempts must be 0-2, got {retry_attempts}")
    if timeout.to_seconds() > 900:
        raise ValueError("timeout must be at most 15 minutes")


def _has_subscription(topic: sns.ITopic) -> bool:
    """Whether ``topic`` has a subscription in this app (imported topics: trusted)."""
    if not isinstance(topic, sns.Topic):
        return True
    return any(isinstance(child, sns.Subscription) for child in topic.node.find_all())
