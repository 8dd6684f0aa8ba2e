"""The deployed bank sync: worker, state machines and schedule, as synthesised for each stage."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cdk_app.config import StageConfig, load_stage_config
from constructs_lib.workflows import LAMBDA_SERVICE_ERRORS
from service import deployment_contract as contract
from service.workflows.bank_sync import BANK_SYNC

from .conftest import ROOT, STAGES, GateRun

synth = pytest.mark.synth


def _resources(gate_run: GateRun, stage: str, kind: str) -> dict[str, dict[str, Any]]:
    template = gate_run.template(stage, "Api")
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def _definition(props: dict[str, Any]) -> dict[str, Any]:
    parts = props["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else json.dumps(json.dumps(p))[1:-1]
                              for p in parts))


def _machine(gate_run: GateRun, stage: str, suffix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    prefix = load_stage_config(stage).resource_prefix
    [props] = [r["Properties"] for r in _resources(
        gate_run, stage, "AWS::StepFunctions::StateMachine").values()
        if r["Properties"]["StateMachineName"] == f"{prefix}-{suffix}"]
    return props, _definition(props)


@synth
@pytest.mark.parametrize("stage", STAGES)
def test_the_bank_sync_machine_is_the_services_definition(gate_run: GateRun, stage: str) -> None:
    props, definition = _machine(gate_run, stage, "bank-sync")
    assert definition["StartAt"] == BANK_SYNC.step_names[0]
    for index, step in enumerate(BANK_SYNC.steps):
        state = definition["States"][step.name]
        following = (BANK_SYNC.step_names[index + 1] if index + 1 < len(BANK_SYNC.steps)
                     else "Succeeded")
        choice = definition["States"][state["Next"]]
        assert choice["Type"] == "Choice" and choice["Default"] == following
        assert choice["Choices"] == [{"Variable": "$.deferred", "BooleanEquals": True,
                                      "Next": "Parked"}]
        assert state["Parameters"]["Payload"]["retry_count.$"] == "$$.State.RetryCount"
        assert state["ResultSelector"]["deferred.$"] == "$.Payload.deferred"
        own, service = state["Retry"]
        assert own["ErrorEquals"] == list(step.retry.retry_on)
        assert own["MaxAttempts"] == step.retry.max_attempts - 1
        assert own["IntervalSeconds"] == int(step.retry.initial_delay)
        assert own["MaxDelaySeconds"] == int(step.retry.max_delay)
        assert own["JitterStrategy"] == service["JitterStrategy"] == "FULL"
        assert service["ErrorEquals"] == list(LAMBDA_SERVICE_ERRORS)
        assert state["TimeoutSeconds"] == step.timeout_seconds
        assert "BankSyncWorkerLiveAlias" in state["Parameters"]["FunctionName"]
    assert definition["States"]["Parked"]["Type"] == "Succeed"
    assert definition["States"]["Succeeded"]["Type"] == "Succeed"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False
    assert "WorkflowState" in json.dumps(props["EncryptionConfiguration"])


@synth
@pytest.mark.parametrize("stage", STAGES)
def test_the_daily_fan_out_uses_the_stages_concurrency_and_schedule(
    gate_run: GateRun, stage: str,
) -> None:
    config = load_stage_config(stage)
    _, definition = _machine(gate_run, stage, "daily-sync")
    [mapped] = [s for s in definition["States"].values() if s["Type"] == "Map"]
    assert mapped["MaxConcurrency"] == config.sync.max_concurrency
    assert mapped["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert "ItemReader" in mapped and "ItemsPath" not in mapped
    # The daily sync's schedule (the audit anchoring has one of its own).
    [schedule] = [r["Properties"] for r in _resources(
        gate_run, stage, "AWS::Scheduler::Schedule").values()
        if "DailySync" in json.dumps(r["Properties"]["Target"])
        or "daily-sync" in json.dumps(r["Properties"]["Target"])]
    assert schedule["ScheduleExpression"] == (
        f"cron({config.sync.schedule_minute} {config.sync.schedule_hour} * * ? *)")
    assert "WorkflowState" in json.dumps(schedule["KmsKeyArn"])


@synth
@pytest.mark.parametrize("stage", STAGES)
def test_the_worker_is_its_own_aliased_function_with_the_contracts_environment(
    gate_run: GateRun, stage: str,
) -> None:
    config = load_stage_config(stage)
    functions = _resources(gate_run, stage, "AWS::Lambda::Function")
    [(worker_id, worker)] = [(k, r) for k, r in functions.items()
                             if r["Properties"]["Handler"] == contract.WORKER_HANDLER]
    env = worker["Properties"]["Environment"]["Variables"]
    assert env[contract.BANK_PROVIDER_ENVIRONMENT] == config.bank_provider.environment
    assert env[contract.BANK_REDIRECT_URI] == config.bank_provider.redirect_uri
    assert {contract.SYNC_MANIFEST_BUCKET, contract.BANK_CLIENT_SECRET_ARN,
            contract.DB_SECRET_ARN, contract.BANK_SYNC_STATE_MACHINE_ARN} <= set(env)
    assert contract.DB_OWNER_SECRET_ARN not in env
    # Its own deployment group, beside the API's and the audit anchor's.
    groups = _resources(gate_run, stage, "AWS::CodeDeploy::DeploymentGroup")
    assert len(groups) == 3
    assert any("BankSync/Worker" in r["Metadata"]["aws:cdk:path"] for r in groups.values())
    aliases = [r for r in _resources(gate_run, stage, "AWS::Lambda::Alias").values()
               if worker_id in json.dumps(r["Properties"]["FunctionName"])]
    assert len(aliases) == 1


@synth
@pytest.mark.parametrize("stage", STAGES)
def test_the_api_may_start_only_the_bank_sync_machine(gate_run: GateRun, stage: str) -> None:
    config = load_stage_config(stage)
    functions = _resources(gate_run, stage, "AWS::Lambda::Function")
    [api] = [r for r in functions.values() if r["Properties"]["Handler"] == contract.API_HANDLER]
    env = api["Properties"]["Environment"]["Variables"]
    arn = env[contract.BANK_SYNC_STATE_MACHINE_ARN]
    assert arn == f"arn:aws:states:{config.region}:{config.account}:stateMachine:" \
                  f"{config.resource_prefix}-bank-sync"
    assert env[contract.TRUELAYER_JKU_ALLOWLIST] == ",".join(config.bank_provider.jku_allowlist)
    role = api["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = [s for r in _resources(gate_run, stage, "AWS::IAM::Policy").values()
                  if {"Ref": role} in r["Properties"]["Roles"]
                  for s in r["Properties"]["PolicyDocument"]["Statement"]]
    states = [s for s in statements if any(str(a).startswith("states:")
                                           for a in _list(s["Action"]))]
    assert states == [{"Action": "states:StartExecution", "Effect": "Allow", "Resource": arn}]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_synthesis_never_imports_the_worker_module() -> None:
    """The handler is a name in the contract; cdk_app must not need the module to exist."""
    for path in (ROOT / "cdk_app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [f"{node.module}.{a.name}" for a in node.names]
                     if isinstance(node, ast.ImportFrom) and node.module else [])
            assert not [n for n in names if "worker_handler" in n], path


def _config(stage: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (ROOT / "cdk_app" / "config" / f"{stage}.json").read_text())
    for dotted, value in changes.items():
        section, field = dotted.split("__")
        data[section][field] = value
    return data


@pytest.mark.parametrize(("stage", "changes", "message"), [
    ("prod", {"bank_provider__jku_allowlist": ["https://webhooks.truelayer-sandbox.com/jwks"]},
     "live environment"),
    ("staging", {"bank_provider__jku_allowlist": ["https://webhooks.truelayer.com/jwks"]},
     "sandbox environment"),
    ("staging", {"bank_provider__jku_allowlist": ["http://webhooks.truelayer-sandbox.com/j"]},
     "not an https URL"),
    ("prod", {"bank_provider__redirect_uri": "https://api.familyfinance.example.com/cb"},
     "/v1/connections/callback"),
    ("prod", {"bank_provider__redirect_uri":
              "https://evil.example.com/v1/connections/callback"}, "not on the stage's domain"),
    ("staging", {"bank_provider__redirect_uri":
                 "https://evil.example.com/v1/connections/callback"}, "CloudFront domain"),
    ("prod", {"sync__max_concurrency": 150}, "below worker_function.reserved_concurrency"),
    ("prod", {"sync__time_zone": "Mars/Olympus"}, "IANA"),
    ("prod", {"bank_provider__environment": "production"}, "sandbox"),
])
def test_bad_provider_and_sync_settings_are_refused_with_a_clear_error(
    stage: str, changes: dict[str, Any], message: str,
) -> None:
    with pytest.raises(ValidationError, match=message):
        StageConfig.model_validate(_config(stage, **changes))


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_talks_to_its_own_provider_environment(stage: str) -> None:
    config = load_stage_config(stage)
    assert config.bank_provider.environment == {"staging": "sandbox", "prod": "live"}[stage]
    assert Path(config.bank_provider.redirect_uri).name == "callback"


@synth
@pytest.mark.parametrize("stage", STAGES)
def test_the_worker_role_holds_exactly_what_the_worker_needs(
    gate_run: GateRun, stage: str,
) -> None:
    functions = _resources(gate_run, stage, "AWS::Lambda::Function")
    [worker] = [r for r in functions.values()
                if r["Properties"]["Handler"] == contract.WORKER_HANDLER]
    role = worker["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = [r for r in _resources(gate_run, stage, "AWS::IAM::Policy").values()
                if {"Ref": role} in r["Properties"]["Roles"]]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    actions = {a for s in statements for a in _list(s["Action"])}
    assert actions == {
        "logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage",
        "rds-data:BatchExecuteStatement", "rds-data:BeginTransaction",
        "rds-data:CommitTransaction", "rds-data:ExecuteStatement",
        "rds-data:RollbackTransaction",
        "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
        "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey",
        "dynamodb:GetItem", "s3:PutObject", "states:StartExecution",
    }
    text = json.dumps(statements)
    # The app role's secret and the bank client secret only: never the owner's or the others.
    assert "MasterUserSecret" not in text and "WebhookSigning" not in text
    assert "OriginVerify" not in text
    secrets = [r for s in statements if "secretsmanager:GetSecretValue" in _list(s["Action"])
               for r in _list(s["Resource"])]
    assert sorted("AppRoleSecret" in json.dumps(r) for r in secrets) == [False, True]
    assert sorted("BankClient" in json.dumps(r) for r in secrets) == [False, True]
