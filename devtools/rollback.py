"""``make rollback STAGE=...``: roll a stage back through CodeDeploy or the pipeline, never by hand.

Steps, in order:

1. **Read the stage** -- the Api stack's outputs name the API's CodeDeploy application
   and deployment group and the database (cluster, owner secret, name).
2. **Find the releases** -- the pipeline's succeeded executions, newest first; each
   carries the commit it deployed. With a deployment in flight, the release to return
   to is the newest succeeded one; otherwise the one before it.
3. **Refuse on contract** -- the migrations the database has applied that the release
   to return to does not ship are read from the current tree; if any carries a
   ``-- contract:`` marker (:func:`devtools.migration_safety.read_marker`), or is not
   in the tree at all, the rollback is refused: that release would run against a
   schema it no longer fits. Fix forward instead.
4. **Act** -- a deployment in flight is stopped with automatic rollback (CodeDeploy
   moves the alias back itself); otherwise the pipeline is started on the previous
   release's commit (``sourceRevisions``), so CloudFormation redeploys that release
   with every check, the smoke test and the approval. The alias is never moved
   directly: CloudFormation would see drift and the next deploy would fight it.

Every client is injectable; :func:`main` builds boto3 clients in the stage's region.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.migration_safety import read_marker

__all__ = [
    "IN_FLIGHT_STATUSES",
    "RollbackPlan",
    "RollbackRefusedError",
    "StageOutputs",
    "contract_blockers",
    "execute",
    "main",
    "plan_rollback",
]

ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS_DIR = ROOT / "service" / "migrations"
IN_FLIGHT_STATUSES = ("Created", "Queued", "InProgress", "Baking", "Ready")


class RollbackRefusedError(RuntimeError):
    """The rollback would be unsafe or has nothing to return to; the message says why."""


@dataclass(frozen=True, slots=True)
class StageOutputs:
    """What the Api stack of a stage tells the rollback."""

    application: str
    deployment_group: str
    cluster_arn: str
    owner_secret_arn: str
    database_name: str

    @classmethod
    def read(cls, cloudformation: Any, stack_name: str) -> StageOutputs:
        """From ``DescribeStacks`` of ``stack_name``."""
        [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
        values = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        try:
            return cls(values["DeploymentApplication"], values["DeploymentGroup"],
                       values["DatabaseClusterArn"], values["DatabaseOwnerSecretArn"],
                       values["DatabaseName"])
        except KeyError as missing:
            raise RollbackRefusedError(f"{stack_name} has no output {missing}; deploy the "
                                  "current pipeline first") from None


@dataclass(frozen=True, slots=True)
class RollbackPlan:
    """What :func:`execute` will do."""

    action: str  # "stop-deployment" or "redeploy"
    target_commit: str
    deployment_id: str | None = None

    def describe(self) -> str:
        if self.action == "stop-deployment":
            return (f"stop CodeDeploy deployment {self.deployment_id} with rollback "
                    f"(back to release {self.target_commit[:12]})")
        return f"start the pipeline on the previous release {self.target_commit[:12]}"


def _succeeded_commits(codepipeline: Any, pipeline_name: str) -> list[str]:
    """Commits of the succeeded executions, newest first (the API's order)."""
    commits: list[str] = []
    token: dict[str, str] = {}
    while True:
        page = codepipeline.list_pipeline_executions(pipelineName=pipeline_name, **token)
        for execution in page["pipelineExecutionSummaries"]:
            revisions = execution.get("sourceRevisions") or []
            if execution.get("status") == "Succeeded" and revisions:
                commits.append(str(revisions[0]["revisionId"]))
        if not page.get("nextToken"):
            return commits
        token = {"nextToken": page["nextToken"]}


def _in_flight(codedeploy: Any, outputs: StageOutputs) -> str | None:
    deployments = codedeploy.list_deployments(
        applicationName=outputs.application, deploymentGroupName=outputs.deployment_group,
        includeOnlyStatuses=list(IN_FLIGHT_STATUSES))["deployments"]
    return str(deployments[0]) if deployments else None


def contract_blockers(applied: Iterable[str], shipped_by_target: Iterable[str], *,
                      migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """Applied migrations the target release lacks that make returning to it unsafe."""
    shipped = set(shipped_by_target)
    blockers = []
    for name in applied:
        if name in shipped:
            continue
        path = migrations_dir / name
        if not path.exists():
            blockers.append(f"{name}: applied, but in neither the target release nor this "
                            "checkout (cannot tell whether it is a contract)")
            continue
        marker, _errors = read_marker(path.read_text())
        if marker is not None:
            blockers.append(f"{name}: a contract migration (reviewed by {marker.reviewer} "
                            f"on {marker.reviewed_on.isoformat()}) newer than the target")
    return blockers


def plan_rollback(
    *, cloudformation: Any, codedeploy: Any, codepipeline: Any, stack_name: str,
    pipeline_name: str, applied_migrations: Callable[[StageOutputs], list[str]],
    shipped_migrations: Callable[[str], list[str]], migrations_dir: Path = MIGRATIONS_DIR,
) -> RollbackPlan:
    """Decide the rollback, or raise :class:`RollbackRefusedError`."""
    outputs = StageOutputs.read(cloudformation, stack_name)
    deployment = _in_flight(codedeploy, outputs)
    commits = _succeeded_commits(codepipeline, pipeline_name)
    wanted = 0 if deployment else 1
    if len(commits) <= wanted:
        raise RollbackRefusedError(f"the pipeline {pipeline_name} has no earlier succeeded "
                              "release to return to")
    target = commits[wanted]
    blockers = contract_blockers(applied_migrations(outputs), shipped_migrations(target),
                                 migrations_dir=migrations_dir)
    if blockers:
        raise RollbackRefusedError(
            f"refusing to return to {target[:12]}; fix forward instead:\n  "
            + "\n  ".join(blockers))
    if deployment:
        return RollbackPlan("stop-deployment", target, deployment)
    return RollbackPlan("redeploy", target)


def execute(plan: RollbackPlan, *, codedeploy: Any, codepipeline: Any, pipeline_name: str,
            source_action: str) -> str:
    """Carry out ``plan``; return what was started (a deployment or execution id)."""
    if plan.action == "stop-deployment":
        assert plan.deployment_id is not None
        codedeploy.stop_deployment(deploymentId=plan.deployment_id, autoRollbackEnabled=True)
        return plan.deployment_id
    started = codepipeline.start_pipeline_execution(
        name=pipeline_name,
        sourceRevisions=[{"actionName": source_action, "revisionType": "COMMIT_ID",
                          "revisionValue": plan.target_commit}])
    return str(started["pipelineExecutionId"])


def git_migrations(commit: str) -> list[str]:
    """Migration file names in ``commit`` (needs the commit in this clone: ``git fetch``)."""
    listing = subprocess.run(  # noqa: S603
        ["git", "ls-tree", "--name-only", f"{commit}:service/migrations"],  # noqa: S607
        cwd=ROOT, capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        raise RollbackRefusedError(f"commit {commit[:12]} is not in this clone: {listing.stderr}")
    return [name for name in listing.stdout.split() if name.endswith(".sql")]


def data_api_migrations(rds_data: Any) -> Callable[[StageOutputs], list[str]]:
    """Applied migration names, read through the Data API as the owner role."""
    def read(outputs: StageOutputs) -> list[str]:
        from service.db import connect  # noqa: PLC0415
        from service.db.migrations import MIGRATIONS_TABLE  # noqa: PLC0415

        database = connect(cluster_arn=outputs.cluster_arn,
                           secret_arn=outputs.owner_secret_arn,
                           database_name=outputs.database_name, rds_data_client=rds_data)
        try:
            rows = database.fetch_all(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY name")  # noqa: S608
        finally:
            database.close()
        return [str(row["name"]) for row in rows]
    return read


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m devtools.rollback --stage prod [--yes]``."""
    parser = argparse.ArgumentParser(prog="python -m devtools.rollback",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--yes", action="store_true", help="act without asking")
    args = parser.parse_args(argv)

    import boto3  # noqa: PLC0415

    from cdk_app.config import load_pipeline_config, load_stage_config  # noqa: PLC0415

    stage = load_stage_config(args.stage)
    pipeline = load_pipeline_config()
    region = stage.region
    codedeploy = boto3.client("codedeploy", region_name=region)
    codepipeline = boto3.client("codepipeline", region_name=pipeline.region)
    try:
        plan = plan_rollback(
            cloudformation=boto3.client("cloudformation", region_name=region),
            codedeploy=codedeploy,
            codepipeline=codepipeline, stack_name=f"{args.stage}-Api",
            pipeline_name=pipeline.pipeline_name,
            applied_migrations=data_api_migrations(boto3.client("rds-data", region_name=region)),
            shipped_migrations=git_migrations)
    except RollbackRefusedError as refused:
        print(f"Rollback refused: {refused}", file=sys.stderr)
        return 2
    print(f"Plan: {plan.describe()}")
    if not args.yes and input("Proceed? [y/N] ").strip().lower() != "y":
        print("Nothing done.")
        return 1
    started = execute(plan, codedeploy=codedeploy, codepipeline=codepipeline,
                      pipeline_name=pipeline.pipeline_name,
                      source_action=pipeline.repository.replace("/", "_"))
    print(f"Started: {started}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
