"""Props checks of the delivery constructs (construction only; the synthesised pipeline,
hook and drift detector are asserted in tests/app/test_pipeline.py from the one gate run)."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns

from constructs_lib import (
    DeliveryPipeline,
    DeploymentHookFunction,
    DriftDetection,
    SecureDefaultError,
)

ENV = cdk.Environment(account="123456789012", region="eu-west-2")


def _stack(app: cdk.App) -> tuple[cdk.Stack, kms.Key]:
    stack = cdk.Stack(app, "S", env=ENV)
    return stack, kms.Key(stack, "Key", enable_key_rotation=True)


def test_a_hook_refuses_a_secret_in_its_environment(app: cdk.App) -> None:
    stack, key = _stack(app)
    with pytest.raises(SecureDefaultError, match="DB_PASSWORD"):
        DeploymentHookFunction(
            stack, "Hook", code=lambda_.Code.from_inline("def handler(e, c): pass"),
            handler="index.handler", log_key=key, environment_key=key,
            environment={"DB_PASSWORD": "correct-horse-battery-staple"})


def test_a_hook_with_short_log_retention_needs_the_opt_out(app: cdk.App) -> None:
    stack, key = _stack(app)
    with pytest.raises(SecureDefaultError, match=r"DeploymentHookFunction\.log_retention"):
        DeploymentHookFunction(
            stack, "Hook", code=lambda_.Code.from_inline("def handler(e, c): pass"),
            handler="index.handler", log_key=key, environment_key=key, log_retention=30)


def test_drift_detection_needs_a_stack_to_watch(app: cdk.App) -> None:
    stack, key = _stack(app)
    topic = sns.Topic(stack, "Topic", master_key=key)
    with pytest.raises(ValueError, match="at least one stack"):
        DriftDetection(stack, "Drift", stacks=[], topic=topic, log_key=key,
                       environment_key=key, stage="test")


@pytest.mark.parametrize(("repository", "commands", "message"), [
    ("no-owner", ["make synth"], "owner/name"),
    ("owner/repo", [], "synth_commands"),
])
def test_a_pipeline_refuses_bad_props_up_front(
    app: cdk.App, repository: str, commands: list[str], message: str,
) -> None:
    stack, key = _stack(app)
    with pytest.raises(ValueError, match=message):
        DeliveryPipeline(
            stack, "Pipeline",
            connection_arn="arn:aws:codeconnections:eu-west-2:123456789012:connection/x",
            repository=repository, branch="main", synth_commands=commands, log_key=key)
