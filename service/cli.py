"""Flask CLI commands of operations: ``db upgrade``, ``audit verify``, ``chat purge``,
``webhooks prune``, ``sync sweep``.

Laptop commands (``run-dev``, ``dev-token``) live in :mod:`devtools.cli`
(``python -m devtools ...``): they never ship in the Lambda asset.
"""

# Imports inside functions are deliberate: they keep the Lambda cold start cheap.
# ruff: noqa: PLC0415

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

db_cli = AppGroup("db", help="Database maintenance.")
audit_cli = AppGroup("audit", help="Audit trail tools.")
chat_cli = AppGroup("chat", help="Money assistant maintenance.")
sync_cli = AppGroup("sync", help="Bank sync maintenance.")
webhooks_cli = AppGroup("webhooks", help="Provider webhook maintenance.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations and the app role's grants, as the database owner.

    Aurora: ``DB_OWNER_SECRET_ARN``; a URL: ``DATABASE_OWNER_URL`` (else ``DATABASE_URL``);
    neither: the embedded PostgreSQL.
    """
    from service.db.migrations import owner_database, upgrade
    from service.db.port import DatabaseError
    from service.http.context import current_services

    services = current_services()
    settings = services.settings
    client = services.clients.rds_data
    if client is None and settings.db_cluster_arn and settings.rds_data_endpoint_url:
        import boto3

        client = boto3.client(
            "rds-data", endpoint_url=settings.rds_data_endpoint_url,
            region_name=settings.aws_region,
        )
    owner = owner_database(services.settings, rds_data_client=client)
    try:
        applied = upgrade(owner)
    except DatabaseError as exc:
        if "permission denied" not in str(exc):
            raise
        raise click.ClickException(
            "migrations must run as the database owner (DATABASE_OWNER_URL, or "
            f"DB_OWNER_SECRET_ARN on Aurora), not the application role: {exc}"
        ) from None
    finally:
        owner.close()
    click.echo(f"applied {len(applied)} migration(s)" + "".join(f"\n  {n}" for n in applied))


@audit_cli.command("verify")
def audit_verify() -> None:
    """Verify every audit chain against its keys, its head and the latest anchor.

    Exit status 1 when tampering is detected.
    """
    from service.audit import verify_chain
    from service.http.context import current_services

    services = current_services()
    anchor = services.anchor_store.latest()
    result = verify_chain(services.database, services.audit_keys, anchor=anchor)
    anchored = f"anchor of {result.anchored_at}" if result.anchored_at else "no anchor yet"
    click.echo(
        f"checked {result.entries_checked} entries in {result.families_checked} chain(s), "
        f"{anchored}: " + ("OK" if result.ok else f"{len(result.problems)} problem(s)")
    )
    for problem in result.problems:
        click.echo(f"  {problem}", err=True)
    if not result.ok:
        raise SystemExit(1)


@audit_cli.command("anchor")
def audit_anchor() -> None:
    """Copy every chain's last link to the anchor store (the schedule does this in AWS)."""
    from service.audit import take_anchor
    from service.http.context import current_services

    services = current_services()
    anchor, location = take_anchor(services.database, services.anchor_store)
    click.echo(f"anchored {len(anchor.heads)} chain(s) at {anchor.taken_at.isoformat()}: "
               f"{location}")


@chat_cli.command("purge")
def chat_purge() -> None:
    """Delete conversations past their retention (idempotent)."""
    from service.http.context import current_services
    from service.use_cases.chat import purge_expired_conversations

    deleted = purge_expired_conversations(current_services().database)
    click.echo(f"purged {deleted} expired conversation(s)")


@webhooks_cli.command("prune")
def webhooks_prune() -> None:
    """Delete processed webhooks' event ids older than their retention (idempotent).

    The worker's daily ``retention`` action does this (with ``chat purge``) in AWS.
    """
    from datetime import timedelta

    from service.http.context import current_services
    from service.use_cases.retention import prune_webhook_events
    from service.webhooks.retention import EVENT_ID_RETENTION

    services = current_services()
    window = timedelta(seconds=services.settings.webhook_max_age_seconds)
    deleted = prune_webhook_events(services.database, max_age=window)
    click.echo(f"pruned {deleted} webhook event id(s) received over "
               f"{EVENT_ID_RETENTION.days} days ago")


@sync_cli.command("sweep")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Run resumed syncs to their end before exiting (in-process launcher).")
def sync_sweep(wait: bool) -> None:
    """Fail bank-sync runs abandoned past their lease; resume deferred runs that are due.

    The schedule does this in AWS (the worker's ``sweep`` action); ``make dev`` every
    minute. Locally a resumed run executes in this process, so by default the command waits
    for it: exiting would cut it short (the next sweep would fail it as abandoned).
    """
    from service.http.context import current_services
    from service.workflows.bank_sync import BANK_SYNC
    from service.workflows.launcher import InProcessLauncher
    from service.workflows.sweep import sweep_runs

    services = current_services()
    launcher = services.sync_launcher
    result = sweep_runs(services.database, launcher, definition=BANK_SYNC)
    counts = result.counts()
    click.echo(f"failed {counts['abandoned']} abandoned run(s), resumed {counts['resumed']} "
               f"due run(s), {counts['launch_failed']} could not be resumed")
    if wait and result.resumed and isinstance(launcher, InProcessLauncher):
        launcher.wait_idle()
        for run_id in result.resumed:
            run = services.run_store.get(run_id)
            click.echo(f"  {run_id}: {run.status.value if run else 'gone'}")


def register_cli(app: Flask) -> None:
    """Attach the commands to ``app`` (``flask --app service <command>``)."""
    app.cli.add_command(db_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(chat_cli)
    app.cli.add_command(sync_cli)
    app.cli.add_command(webhooks_cli)
