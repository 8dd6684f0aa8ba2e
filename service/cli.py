"""Flask CLI commands: ``db upgrade``, ``dev-token``, ``run-dev``, ``audit verify``."""

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
    """Apply pending migrations from service/migrations."""
    from service.db.migrations import upgrade
    from service.http.context import current_services

    applied = upgrade(current_services().database)
    click.echo(f"applied {len(applied)} migration(s)" + "".join(f"\n  {n}" for n in applied))


@click.command("dev-token")
@click.argument("email")
@click.option("--expires-in", default=3600, show_default=True, help="Lifetime in seconds.")
def dev_token(email: str, expires_in: int) -> None:
    """Print a bearer token from the local dev issuer for EMAIL."""
    from service.http.context import current_services

    issuer = current_services().dev_issuer
    if issuer is None:
        raise click.ClickException("the dev issuer is disabled (DEV_ISSUER=false or Lambda)")
    click.echo(issuer.issue(email, expires_in=expires_in))


@audit_cli.command("verify")
def audit_verify() -> None:
    """Verify the audit log's hash chain; exit status 1 when tampering is detected."""
    from service.audit import verify_chain
    from service.http.context import current_services

    result = verify_chain(current_services().database)
    click.echo(str(result))
    if not getattr(result, "ok", False):
        raise SystemExit(1)


def register_cli(app: Flask) -> None:
    """Attach the commands to ``app`` (``flask --app service <command>``)."""
    app.cli.add_command(db_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(dev_token)
