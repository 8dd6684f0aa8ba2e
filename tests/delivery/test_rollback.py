"""``make rollback``: CodeDeploy stop-with-rollback or a pipeline redeploy, refused on contract.

CloudFormation is moto; CodeDeploy (which moto lacks) a botocore Stubber on a real
client; CodePipeline a local stand-in for the two calls used, because moto's executions
carry neither a status nor source revisions; the applied migrations come from a real
PostgreSQL through the local Data API.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from devtools.rollback import (
    IN_FLIGHT_STATUSES,
    RollbackRefusedError,
    StageOutputs,
    contract_blockers,
    data_api_migrations,
    execute,
    plan_rollback,
)
from service.db.migrations import DEFAULT_MIGRATIONS_DIR, load_migrations
from tests.fixtures.postgres import TEST_CLUSTER_ARN, TEST_OWNER_SECRET_ARN, database_name

STACK = "prod-Api"
PIPELINE = "ffp-delivery"
OUTPUTS = {
    "DeploymentApplication": "prod-api-app",
    "DeploymentGroup": "prod-api-group",
    "DatabaseClusterArn": "arn:aws:rds:eu-west-2:123456789012:cluster:prod",
    "DatabaseOwnerSecretArn": "arn:aws:secretsmanager:eu-west-2:123456789012:secret:o-AbCdEf",
    "DatabaseName": "app",
}
CURRENT, PREVIOUS, OLDER = "c" * 40, "b" * 40, "a" * 40
CONTRACT = "-- contract: reviewed-by alice 2026-11-30: no running release reads legacy_weight\n"


class LocalCodePipeline:
    """The two CodePipeline calls the rollback makes, with the API's shapes."""

    def __init__(self, executions: list[tuple[str, str]]) -> None:
        self.executions = executions  # (status, commit), newest first
        self.started: list[dict[str, Any]] = []

    def list_pipeline_executions(self, *, pipelineName: str, nextToken: str | None = None,  # noqa: N803
                                 ) -> dict[str, Any]:
        assert pipelineName == PIPELINE
        start = int(nextToken or 0)
        page = self.executions[start:start + 2]  # small pages: the loop must follow tokens
        more = start + 2 < len(self.executions)
        return {"pipelineExecutionSummaries": [
            {"pipelineExecutionId": f"exec-{start + i}", "status": status,
             "sourceRevisions": [{"actionName": "o_r", "revisionId": commit}]}
            for i, (status, commit) in enumerate(page)],
            **({"nextToken": str(start + 2)} if more else {})}

    def start_pipeline_execution(self, **request: Any) -> dict[str, str]:
        self.started.append(request)
        return {"pipelineExecutionId": "exec-new"}


@pytest.fixture
def cloudformation() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("cloudformation", region_name="eu-west-2")
        template = {
            "Resources": {"Marker": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {key: {"Value": value} for key, value in OUTPUTS.items()},
        }
        client.create_stack(StackName=STACK, TemplateBody=json.dumps(template))
        yield client


@pytest.fixture
def codedeploy() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("codedeploy", region_name="eu-west-2",
                          aws_access_key_id="local", aws_secret_access_key="local")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    (tmp_path / "0001_initial.sql").write_text("CREATE TABLE t (id int);")
    (tmp_path / "0002_expand.sql").write_text("ALTER TABLE t ADD COLUMN label text;")
    (tmp_path / "0003_contract.sql").write_text(CONTRACT + "ALTER TABLE t DROP COLUMN w;")
    return tmp_path


def _expect_deployments(stubber: Stubber, deployments: list[str]) -> None:
    stubber.add_response("list_deployments", {"deployments": deployments}, {
        "applicationName": OUTPUTS["DeploymentApplication"],
        "deploymentGroupName": OUTPUTS["DeploymentGroup"],
        "includeOnlyStatuses": list(IN_FLIGHT_STATUSES)})


def _plan(cloudformation: Any, codedeploy: Any, pipeline: LocalCodePipeline,
          migrations: Path, applied: list[str], shipped: dict[str, list[str]]) -> Any:
    seen: list[Any] = []

    def applied_migrations(outputs: Any) -> list[str]:
        seen.append(outputs)
        return applied

    plan = plan_rollback(cloudformation=cloudformation, codedeploy=codedeploy,
                         codepipeline=pipeline, stack_name=STACK, pipeline_name=PIPELINE,
                         applied_migrations=applied_migrations,
                         shipped_migrations=lambda commit: shipped[commit],
                         migrations_dir=migrations)
    assert seen[0].owner_secret_arn == OUTPUTS["DatabaseOwnerSecretArn"]
    return plan


def test_a_deployment_in_flight_is_stopped_with_automatic_rollback(
    cloudformation: Any, codedeploy: tuple[Any, Stubber], migrations: Path,
) -> None:
    client, stubber = codedeploy
    pipeline = LocalCodePipeline([("InProgress", CURRENT), ("Succeeded", PREVIOUS),
                                  ("Succeeded", OLDER)])
    _expect_deployments(stubber, ["d-INFLIGHT"])
    plan = _plan(cloudformation, client, pipeline, migrations,
                 applied=["0001_initial.sql", "0002_expand.sql"],
                 shipped={PREVIOUS: ["0001_initial.sql"]})
    assert (plan.action, plan.target_commit, plan.deployment_id) == (
        "stop-deployment", PREVIOUS, "d-INFLIGHT")

    stubber.add_response("stop_deployment", {"status": "Pending"},
                         {"deploymentId": "d-INFLIGHT", "autoRollbackEnabled": True})
    assert execute(plan, codedeploy=client, codepipeline=pipeline, pipeline_name=PIPELINE,
                   source_action="o_r") == "d-INFLIGHT"
    assert pipeline.started == []


def test_without_a_deployment_in_flight_the_previous_release_is_redeployed_by_the_pipeline(
    cloudformation: Any, codedeploy: tuple[Any, Stubber], migrations: Path,
) -> None:
    client, stubber = codedeploy
    pipeline = LocalCodePipeline([("Failed", "f" * 40), ("Succeeded", CURRENT),
                                  ("Superseded", "e" * 40), ("Succeeded", PREVIOUS)])
    _expect_deployments(stubber, [])
    plan = _plan(cloudformation, client, pipeline, migrations,
                 applied=["0001_initial.sql", "0002_expand.sql"],
                 shipped={PREVIOUS: ["0001_initial.sql"]})
    assert (plan.action, plan.target_commit) == ("redeploy", PREVIOUS)

    assert execute(plan, codedeploy=client, codepipeline=pipeline, pipeline_name=PIPELINE,
                   source_action="o_r") == "exec-new"
    assert pipeline.started == [{"name": PIPELINE, "sourceRevisions": [
        {"actionName": "o_r", "revisionType": "COMMIT_ID", "revisionValue": PREVIOUS}]}]


def test_a_contract_migration_newer_than_the_target_refuses(
    cloudformation: Any, codedeploy: tuple[Any, Stubber], migrations: Path,
) -> None:
    client, stubber = codedeploy
    pipeline = LocalCodePipeline([("Succeeded", CURRENT), ("Succeeded", PREVIOUS)])
    _expect_deployments(stubber, [])
    with pytest.raises(RollbackRefusedError, match=r"0003_contract\.sql: a contract migration"):
        _plan(cloudformation, client, pipeline, migrations,
              applied=["0001_initial.sql", "0002_expand.sql", "0003_contract.sql"],
              shipped={PREVIOUS: ["0001_initial.sql", "0002_expand.sql"]})


def test_a_contract_the_target_already_shipped_does_not_refuse(migrations: Path) -> None:
    assert contract_blockers(["0001_initial.sql", "0003_contract.sql"],
                             ["0001_initial.sql", "0003_contract.sql"],
                             migrations_dir=migrations) == []


def test_an_applied_migration_unknown_to_this_checkout_refuses(migrations: Path) -> None:
    [blocker] = contract_blockers(["0009_from_elsewhere.sql"], [], migrations_dir=migrations)
    assert "cannot tell" in blocker


def test_nothing_to_return_to_refuses(
    cloudformation: Any, codedeploy: tuple[Any, Stubber], migrations: Path,
) -> None:
    client, stubber = codedeploy
    _expect_deployments(stubber, [])
    with pytest.raises(RollbackRefusedError, match="no earlier succeeded release"):
        plan_rollback(cloudformation=cloudformation, codedeploy=client,
                      codepipeline=LocalCodePipeline([("Succeeded", CURRENT)]),
                      stack_name=STACK, pipeline_name=PIPELINE,
                      applied_migrations=lambda _o: [], shipped_migrations=lambda _c: [],
                      migrations_dir=migrations)


def test_a_stack_without_the_rollback_outputs_refuses(
    codedeploy: tuple[Any, Stubber], migrations: Path,
) -> None:
    client, _stubber = codedeploy
    with mock_aws():
        cfn = boto3.client("cloudformation", region_name="eu-west-2")
        cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(
            {"Resources": {"Marker": {"Type": "AWS::SNS::Topic"}}}))
        with pytest.raises(RollbackRefusedError, match="has no output"):
            plan_rollback(cloudformation=cfn, codedeploy=client,
                          codepipeline=LocalCodePipeline([]), stack_name=STACK,
                          pipeline_name=PIPELINE, applied_migrations=lambda _o: [],
                          shipped_migrations=lambda _c: [], migrations_dir=migrations)


def test_applied_migrations_are_read_through_the_data_api_as_the_owner(
    postgres_owner_url: str, local_rds_data_client: Any,
) -> None:
    outputs = StageOutputs(application="a", deployment_group="g", cluster_arn=TEST_CLUSTER_ARN,
                           owner_secret_arn=TEST_OWNER_SECRET_ARN,
                           database_name=database_name(postgres_owner_url))
    applied = data_api_migrations(local_rds_data_client)(outputs)
    assert applied == [m.name for m in load_migrations(DEFAULT_MIGRATIONS_DIR)]
