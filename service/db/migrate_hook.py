"""Lambda entry point that applies pending migrations before a deploy shifts traffic.

Invocations
    *CodeDeploy ``BeforeAllowTraffic`` hook*: the event carries ``DeploymentId`` and
    ``LifecycleEventHookExecutionId``. The migrations run, then the outcome is
    reported with ``PutLifecycleEventHookExecutionStatus``: CodeDeploy shifts no
    alias until it hears ``Succeeded``, and ``Failed`` stops the deployment and
    rolls it back. A failed migration is reported and *not* re-raised: CodeDeploy
    has its answer, and a Lambda retry would re-report an execution that is already
    complete (which CodeDeploy rejects). Only a failure to report raises, so the
    invocation is retried; if it never gets through, the hook times out and
    CodeDeploy fails the deployment anyway.

    *Direct* (a pipeline step, an operator): any other event. The result is
    returned, and a failed migration raises.

Identity
    The Data API is called with the *owner* role's secret (``DB_OWNER_SECRET_ARN``, read by
    :meth:`service.settings.Settings.for_migrations`), never the application role's:
    only this function may change the schema.

Safety
    :func:`service.db.migrations.upgrade` serialises runners on a transaction-scoped
    advisory lock and re-reads the history under it, so running the hook twice, or
    two hooks at once (the API's and the worker's deployment), applies each file
    exactly once; a file that fails leaves no trace and is retried by the next run.
"""

# Imports inside functions are deliberate: they keep the Lambda cold start cheap.
# ruff: noqa: PLC0415

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.settings import Settings, SettingsError

if TYPE_CHECKING:
    from service.db.port import Database

SUCCEEDED = "Succeeded"
FAILED = "Failed"

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HookTarget:
    """The CodeDeploy lifecycle hook execution an invocation answers."""

    deployment_id: str
    execution_id: str

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> HookTarget | None:
        """The hook execution named by a CodeDeploy event, or ``None`` for a direct call."""
        deployment_id = event.get("DeploymentId")
        execution_id = event.get("LifecycleEventHookExecutionId")
        if isinstance(deployment_id, str) and isinstance(execution_id, str):
            return cls(deployment_id, execution_id)
        return None


def _applied_names(database: Database) -> list[str]:
    from service.db.migrations import MIGRATIONS_TABLE

    rows = database.fetch_all(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY name")  # noqa: S608
    return [str(row["name"]) for row in rows]


def migrate(database: Database, *, migrations_dir: Path | None = None) -> dict[str, Any]:
    """Apply pending migrations; return what this run applied and what the database holds.

    ``unknown`` lists applied migrations that this release does not ship (the
    database is ahead of the code, e.g. after a rollback): reported, not an error,
    because expand migrations keep the previous release working.
    """
    from service.db.migrations import DEFAULT_MIGRATIONS_DIR, load_migrations, upgrade

    folder = migrations_dir or DEFAULT_MIGRATIONS_DIR
    applied_now = upgrade(database, folder)
    shipped = {migration.name for migration in load_migrations(folder)}
    recorded = _applied_names(database)
    return {
        "applied": applied_now,
        "recorded": len(recorded),
        "unknown": [name for name in recorded if name not in shipped],
    }


def _report(codedeploy: Any, target: HookTarget, status: str) -> None:
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=target.deployment_id,
        lifecycleEventHookExecutionId=target.execution_id,
        status=status,
    )


def _failed(error: Exception) -> dict[str, Any]:
    return {"status": FAILED, "error": f"{type(error).__name__}: {error}"}


def handle(
    event: Mapping[str, Any],
    *,
    database: Database,
    codedeploy: Any,
    migrations_dir: Path | None = None,
) -> dict[str, Any]:
    """Run the migrations for one invocation and, for a CodeDeploy hook, report the outcome.

    Parameters
    ----------
    event
        The Lambda event (a CodeDeploy hook event, or anything else for a direct run).
    database
        Either adapter, connected as the owner role.
    codedeploy
        A boto3 ``codedeploy`` client; used only for hook events.
    migrations_dir
        Folder of migration files; defaults to ``service/migrations``.

    Raises
    ------
    Exception
        For a direct run, whatever the migration raised; for a hook, only a failure to
        report the status.
    """
    target = HookTarget.from_event(event)
    try:
        result = {"status": SUCCEEDED, **migrate(database, migrations_dir=migrations_dir)}
        logger.info("migrations applied: %s", result["applied"] or "none pending")
    except Exception as error:
        if target is None:
            raise
        logger.exception("migrations failed; reporting the hook as failed")
        result = _failed(error)
    if target is not None:
        _report(codedeploy, target, result["status"])
    return result


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: the owner-role Data API database and a CodeDeploy client.

    A hook whose function is misconfigured (settings missing) is reported ``Failed``
    at once rather than left for CodeDeploy's hour-long hook timeout.
    """
    import boto3

    from service.db.migrations import owner_database

    codedeploy = boto3.client("codedeploy")
    try:
        settings = Settings.for_migrations()
        if not settings.db_cluster_arn:
            raise SettingsError("migrations are missing settings: DB_CLUSTER_ARN")
    except SettingsError as error:
        target = HookTarget.from_event(event)
        if target is None:
            raise
        logger.exception("migration hook is misconfigured; reporting the hook as failed")
        _report(codedeploy, target, FAILED)
        return _failed(error)
    rds_data = boto3.client("rds-data", endpoint_url=settings.rds_data_endpoint_url)
    database = owner_database(settings, rds_data_client=rds_data)
    try:
        return handle(event, database=database, codedeploy=codedeploy)
    finally:
        database.close()
