"""The synthesised delivery pipeline (from the session's one gate run) and its stage wiring."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cdk_app.config import load_pipeline_config
from cdk_app.stacks.pipeline_stack import SYNTH_COMMANDS
from tests.app.conftest import GateRun

PIPELINE = load_pipeline_config()


def _resources(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


@pytest.fixture(scope="module")
def template(gate_run: GateRun) -> dict[str, Any]:
    assert gate_run.returncode == 0, gate_run.output[-4000:]
    return json.loads((gate_run.outdir / "Pipeline.template.json").read_text())


@pytest.fixture(scope="module")
def stages(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    [pipeline] = _resources(template, "AWS::CodePipeline::Pipeline").values()
    assert pipeline["Properties"]["PipelineType"] == "V2"
    return {s["Name"]: s["Actions"] for s in pipeline["Properties"]["Stages"]}


def _statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, st) for name, policy in _resources(template, "AWS::IAM::Policy").items()
            for st in policy["Properties"]["PolicyDocument"]["Statement"]]


def test_stages_run_source_checks_self_update_assets_then_staging_then_prod(
    stages: dict[str, list[dict[str, Any]]], template: dict[str, Any],
) -> None:
    assert list(stages) == ["Source", "Build", "UpdatePipeline", "Assets", *PIPELINE.stages]
    [source] = stages["Source"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["ConnectionArn"] == PIPELINE.connection_arn
    assert source["Configuration"]["FullRepositoryId"] == PIPELINE.repository
    assert source["Configuration"]["BranchName"] == PIPELINE.branch
    synth = next(p for p in _resources(template, "AWS::CodeBuild::Project").values()
                 if "make synth" in p["Properties"]["Source"]["BuildSpec"])
    commands = json.loads(synth["Properties"]["Source"]["BuildSpec"])["phases"]["build"][
        "commands"]
    assert commands == list(SYNTH_COMMANDS)  # make check, make test, make synth (the gate)


def test_prod_waits_for_a_manual_approval_before_any_deploy(
    stages: dict[str, list[dict[str, Any]]],
) -> None:
    actions = stages["prod"]
    [approval] = [a for a in actions if a["ActionTypeId"]["Provider"] == "Manual"]
    deploys = [a for a in actions if a["ActionTypeId"]["Provider"] == "CloudFormation"]
    assert deploys and all(a["RunOrder"] > approval["RunOrder"] for a in deploys)
    assert not [a for a in stages["staging"] if a["ActionTypeId"]["Provider"] == "Manual"]


def test_staging_is_smoke_tested_after_its_last_deploy_with_the_stack_outputs(
    stages: dict[str, list[dict[str, Any]]], template: dict[str, Any],
) -> None:
    actions = stages["staging"]
    [smoke] = [a for a in actions if a["Name"].startswith("SmokeTest")]
    assert smoke["RunOrder"] > max(a["RunOrder"] for a in actions
                                   if a["ActionTypeId"]["Provider"] == "CloudFormation")
    names = {v["name"] for v in json.loads(smoke["Configuration"]["EnvironmentVariables"])}
    assert names == {"API_URL", "USER_POOL_ID", "USER_POOL_CLIENT_ID"}
    project = template["Resources"][smoke["Configuration"]["ProjectName"]["Ref"]]
    assert "-m devtools.smoke" in project["Properties"]["Source"]["BuildSpec"]
    env = {v["Name"]: v["Value"] for v in project["Properties"]["Environment"][
        "EnvironmentVariables"]}
    [secret] = _resources(template, "AWS::SecretsManager::Secret")
    assert env["SMOKE_USER_SECRET_ID"] == {"Ref": secret}


def test_stages_deploy_through_their_accounts_bootstrap_roles(
    stages: dict[str, list[dict[str, Any]]],
) -> None:
    accounts = {"staging": "111111111111", "prod": "222222222222"}
    for stage, account in accounts.items():
        for action in stages[stage]:
            if action["ActionTypeId"]["Provider"] == "CloudFormation":
                role = json.dumps(action["RoleArn"])
                assert f":iam::{account}:role/cdk-hnb659fds-deploy-role-{account}-" in role


def test_artifacts_and_builds_are_encrypted_with_rotating_keys_and_logged(
    template: dict[str, Any],
) -> None:
    keys = _resources(template, "AWS::KMS::Key")
    assert keys and all(k["Properties"]["EnableKeyRotation"] for k in keys.values())
    [artifacts] = [b for b in _resources(template, "AWS::S3::Bucket").values()
                   if "LoggingConfiguration" in b["Properties"]]
    rule = artifacts["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    artifacts_key = rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]
    policies = json.dumps(_resources(template, "AWS::S3::BucketPolicy"))
    assert '"aws:SecureTransport": "false"' in policies and '"s3:TlsVersion": 1.2' in policies
    [log_group] = _resources(template, "AWS::Logs::LogGroup").values()
    assert "KmsKeyId" in log_group["Properties"]
    projects = _resources(template, "AWS::CodeBuild::Project").values()
    assert len(projects) >= 4
    for project in projects:
        assert project["Properties"]["EncryptionKey"] == artifacts_key
        assert project["Properties"]["LogsConfig"]["CloudWatchLogs"]["Status"] == "ENABLED"
        assert not project["Properties"]["Environment"].get("PrivilegedMode", False)


def test_the_smoke_step_reads_only_its_secret_and_nothing_is_allowed_everything(
    template: dict[str, Any],
) -> None:
    [secret] = _resources(template, "AWS::SecretsManager::Secret")
    readers = [(name, st) for name, st in _statements(template)
               if "secretsmanager:GetSecretValue" in json.dumps(st["Action"])]
    assert readers and all(st["Resource"] == {"Ref": secret} for _, st in readers)
    assert all("Smoke" in name for name, _ in readers)
    for name, st in _statements(template):
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        assert "*" not in actions and not any(a.endswith(":*") for a in actions), name


def test_the_pipeline_stack_passes_every_pack_with_only_reasoned_acknowledgements(
    gate_run: GateRun,
) -> None:
    report = gate_run.report("app")
    assert report["passed"] and not report["failed"] and not report["stale_acknowledgements"]
    assert len(report["packs"]) == 6


@pytest.mark.parametrize("stage", PIPELINE.stages)
def test_migrations_run_as_the_owner_before_the_api_alias_shifts(
    gate_run: GateRun, stage: str,
) -> None:
    template = gate_run.template(stage, "Api")
    resources = template["Resources"]
    # Every alias (API, worker, audit anchor) shifts only after the same migrations.
    hooks = {json.dumps(alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
                        ["BeforeAllowTrafficHook"])
             for alias in _resources(template, "AWS::Lambda::Alias").values()}
    [hook] = [json.loads(h) for h in hooks]
    function = resources[hook["Ref"]]["Properties"]
    assert function["Handler"] == "service.db.migrate_hook.handler"
    env = function["Environment"]["Variables"]
    assert {"DB_CLUSTER_ARN", "DB_OWNER_SECRET_ARN", "DB_NAME"} <= set(env)
    role = function["Role"]["Fn::GetAtt"][0]
    statements = [st for name, st in _statements(template)
                  if any(r == {"Ref": role} for r in resources[name]["Properties"]["Roles"])]
    data_api = [st for st in statements if "rds-data:ExecuteStatement" in json.dumps(st)]
    assert [json.dumps(st["Resource"]) for st in data_api] == [json.dumps(env["DB_CLUSTER_ARN"])]
    status = [st for st in statements
              if "codedeploy:PutLifecycleEventHookExecutionStatus" in json.dumps(st)]
    assert status and all("deploymentgroup" in json.dumps(st["Resource"]) for st in status)


@pytest.mark.parametrize("stage", PIPELINE.stages)
def test_drift_detection_watches_every_stack_of_the_stage_and_alerts_the_alarm_topic(
    gate_run: GateRun, stage: str,
) -> None:
    template = gate_run.template(stage, "Api")
    [rule] = _resources(template, "AWS::Events::Rule").values()
    assert rule["Properties"]["ScheduleExpression"] == "rate(6 hours)"
    target = rule["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0]
    env = template["Resources"][target]["Properties"]["Environment"]["Variables"]
    stacks = json.loads(env["STACKS"])
    assert {s["name"] for s in stacks} == {
        f"{stage}-Edge", f"{stage}-Data", f"{stage}-Api", f"{stage}-EdgeLogs"}
    [topic] = _resources(template, "AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]
    drift = [st for _, st in _statements(template)
             if "cloudformation:DetectStackDrift" in json.dumps(st["Action"])]
    assert len(drift) == 1 and len(drift[0]["Resource"]) == 4
    assert all(f"stack/{stage}-" in r for r in drift[0]["Resource"])
