"""ServiceFunction: secure defaults in the template, opt-outs, env checks, rule packs."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from constructs_lib.compliance.packs import new_packs
from constructs_lib.function import (
    LIVE_ALIAS_NAME,
    ServiceFunction,
    find_secret_like_environment,
)
from constructs_lib.opt_outs import OPT_OUT_METADATA_KEY, OptOut, SecureDefaultError

ENV = cdk.Environment(account="111111111111", region="eu-west-2")
INLINE = "def handler(event, context):\n    return {}\n"
GOOD_ENV = {
    "SERVICE_RUNTIME": "lambda",
    "DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-2:111111111111:secret:db-AbCdEf",
    "DB_NAME": "platform",
    "COGNITO_USER_POOL_ID": "eu-west-2_AbCdEfGhI",
    "COGNITO_CLIENT_ID": "4k3j2h5g6f7d8s9a0qwertyuio",
    "AI_SETTINGS_PARAMETER_NAME": "/ffp/staging/ai-settings",
    "LOG_LEVEL": "INFO",
    "POWERTOOLS_SERVICE_NAME": "platform-api",
}


def make(
    **overrides: Any,
) -> tuple[cdk.App, cdk.Stack, ServiceFunction]:
    app = cdk.App()
    stack = cdk.Stack(app, "Fn", env=ENV)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    props: dict[str, Any] = {
        "memory_size": 1024,
        "timeout": cdk.Duration.seconds(29),
        "p99_duration_threshold": cdk.Duration.seconds(2),
        "deployment_config": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES,
        "log_key": key,
        "queue_key": key,
        "environment_key": key,
        "reserved_concurrent_executions": 10,
        "alarm_emails": ["oncall@example.org"],
        "alarm_key": key,
        "code": lambda_.Code.from_inline(INLINE),
        "handler": "service.lambda_handler.handler",
        "environment": GOOD_ENV,
    }
    props.update(overrides)
    fn = ServiceFunction(stack, "Api", **props)
    return app, stack, fn


@pytest.fixture(scope="module")
def template() -> Template:
    _, stack, _ = make()
    return Template.from_stack(stack)


def test_function_runtime_architecture_tracing_and_json_logs(template: Template) -> None:
    template.has_resource_properties("AWS::Lambda::Function", {
        "Runtime": "python3.14",
        "Architectures": ["arm64"],
        "Handler": "service.lambda_handler.handler",
        "MemorySize": 1024,
        "Timeout": 29,
        "TracingConfig": {"Mode": "Active"},
        "LoggingConfig": {
            "LogFormat": "JSON",
            "ApplicationLogLevel": "INFO",
            "LogGroup": {"Ref": Match.string_like_regexp("ApiLogs")},
        },
        "DeadLetterConfig": {
            "TargetArn": {"Fn::GetAtt": [Match.string_like_regexp("DeadLetter"), "Arn"]},
        },
        "Environment": {"Variables": GOOD_ENV},
    })


def test_log_group_is_cmk_encrypted_and_retained(template: Template) -> None:
    template.has_resource("AWS::Logs::LogGroup", {
        "Properties": {
            "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("Key"), "Arn"]},
            "RetentionInDays": 365,
        },
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
    })
    # The key lets CloudWatch Logs of this account/region use it (scoped by context).
    template.has_resource_properties("AWS::KMS::Key", {
        "KeyPolicy": {"Statement": Match.array_with([Match.object_like({
            "Principal": {"Service": "logs.eu-west-2.amazonaws.com"},
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": Match.any_value()}},
        })])},
    })


def test_dead_letter_queue_is_cmk_encrypted_tls_only_14_days(template: Template) -> None:
    template.has_resource_properties("AWS::SQS::Queue", {
        "KmsMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("Key"), "Arn"]},
        "MessageRetentionPeriod": 14 * 24 * 3600,
    })
    template.has_resource_properties("AWS::SQS::QueuePolicy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Effect": "Deny",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        })])},
    })
    # Async retry settings live on the alias; nothing is configured on $LATEST.
    configs = list(template.find_resources("AWS::Lambda::EventInvokeConfig").values())
    assert len(configs) == 1
    assert configs[0]["Properties"]["MaximumRetryAttempts"] == 2
    qualifier = configs[0]["Properties"]["Qualifier"]
    # The alias name, derived from the alias resource -- never the literal "$LATEST".
    assert qualifier != "$LATEST"
    assert "LiveAlias" in str(qualifier)
    # The role can use the queue key (the L2 DLQ grant alone cannot).
    template.has_resource_properties("AWS::IAM::Policy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        })])},
    })


def test_role_has_no_aws_managed_policies(template: Template) -> None:
    roles = template.find_resources("AWS::IAM::Role", {
        "Properties": {"AssumeRolePolicyDocument": {"Statement": [Match.object_like({
            "Principal": {"Service": "lambda.amazonaws.com"}})]}}
    })
    assert len(roles) == 1
    (role,) = roles.values()
    assert "ManagedPolicyArns" not in role["Properties"]
    template.has_resource_properties("AWS::IAM::ManagedPolicy", {
        "PolicyDocument": {"Statement": [Match.object_like({
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]})]},
    })


def test_alias_live_on_published_version_with_canary_and_rollback(template: Template) -> None:
    template.has_resource_properties("AWS::Lambda::Version", {})
    template.has_resource("AWS::Lambda::Alias", {
        "Properties": {
            "Name": LIVE_ALIAS_NAME,
            "FunctionVersion": {"Fn::GetAtt": [Match.string_like_regexp("CurrentVersion"),
                                               "Version"]},
        },
        "UpdatePolicy": {"CodeDeployLambdaAliasUpdate": Match.any_value()},
    })
    template.has_resource_properties("AWS::CodeDeploy::DeploymentGroup", {
        "DeploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
        "AutoRollbackConfiguration": {
            "Enabled": True,
            "Events": Match.array_with(["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]),
        },
        "AlarmConfiguration": {"Enabled": True, "Alarms": Match.any_value()},
    })
    group = next(iter(template.find_resources("AWS::CodeDeploy::DeploymentGroup").values()))
    assert len(group["Properties"]["AlarmConfiguration"]["Alarms"]) == 3


def test_alarms_watch_the_alias_not_latest(template: Template) -> None:
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    by_metric = {a["Properties"]["MetricName"]: a["Properties"] for a in alarms.values()}
    assert set(by_metric) == {"Errors", "Throttles", "Duration"}
    for props in by_metric.values():
        dims = {d["Name"]: d["Value"] for d in props["Dimensions"]}
        assert dims["Resource"]["Fn::Join"][1][1] == f":{LIVE_ALIAS_NAME}"
    assert by_metric["Errors"]["Threshold"] == 0
    assert by_metric["Errors"]["ComparisonOperator"] == "GreaterThanThreshold"
    assert by_metric["Duration"]["ExtendedStatistic"] == "p99"
    assert by_metric["Duration"]["Threshold"] == 2000


def test_deployment_config_comes_from_the_caller() -> None:
    _, stack, _fn = make(deployment_config=codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
                         reserved_concurrent_executions=20)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::CodeDeploy::DeploymentGroup", {
        "DeploymentConfigName": "CodeDeployDefault.LambdaAllAtOnce",
    })
    template.has_resource_properties("AWS::Lambda::Function", {
        "ReservedConcurrentExecutions": 20,
    })


def test_grants_target_the_alias() -> None:
    _, stack, fn = make()
    caller = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    fn.grant_invoke(caller)
    fn.add_to_role_policy(iam.PolicyStatement(actions=["ssm:GetParameter"],
                                              resources=["arn:aws:ssm:eu-west-2:1:parameter/x"]))
    template = Template.from_stack(stack)
    policies = template.find_resources("AWS::IAM::Policy", {
        "Properties": {"Roles": [{"Ref": Match.string_like_regexp("Caller")}]}})
    (policy,) = policies.values()
    resources = policy["Properties"]["PolicyDocument"]["Statement"][0]["Resource"]
    alias_ids = list(template.find_resources("AWS::Lambda::Alias"))
    assert resources["Ref"] in alias_ids
    template.has_resource_properties("AWS::IAM::Policy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Action": "ssm:GetParameter"})])},
        "Roles": [{"Ref": Match.string_like_regexp("ApiRole")}],
    })


# --- environment checks ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DB_PASSWORD", "hunter2hunter2"),
        ("BANK_CLIENT_SECRET", "s3cr3t-value"),
        ("API_KEY", "abc"),
        ("DATABASE_URL", "postgresql://app:p4ssw0rd@db.internal:5432/platform"),
        ("DSN", "Server=db;Database=x;User Id=app;Password=p4ss;"),
        ("SIGNING", "-----BEGIN PRIVATE KEY-----\nMIIEv...\n-----END PRIVATE KEY-----"),
        ("AWS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        ("SESSION", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig"),
        ("STRIPE", "sk_live_abcdefghijklmnop"),
        ("OPAQUE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("WEBHOOK", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
        ("HEADER", "{{resolve:secretsmanager:arn:aws:secretsmanager:eu-west-2:1:secret:x}}"),
        ("PARAM", "{{resolve:ssm-secure:/ffp/password:1}}"),
    ],
)
def test_secret_like_environment_values_are_found(name: str, value: str) -> None:
    assert name in find_secret_like_environment({name: value})


def test_names_ids_and_arns_pass_the_environment_check() -> None:
    env = {
        **GOOD_ENV,
        "TOKEN_KMS_KEY_ARN":
            "arn:aws:kms:eu-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "ORIGIN_VERIFY_SECRET_ARN": "arn:aws:secretsmanager:eu-west-2:111111111111:secret:ov-Ab12",
        "AUDIT_KEY_SECRET_ARN": "arn:aws:secretsmanager:eu-west-2:111111111111:secret:ak",
        "COGNITO_REGION": "eu-west-2",
        "DB_CLUSTER_ARN": "arn:aws:rds:eu-west-2:111111111111:cluster:ffp-staging-db",
    }
    assert find_secret_like_environment(env) == {}


def test_construct_rejects_a_secret_in_the_environment_without_opt_out() -> None:
    with pytest.raises(SecureDefaultError, match=r"ServiceFunction\.environment\[DB_PASSWORD\]"):
        make(environment={"DB_PASSWORD": "hunter2hunter2"})


def test_opt_out_accepts_one_flagged_variable_and_is_recorded() -> None:
    opt_out = OptOut(
        setting="ServiceFunction.environment[BUILD_DIGEST]",
        reason="A public build digest shown on /health, not a secret; it is just random-looking.",
    )
    digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    _, _, fn = make(environment={"BUILD_DIGEST": digest}, opt_outs=[opt_out])
    recorded = [m.data for m in fn.node.metadata if m.type == OPT_OUT_METADATA_KEY]
    assert recorded and recorded[0]["setting"] == opt_out.setting


def test_secret_dynamic_reference_is_never_allowed() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Fn", env=ENV)
    key = kms.Key(stack, "Key")
    secret = secretsmanager.Secret(stack, "S")
    with pytest.raises(SecureDefaultError, match="dynamic reference"):
        ServiceFunction(
            stack, "Api",
            memory_size=512, timeout=cdk.Duration.seconds(10),
            p99_duration_threshold=cdk.Duration.seconds(1),
            deployment_config=codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
            log_key=key, queue_key=key, environment_key=key, reserved_concurrent_executions=1,
            alarm_emails=["oncall@example.org"], alarm_key=key,
            code=lambda_.Code.from_inline(INLINE),
            handler="index.handler",
            environment={"X": secret.secret_value.unsafe_unwrap()},
            opt_outs=[OptOut("ServiceFunction.environment[X]", "I insist this is fine, really.")],
        )


def test_add_environment_is_checked_too() -> None:
    _, _, fn = make()
    fn.add_environment("DB_SECRET_ARN_2", "arn:aws:secretsmanager:eu-west-2:1:secret:x")
    with pytest.raises(SecureDefaultError):
        fn.add_environment("BANK_CLIENT_SECRET", "plain-text-secret")


# --- opt-outs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prop", "setting"),
    [
        ({"log_retention": logs.RetentionDays.ONE_MONTH}, "ServiceFunction.log_retention"),
        ({"log_removal_policy": cdk.RemovalPolicy.DESTROY}, "ServiceFunction.log_removal_policy"),
    ],
)
def test_weakening_needs_the_named_opt_out(prop: dict[str, Any], setting: str) -> None:
    with pytest.raises(SecureDefaultError, match=setting.replace(".", r"\.")):
        make(**prop)
    opt_out = OptOut(setting=setting, reason="Staging keeps synthetic data only; short-lived.")
    _, _, fn = make(**prop, opt_outs=[opt_out])
    assert [m.data["setting"] for m in fn.node.metadata if m.type == OPT_OUT_METADATA_KEY] == [
        setting
    ]


def test_longer_retention_needs_no_opt_out() -> None:
    _, stack, _ = make(log_retention=logs.RetentionDays.THIRTEEN_MONTHS)
    Template.from_stack(stack).has_resource_properties("AWS::Logs::LogGroup",
                                                       {"RetentionInDays": 400})


def test_unknown_opt_out_for_this_construct_fails_but_others_are_ignored() -> None:
    with pytest.raises(SecureDefaultError, match="Unknown opt-out"):
        make(opt_outs=[OptOut("ServiceFunction.tracing", "Tracing costs too much for us.")])
    make(opt_outs=[OptOut("SecureAuroraCluster.deletion_protection",
                          "Belongs to another construct; must be ignored here.")])


@pytest.mark.parametrize("memory", [64, 20000])
def test_memory_size_is_validated(memory: int) -> None:
    with pytest.raises(ValueError, match="memory_size"):
        make(memory_size=memory)


# --- rule packs --------------------------------------------------------------------------


def test_every_pack_passes_on_a_function_with_defaults() -> None:
    """Secure by default: no acknowledgement outside the construct is needed."""
    app, _, _ = make()
    cdk.Validations.of(app).add_plugins(*new_packs())
    app.synth()  # raises ValidationFailed listing any unacknowledged finding


def test_environment_is_encrypted_with_the_given_key(template: Template) -> None:
    template.has_resource_properties("AWS::Lambda::Function", {
        "KmsKeyArn": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]},
        "ReservedConcurrentExecutions": 10,
    })


def test_dead_letter_queue_is_retained_on_delete(template: Template) -> None:
    template.has_resource("AWS::SQS::Queue", {"DeletionPolicy": "Retain",
                                              "UpdateReplacePolicy": "Retain"})


def test_alarms_notify_the_emails_on_alarm_and_recovery(template: Template) -> None:
    template.has_resource_properties("AWS::SNS::Subscription", {
        "Protocol": "email", "Endpoint": "oncall@example.org"})
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 3
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] and alarm["Properties"]["OKActions"]


def test_alarms_without_anyone_to_notify_need_the_opt_out() -> None:
    with pytest.raises(SecureDefaultError, match=r"ServiceFunction\.alarm_actions"):
        make(alarm_emails=())
    _, stack, _ = make(alarm_emails=(), opt_outs=[OptOut(
        "ServiceFunction.alarm_actions", "Load-test function; its alarms only drive rollback.")])
    for alarm in Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm").values():
        assert "AlarmActions" not in alarm["Properties"]


def test_a_topic_nobody_subscribes_to_does_not_count() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Topics", env=ENV)
    silent = sns.Topic(stack, "Silent")
    with pytest.raises(SecureDefaultError, match="no subscription"):
        make(alarm_emails=(), alarm_topic=silent)


def test_alarm_topic_and_emails_are_exclusive() -> None:
    app = cdk.App()
    topic = sns.Topic(cdk.Stack(app, "Topics", env=ENV), "T")
    with pytest.raises(ValueError, match="not both"):
        make(alarm_topic=topic)


def test_alarm_emails_need_a_key_cloudwatch_may_use() -> None:
    with pytest.raises(ValueError, match="alarm_key"):
        make(alarm_key=None)
