"""ScheduledInvoke: an encrypted schedule invoking one alias through a role that can do no more."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs

from constructs_lib import EncryptionKeys, ScheduledInvoke

Findings = set[tuple[str, str]]
EVERY_5_MINUTES = scheduler.ScheduleExpression.rate(cdk.Duration.minutes(5))


def _stack(app: cdk.App) -> tuple[cdk.Stack, EncryptionKeys, lambda_.Function, lambda_.Alias]:
    stack = cdk.Stack(app, "Scheduled",
                      env=cdk.Environment(account="111111111111", region="eu-west-2"))
    keys = EncryptionKeys(stack, "Keys", alias_prefix="test")
    fn = lambda_.Function(stack, "Worker", runtime=lambda_.Runtime.PYTHON_3_13,
                          handler="worker.handler", code=lambda_.Code.from_inline("x = 1"))
    return stack, keys, fn, lambda_.Alias(stack, "Live", alias_name="live",
                                          version=fn.current_version)


def _build(app: cdk.App, **overrides: Any) -> tuple[cdk.Stack, ScheduledInvoke]:
    stack, keys, _, alias = _stack(app)
    queue = sqs.Queue(stack, "Dlq", encryption=sqs.QueueEncryption.KMS,
                      encryption_master_key=keys.workflow_state, enforce_ssl=True)
    props: dict[str, Any] = {
        "function": alias, "schedule": EVERY_5_MINUTES, "key": keys.workflow_state,
        "description": "Sweep the runs", "payload": {"action": "sweep"},
        "max_event_age": cdk.Duration.minutes(5), "dead_letter_queue": queue, **overrides}
    return stack, ScheduledInvoke(stack, "Sweep", **props)


def _resources(stack: cdk.Stack, kind: str) -> dict[str, dict[str, Any]]:
    template = cdk.assertions.Template.from_stack(stack).to_json()
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def test_the_schedule_is_encrypted_and_invokes_the_alias_with_the_payload(app: cdk.App) -> None:
    stack, _ = _build(app)
    [schedule] = [r["Properties"] for r in _resources(stack, "AWS::Scheduler::Schedule").values()]
    assert "WorkflowStateKey" in json.dumps(schedule["KmsKeyArn"])
    assert schedule["ScheduleExpression"] == "rate(5 minutes)"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["Description"] == "Sweep the runs"
    target = schedule["Target"]
    assert "LiveAlias" in json.dumps(target["Arn"]) or "Live" in json.dumps(target["Arn"])
    assert json.loads(target["Input"]) == {"action": "sweep"}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 300, "MaximumRetryAttempts": 2}
    assert "Dlq" in json.dumps(target["DeadLetterConfig"])
    assert "SweepRole" in json.dumps(target["RoleArn"])


def test_the_role_may_only_invoke_the_alias_and_send_to_the_queue(app: cdk.App) -> None:
    stack, _ = _build(app)
    [role] = [r["Properties"] for k, r in _resources(stack, "AWS::IAM::Role").items()
              if k.startswith("SweepRole")]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "111111111111"}}
    assert "Policies" not in role  # nothing inline
    assert _resources(stack, "AWS::IAM::Policy") == {}
    [policy] = [r["Properties"] for r in _resources(stack, "AWS::IAM::ManagedPolicy").values()]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert set(statements) == {"InvokeTheAliasOnly", "ScheduleKeyThroughScheduler",
                               "UndeliveredToTheDeadLetterQueue", "DeadLetterQueueKeyThroughSqs"}
    invoke = statements["InvokeTheAliasOnly"]
    assert invoke["Action"] == "lambda:InvokeFunction"
    assert "Live" in json.dumps(invoke["Resource"]) and "*" not in json.dumps(invoke["Resource"])
    assert statements["ScheduleKeyThroughScheduler"]["Action"] == "kms:Decrypt"
    assert statements["ScheduleKeyThroughScheduler"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "scheduler.eu-west-2.amazonaws.com"}}
    assert statements["UndeliveredToTheDeadLetterQueue"]["Action"] == "sqs:SendMessage"
    assert statements["DeadLetterQueueKeyThroughSqs"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "sqs.eu-west-2.amazonaws.com"}}


def test_without_a_queue_the_role_only_invokes(app: cdk.App) -> None:
    stack, _ = _build(app, dead_letter_queue=None)
    [policy] = [r["Properties"] for r in _resources(stack, "AWS::IAM::ManagedPolicy").values()]
    assert [s["Sid"] for s in policy["PolicyDocument"]["Statement"]] == [
        "InvokeTheAliasOnly", "ScheduleKeyThroughScheduler"]
    [schedule] = [r["Properties"] for r in _resources(stack, "AWS::Scheduler::Schedule").values()]
    assert "DeadLetterConfig" not in schedule["Target"]
    assert schedule["Target"]["RetryPolicy"]["MaximumEventAgeInSeconds"] == 300


def test_it_passes_the_packs_with_its_defaults(
    app: cdk.App, nag_findings: Callable[[cdk.App], Findings],
) -> None:
    _build(app)
    mine = {(rule, path) for rule, path in nag_findings(app) if "/Sweep" in path}
    assert mine == set()


def test_the_key_policy_is_left_alone(app: cdk.App) -> None:
    """The key may live in another stack (the app's Data stack): nothing names the role in it."""
    stack, _ = _build(app)
    [key] = [r["Properties"] for k, r in _resources(stack, "AWS::KMS::Key").items()
             if k.startswith("KeysWorkflowState")]
    assert "SweepRole" not in json.dumps(key["KeyPolicy"])


def test_latest_is_refused(app: cdk.App) -> None:
    stack, keys, fn, _ = _stack(app)
    with pytest.raises(TypeError, match="alias"):
        ScheduledInvoke(stack, "S", function=fn, schedule=EVERY_5_MINUTES,
                        key=keys.workflow_state, description="d")


@pytest.mark.parametrize(("overrides", "message"), [
    ({"retry_attempts": 186}, "retry_attempts"),
    ({"retry_attempts": -1}, "retry_attempts"),
    ({"max_event_age": cdk.Duration.seconds(30)}, "max_event_age"),
    ({"max_event_age": cdk.Duration.hours(25)}, "max_event_age"),
    ({"description": " "}, "description"),
])
def test_out_of_range_props_are_refused(app: cdk.App, overrides: dict[str, Any],
                                        message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _build(app, **overrides)


def test_props_are_keyword_only(app: cdk.App) -> None:
    stack, keys, _, alias = _stack(app)
    with pytest.raises(TypeError):
        ScheduledInvoke(stack, "S", alias, EVERY_5_MINUTES, keys.workflow_state,  # type: ignore[misc]
                        "d")
