"""StepWorkflow and ScheduledFanOut: the synthesised machines against the service's definition."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from constructs_lib import EncryptionKeys
from constructs_lib.workflows import (
    LAMBDA_SERVICE_ERRORS,
    ManifestBucket,
    ScheduledFanOut,
    StepWorkflow,
    WorkflowSpec,
)
from service.banking import ProviderUnavailableError
from service.banking.errors import TransactionsNotReadyError
from service.workflows import (
    InMemoryRunStore,
    ParkPolicy,
    RetryPolicy,
    RunStatus,
    StepContext,
    StepSpec,
    StepWorker,
    WorkflowDefinition,
)
from service.workflows.bank_sync import BANK_SYNC
from service.workflows.definition import step_functions_spec
from service.workflows.launcher import resume_execution_name
from tests.workflows import asl

Findings = set[tuple[str, str]]


def _stack(app: cdk.App) -> cdk.Stack:
    return cdk.Stack(app, "Workflows",
                     env=cdk.Environment(account="111111111111", region="eu-west-2"))


def _worker(stack: cdk.Stack) -> tuple[lambda_.Function, lambda_.Alias]:
    fn = lambda_.Function(stack, "Worker", runtime=lambda_.Runtime.PYTHON_3_13,
                          handler="worker.handler", code=lambda_.Code.from_inline("x = 1"))
    return fn, lambda_.Alias(stack, "Live", alias_name="live", version=fn.current_version)


def _build(app: cdk.App) -> tuple[cdk.Stack, StepWorkflow, ScheduledFanOut]:
    stack = _stack(app)
    keys = EncryptionKeys(stack, "Keys", alias_prefix="test")
    _, alias = _worker(stack)
    sync = StepWorkflow(stack, "BankSync", spec=WorkflowSpec.from_mapping(
        step_functions_spec(BANK_SYNC)), worker=alias, state_machine_name="test-bank-sync",
        key=keys.workflow_state, log_key=keys.logs)
    manifests = ManifestBucket(stack, "Manifests", key=keys.workflow_state)
    daily = ScheduledFanOut(
        stack, "Daily", worker=alias, target=sync, manifest_bucket=manifests,
        state_machine_name="test-daily-sync", key=keys.workflow_state, log_key=keys.logs,
        max_concurrency=25,
        schedule=scheduler.ScheduleExpression.cron(minute="30", hour="2",
                                                   time_zone=cdk.TimeZone.EUROPE_LONDON))
    return stack, sync, daily


def _machine(template: dict[str, Any], name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The machine's properties and its parsed definition (tokens replaced by markers)."""
    [props] = [r["Properties"] for r in template["Resources"].values()
               if r["Type"] == "AWS::StepFunctions::StateMachine"
               and r["Properties"]["StateMachineName"] == name]
    parts = props["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else json.dumps(json.dumps(p))[1:-1] for p in parts)
    return props, json.loads(text)


@pytest.fixture
def built(app: cdk.App) -> tuple[dict[str, Any], StepWorkflow, ScheduledFanOut]:
    stack, sync, daily = _build(app)
    return Template.from_stack(stack).to_json(), sync, daily


def test_the_steps_are_the_services_steps_in_order_each_followed_by_a_parked_choice(
    built: Any,
) -> None:
    template, _, _ = built
    _, definition = _machine(template, "test-bank-sync")
    states = definition["States"]
    order, state = [], definition["StartAt"]
    while states[state]["Type"] == "Task":
        order.append(state)
        choice = states[states[state]["Next"]]
        assert choice["Type"] == "Choice"
        # The worker parked the run: the execution ends successfully; otherwise go on.
        assert choice["Choices"] == [{"Variable": "$.deferred", "BooleanEquals": True,
                                      "Next": "Parked"}]
        state = choice["Default"]
    assert tuple(order) == BANK_SYNC.step_names
    assert states[state]["Type"] == "Succeed"
    assert states["Parked"]["Type"] == "Succeed"


def test_each_step_invokes_the_alias_with_ids_and_its_retry_count_only(built: Any) -> None:
    template, _, _ = built
    _, definition = _machine(template, "test-bank-sync")
    for step in BANK_SYNC.steps:
        state = definition["States"][step.name]
        assert state["Resource"].endswith(":states:::lambda:invoke")
        assert "Live" in state["Parameters"]["FunctionName"]  # the alias' Ref, not the function
        assert state["Parameters"]["Payload"] == {
            "action": "step", "run_id.$": "$.run_id", "step": step.name,
            "retry_count.$": "$$.State.RetryCount", "execution.$": "$$.Execution.Name"}
        assert state["ResultSelector"] == {"run_id.$": "$.Payload.run_id",
                                           "deferred.$": "$.Payload.deferred"}
        assert state["TimeoutSeconds"] == step.timeout_seconds


def test_retries_are_the_definitions_numbers_plus_the_lambda_service_errors(built: Any) -> None:
    template, _, _ = built
    _, definition = _machine(template, "test-bank-sync")
    for step in BANK_SYNC.steps:
        own, service = definition["States"][step.name]["Retry"]
        policy = step.retry
        assert own == {
            "ErrorEquals": list(policy.retry_on),
            "IntervalSeconds": int(policy.initial_delay),
            "BackoffRate": policy.backoff_rate,
            "MaxAttempts": policy.max_attempts - 1,
            "MaxDelaySeconds": int(policy.max_delay),
            "JitterStrategy": "FULL",
        }
        assert service["ErrorEquals"] == list(LAMBDA_SERVICE_ERRORS) == [
            "Lambda.ServiceException", "Lambda.AWSLambdaException",
            "Lambda.SdkClientException", "Lambda.TooManyRequestsException"]
        assert service["JitterStrategy"] == "FULL"


def test_a_caught_failure_is_recorded_by_the_worker_then_fails_the_execution(
    built: Any,
) -> None:
    template, _, _ = built
    _, definition = _machine(template, "test-bank-sync")
    for step in BANK_SYNC.step_names:
        [catch] = definition["States"][step]["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"] and catch["ResultPath"] == "$.error"
        record = definition["States"][catch["Next"]]
        assert record["Parameters"]["Payload"] == {
            "action": "fail", "run_id.$": "$.run_id", "step": step, "error.$": "$.error"}
        assert definition["States"][record["Next"]]["Type"] == "Fail"
        assert definition["States"][record["Catch"][0]["Next"]]["Type"] == "Fail"


def test_encrypted_logged_without_data_and_traced(built: Any) -> None:
    template, _, _ = built
    for name in ("test-bank-sync", "test-daily-sync"):
        props, definition = _machine(template, name)
        assert props["EncryptionConfiguration"]["Type"] == "CUSTOMER_MANAGED_KMS_KEY"
        assert "WorkflowStateKey" in json.dumps(props["EncryptionConfiguration"]["KmsKeyId"])
        assert props["LoggingConfiguration"]["Level"] == "ALL"
        assert props["LoggingConfiguration"]["IncludeExecutionData"] is False
        assert props["TracingConfiguration"] == {"Enabled": True}
        assert definition["TimeoutSeconds"] > 0
    groups = [r["Properties"] for r in template["Resources"].values()
              if r["Type"] == "AWS::Logs::LogGroup"]
    assert groups and all("KmsKeyId" in g and g["RetentionInDays"] >= 365 for g in groups)


def test_the_fan_out_reads_an_s3_manifest_in_a_distributed_map(built: Any) -> None:
    template, _, _ = built
    _, definition = _machine(template, "test-daily-sync")
    first = definition["States"][definition["StartAt"]]
    assert first["Parameters"]["Payload"] == {"action": "manifest"}
    mapped = definition["States"][first["Next"]]
    assert mapped["Type"] == "Map"
    assert mapped["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert mapped["ItemReader"]["Resource"].endswith(":states:::s3:getObject")
    assert mapped["ItemReader"]["ReaderConfig"] == {"InputType": "JSON"}
    assert mapped["ItemReader"]["Parameters"] == {"Bucket.$": "$.bucket", "Key.$": "$.key"}
    assert mapped["MaxConcurrency"] == 25
    assert mapped["ResultPath"] is None  # 100k results never gather in the state
    states = mapped["ItemProcessor"]["States"]
    create = states[mapped["ItemProcessor"]["StartAt"]]
    assert create["Parameters"]["Payload"] == {
        "action": "create", "connection_ref.$": "$.connection_ref", "trigger": "schedule"}
    choice = states[create["Next"]]
    assert choice["Type"] == "Choice"
    assert choice["Choices"] == [{"Variable": "$.skip", "BooleanEquals": True,
                                  "Next": "skipped"}]
    run = states[choice["Default"]]
    assert run["Resource"].endswith(":states:::states:startExecution.sync:2")
    assert run["Parameters"]["Input"]["run_id.$"] == "$.run_id"
    assert run["Parameters"]["Name.$"] == "$.run_id"  # a repeated start is the same execution


def test_the_daily_schedule_is_encrypted_and_starts_only_the_fan_out(built: Any) -> None:
    template, _, _ = built
    [schedule] = [r["Properties"] for r in template["Resources"].values()
                  if r["Type"] == "AWS::Scheduler::Schedule"]
    assert "WorkflowStateKey" in json.dumps(schedule["KmsKeyArn"])
    assert schedule["ScheduleExpression"] == "cron(30 2 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/London"
    assert "DailyStateMachine" in json.dumps(schedule["Target"]["Arn"])


def test_the_manifest_bucket_is_private_encrypted_logged_and_expiring(built: Any) -> None:
    template, _, _ = built
    [bucket] = [r["Properties"] for k, r in template["Resources"].items()
                if r["Type"] == "AWS::S3::Bucket" and k.startswith("ManifestsBucket")]
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True}
    assert "DestinationBucketName" in bucket["LoggingConfiguration"]
    [expiry] = bucket["LifecycleConfiguration"]["Rules"]
    assert expiry["ExpirationInDays"] == 14
    policies = json.dumps([r for r in template["Resources"].values()
                           if r["Type"] == "AWS::S3::BucketPolicy"])
    assert "aws:SecureTransport" in policies and "s3:TlsVersion" in policies


def test_the_workflows_pass_the_packs_with_their_defaults(
    app: cdk.App, nag_findings: Callable[[cdk.App], Findings],
) -> None:
    _build(app)
    mine = {(rule, path) for rule, path in nag_findings(app)
            if "/Worker" not in path and "/Live" not in path}  # the bare test function
    assert mine == set()


def test_the_worker_function_itself_is_refused(app: cdk.App) -> None:
    stack = _stack(app)
    keys = EncryptionKeys(stack, "Keys", alias_prefix="test")
    fn, _ = _worker(stack)
    with pytest.raises(TypeError, match="alias"):
        StepWorkflow(stack, "W", spec=WorkflowSpec.from_mapping(step_functions_spec(BANK_SYNC)),
                     worker=fn, state_machine_name="w", key=keys.workflow_state,
                     log_key=keys.logs)


@pytest.mark.parametrize(("spec", "message"), [
    ({"name": "w", "steps": []}, "at least one step"),
    ({"name": "w"}, "lacks the field"),
    ({"name": "w", "steps": [{"name": "a", "timeout_seconds": 901}]}, "timeout_seconds"),
    ({"name": "w", "steps": [{"name": "a", "timeout_seconds": 5},
                             {"name": "a", "timeout_seconds": 5}]}, "repeats"),
    ({"name": "w", "steps": [{"name": "a", "timeout_seconds": 5, "retry": {
        "ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "BackoffRate": 2,
        "MaxAttempts": 2, "MaxDelaySeconds": 5, "JitterStrategy": "FULL"}}]}, "States"),
    ({"name": "w", "steps": [{"name": "a", "timeout_seconds": 5, "retry": {
        "ErrorEquals": ["E"], "IntervalSeconds": 1, "BackoffRate": 2,
        "MaxAttempts": 2, "MaxDelaySeconds": 5, "JitterStrategy": "NONE"}}]}, "full jitter"),
])
def test_a_spec_the_constructs_cannot_build_safely_is_refused(
    spec: dict[str, Any], message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        WorkflowSpec.from_mapping(spec)


def test_the_fan_out_concurrency_is_bounded(app: cdk.App) -> None:
    stack = _stack(app)
    keys = EncryptionKeys(stack, "Keys", alias_prefix="test")
    _, alias = _worker(stack)
    sync = StepWorkflow(stack, "S", spec=WorkflowSpec.from_mapping(
        step_functions_spec(BANK_SYNC)), worker=alias, state_machine_name="s",
        key=keys.workflow_state, log_key=keys.logs)
    with pytest.raises(ValueError, match="max_concurrency"):
        ScheduledFanOut(stack, "D", worker=alias, target=sync,
                        manifest_bucket=ManifestBucket(stack, "M", key=keys.workflow_state),
                        state_machine_name="d", key=keys.workflow_state, log_key=keys.logs,
                        max_concurrency=10_001,
                        schedule=scheduler.ScheduleExpression.rate(cdk.Duration.days(1)))


def test_alarms_go_to_the_topic_a_failed_run_alarms_only_for_the_fan_out(app: cdk.App) -> None:
    stack = _stack(app)
    keys = EncryptionKeys(stack, "Keys", alias_prefix="test")
    _, alias = _worker(stack)
    topic = sns.Topic(stack, "Alerts", master_key=keys.alerts)
    sync = StepWorkflow(stack, "S", spec=WorkflowSpec.from_mapping(
        step_functions_spec(BANK_SYNC)), worker=alias, state_machine_name="s",
        key=keys.workflow_state, log_key=keys.logs, alarm_topic=topic)
    daily = ScheduledFanOut(
        stack, "D", worker=alias, target=sync, alarm_topic=topic,
        manifest_bucket=ManifestBucket(stack, "M", key=keys.workflow_state),
        state_machine_name="d", key=keys.workflow_state, log_key=keys.logs, max_concurrency=5,
        schedule=scheduler.ScheduleExpression.rate(cdk.Duration.days(1)))
    alarms = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    by_metric = sorted((a["Properties"]["MetricName"],
                        "DStateMachine" in json.dumps(a["Properties"]["Dimensions"]))
                       for a in alarms.values())
    assert by_metric == sorted([("ExecutionsTimedOut", False), ("ExecutionsAborted", False),
                                ("ExecutionsTimedOut", True), ("ExecutionsAborted", True),
                                ("ExecutionsFailed", True)])
    assert len(sync.alarms) == 2 and len(daily.alarms) == 3
    assert all("AlarmActions" in a["Properties"] for a in alarms.values())


def test_the_machine_runs_a_workers_answers_as_the_contract_says(app: cdk.App) -> None:
    """The synthesised definition, executed against a real ``StepWorker`` of a workflow of
    the test's own: retries by error name with the retry count passed, a park on the last
    attempt ends the execution in Parked, an uncaught error is recorded and fails it."""
    park = ParkPolicy(park_on=("TransactionsNotReadyError",), wait=timedelta(minutes=5))
    flow = WorkflowDefinition("toy", (
        StepSpec(name="first", description="", retry=RetryPolicy(
            max_attempts=3, retry_on=("ProviderUnavailableError",))),
        StepSpec(name="wait", description="", park=park, retry=RetryPolicy(
            max_attempts=4, retry_on=("TransactionsNotReadyError",))),
    ))
    stack = _stack(app)
    keys = EncryptionKeys(stack, "Keys", alias_prefix="test")
    _, alias = _worker(stack)
    StepWorkflow(stack, "Toy", spec=WorkflowSpec.from_mapping(step_functions_spec(flow)),
                 worker=alias, state_machine_name="toy", key=keys.workflow_state,
                 log_key=keys.logs)
    _, definition = _machine(Template.from_stack(stack).to_json(), "toy")
    failures = {"first": 2, "wait": 10**6}

    def step(name: str) -> Callable[[StepContext], None]:
        def run(ctx: StepContext) -> None:
            if failures[name] > 0:
                failures[name] -= 1
                raise (ProviderUnavailableError("down") if name == "first"
                       else TransactionsNotReadyError("not yet"))
        return run

    store = InMemoryRunStore()
    worker = StepWorker(flow, {"first": step("first"), "wait": step("wait")}, store=store)

    def invoke(payload: dict[str, Any]) -> dict[str, Any]:
        return worker.handle(payload) if payload["action"] == "step" else worker.fail(payload)

    run_id = worker.create({})
    parked = asl.run(definition, {"run_id": run_id}, invoke=invoke, execution_name="e1")
    assert (parked.status, parked.end_state) == ("SUCCEEDED", "Parked")
    assert parked.invocations == [("first", 0), ("first", 1), ("first", 2),
                                  ("wait", 0), ("wait", 1), ("wait", 2), ("wait", 3)]
    record = store.get(run_id)
    assert record is not None and record.status is RunStatus.DEFERRED
    assert record.resume_at is not None

    failures["wait"] = 0
    failures["first"] = 10**6  # never reached again: the first step succeeded
    resumed = asl.run(definition, {"run_id": run_id}, invoke=invoke,
                      execution_name=resume_execution_name(run_id, record.resume_at))
    assert (resumed.status, resumed.end_state) == ("SUCCEEDED", "Succeeded")
    done = store.get(run_id)
    assert done is not None and done.status is RunStatus.SUCCEEDED

    failing = worker.create({})
    failures["first"] = 10**6
    caught = asl.run(definition, {"run_id": failing}, invoke=invoke, execution_name="e3")
    assert (caught.status, caught.end_state) == ("FAILED", "Failed")
    assert caught.invocations[-1] == ("first.record_failure", 0)
    lost = store.get(failing)
    assert lost is not None and lost.status is RunStatus.FAILED
    assert lost.last_error == "ProviderUnavailableError: down"
