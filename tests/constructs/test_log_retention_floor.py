"""One log-retention floor for every log group the library makes: a year, else an opt-out."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from constructs_lib.function import ServiceFunction
from constructs_lib.log_storage import MIN_LOG_RETENTION_DAYS, as_retention, retention_days
from constructs_lib.network import PrivateNetwork
from constructs_lib.opt_outs import OptOut, SecureDefaultError

ENV = cdk.Environment(account="111111111111", region="eu-west-2")
SIX_MONTHS = logs.RetentionDays.SIX_MONTHS  # between the old 90-day floor and a year


def _function(stack: cdk.Stack, retention: logs.RetentionDays,
              opt_outs: tuple[OptOut, ...] = ()) -> ServiceFunction:
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    return ServiceFunction(
        stack, "Fn", memory_size=256, timeout=cdk.Duration.seconds(10),
        p99_duration_threshold=cdk.Duration.seconds(2),
        deployment_config=codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
        log_key=key, queue_key=key, environment_key=key, reserved_concurrent_executions=1,
        alarm_emails=["oncall@example.org"], alarm_key=key, handler="index.handler",
        code=lambda_.Code.from_inline("def handler(e, c):\n    return {}\n"),
        log_retention=retention, opt_outs=opt_outs,
    )


def test_the_floor_is_a_year() -> None:
    assert MIN_LOG_RETENTION_DAYS == 365
    assert retention_days(as_retention(365)) == 365
    with pytest.raises(ValueError, match="not a CloudWatch Logs retention"):
        as_retention(100)


def test_function_logs_under_a_year_need_an_opt_out(app: cdk.App) -> None:
    with pytest.raises(SecureDefaultError, match=r"ServiceFunction\.log_retention"):
        _function(cdk.Stack(app, "A", env=ENV), SIX_MONTHS)
    _function(cdk.Stack(app, "B", env=ENV), SIX_MONTHS, (OptOut(
        "ServiceFunction.log_retention", "Sandbox account with synthetic data only."),))


def test_flow_logs_under_a_year_need_an_opt_out(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Net", env=ENV)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    with pytest.raises(SecureDefaultError, match=r"PrivateNetwork\.flow_log_retention"):
        PrivateNetwork(stack, "Network", log_key=key, flow_log_retention=SIX_MONTHS)
