"""The run sweep's schedule, the daily retention's and the audit anchor's, as synthesised for
each stage: all ScheduledInvoke, each on its function's alias, CMK-encrypted, through a role
that may only invoke that alias."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cdk_app.config import load_stage_config

from .conftest import STAGES, GateRun

synth = pytest.mark.synth


def _api(gate_run: GateRun, stage: str) -> dict[str, dict[str, Any]]:
    resources: dict[str, dict[str, Any]] = gate_run.template(stage, "Api")["Resources"]
    return resources


def _schedule(resources: dict[str, dict[str, Any]], path: str) -> dict[str, Any]:
    [found] = [r["Properties"] for r in resources.values()
               if r["Type"] == "AWS::Scheduler::Schedule"
               and path in r["Metadata"]["aws:cdk:path"]]
    return found


def _role_policies(resources: dict[str, dict[str, Any]], path: str) -> list[dict[str, Any]]:
    """Every statement attached to the role under ``path`` (managed or inline)."""
    [(role_id, role)] = [(k, r) for k, r in resources.items()
                         if r["Type"] == "AWS::IAM::Role"
                         and r["Metadata"]["aws:cdk:path"].endswith(f"/{path}/Role/Resource")]
    statements: list[dict[str, Any]] = []
    for managed in role["Properties"].get("ManagedPolicyArns", []):
        [policy_id] = [k for k in resources if k in json.dumps(managed)]
        statements += resources[policy_id]["Properties"]["PolicyDocument"]["Statement"]
    inline = [r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"
              and role_id in json.dumps(r["Properties"].get("Roles", []))]
    assert inline == [] and "Policies" not in role["Properties"]
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "scheduler.amazonaws.com"}]
    assert all("aws:SourceAccount" in s["Condition"]["StringEquals"] for s in trust)
    return statements


@synth
@pytest.mark.parametrize("stage", STAGES)
def test_the_sweep_runs_on_the_worker_alias_every_configured_interval(
    gate_run: GateRun, stage: str,
) -> None:
    minutes = load_stage_config(stage).sync.sweep_interval_minutes
    resources = _api(gate_run, stage)
    schedule = _schedule(resources, "/BankSync/Sweep/")
    assert schedule["ScheduleExpression"] == f"rate({minutes} minutes)"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert "WorkflowState" in json.dumps(schedule["KmsKeyArn"])
    target = schedule["Target"]
    assert json.loads(target["Input"]) == {"action": "sweep"}
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == minutes * 60
    [alias_id] = [k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Alias"
                  and "BankSync/Worker" in r["Metadata"]["aws:cdk:path"]]
    assert alias_id in json.dumps(target["Arn"])  # the alias, not $LATEST
    assert "BankSyncWorkerDeadLetterQueue" in json.dumps(target["DeadLetterConfig"])

    statements = _role_policies(resources, "BankSync/Sweep")
    actions = sorted(a for s in statements
                     for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == ["kms:Decrypt", "kms:Decrypt", "kms:GenerateDataKey",
                       "lambda:InvokeFunction", "sqs:SendMessage"]
    [invoke] = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    assert alias_id in json.dumps(invoke["Resource"]) and "*" not in json.dumps(
        invoke["Resource"])
    # The keys only through Scheduler (the schedule's) and SQS (the queue's).
    assert all("kms:ViaService" in s["Condition"]["StringEquals"] for s in statements
               if "lambda:InvokeFunction" != s["Action"] != "sqs:SendMessage")


@synth
@pytest.mark.parametrize("stage", STAGES)
def test_the_retention_runs_on_the_worker_alias_once_a_day_at_the_configured_time(
    gate_run: GateRun, stage: str,
) -> None:
    retention = load_stage_config(stage).retention
    resources = _api(gate_run, stage)
    schedule = _schedule(resources, "/BankSync/Retention/")
    assert schedule["ScheduleExpression"] == (
        f"cron({retention.schedule_minute} {retention.schedule_hour} * * ? *)")
    assert schedule["ScheduleExpressionTimezone"] == retention.time_zone
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert "WorkflowState" in json.dumps(schedule["KmsKeyArn"])
    target = schedule["Target"]
    assert json.loads(target["Input"]) == {"action": "retention"}
    [alias_id] = [k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Alias"
                  and "BankSync/Worker" in r["Metadata"]["aws:cdk:path"]]
    assert alias_id in json.dumps(target["Arn"])  # the alias, not $LATEST
    assert "BankSyncWorkerDeadLetterQueue" in json.dumps(target["DeadLetterConfig"])
    statements = _role_policies(resources, "BankSync/Retention")
    [invoke] = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    assert alias_id in json.dumps(invoke["Resource"]) and "*" not in json.dumps(
        invoke["Resource"])
    assert {a for s in statements for a in (
        [s["Action"]] if isinstance(s["Action"], str) else s["Action"])} == {
        "kms:Decrypt", "kms:GenerateDataKey", "lambda:InvokeFunction", "sqs:SendMessage"}


@synth
@pytest.mark.parametrize("stage", STAGES)
def test_the_audit_anchor_schedule_is_the_same_construct_now_encrypted(
    gate_run: GateRun, stage: str,
) -> None:
    minutes = load_stage_config(stage).audit.anchor_interval_minutes
    resources = _api(gate_run, stage)
    schedule = _schedule(resources, "/AuditAnchoring/Schedule/")
    assert schedule["ScheduleExpression"] == f"rate({minutes} minutes)"
    assert "WorkflowState" in json.dumps(schedule["KmsKeyArn"])
    statements = _role_policies(resources, "AuditAnchoring/Schedule")
    [invoke] = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    assert "AuditAnchoringFunctionLiveAlias" in json.dumps(invoke["Resource"]) or (
        "AuditAnchoringFunction" in json.dumps(invoke["Resource"]))
