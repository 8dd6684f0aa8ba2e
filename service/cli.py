"""Flask CLI commands of operations: ``db upgrade`` and ``audit verify``.

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
    client = None
    if services.settings.db_cluster_arn and services.settings.rds_data_endpoint_url:
        client = services.aws_client(
            "rds-data", endpoint_url=services.settings.rds_data_endpoint_url
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
    """Verify the audit log's hash chains; exit status 1 when tampering is detected."""
    from service.audit import verify_chain
    from service.http.context import current_services

    result = verify_chain(current_services().database)
    click.echo(
        f"checked {result.entries_checked} entries in {result.families_checked} chain(s): "
        + ("OK" if result.ok else f"{len(result.problems)} problem(s)")
    )
    for problem in result.problems:
        click.echo(f"  {problem}", err=True)
    if not result.ok:
        raise SystemExit(1)


def register_cli(app: Flask) -> None:
    """Attach the commands to ``app`` (``flask --app service <command>``)."""
    app.cli.add_command(db_cli)
    app.cli.add_command(audit_cli)
