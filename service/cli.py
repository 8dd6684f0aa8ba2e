"""Flask CLI commands: ``db upgrade``, ``dev-token``, ``run-dev``, ``audit verify``."""

# Imports inside functions are deliberate: they keep the Lambda cold start cheap.
# ruff: noqa: PLC0415

from __future__ import annotations

import importlib

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

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


@click.command("dev-token")
@click.argument("email")
@click.option("--expires-in", default=3600, show_default=True, help="Lifetime in seconds.")
@with_appcontext
def dev_token(email: str, expires_in: int) -> None:
    """Print a bearer token from the local dev issuer for EMAIL."""
    from service.http.context import current_services

    issuer = current_services().dev_issuer
    if issuer is None:
        raise click.ClickException("the dev issuer is disabled (DEV_ISSUER=false or Lambda)")
    click.echo(issuer.issue(email, expires_in=expires_in))


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


DEMO_OWNER = "demo.owner@example.com"


def _seed_demo() -> bool:
    from service.http.context import current_services

    try:
        demo = importlib.import_module("devtools.demo")  # engineer E2's module
    except ModuleNotFoundError:
        click.echo("devtools.demo is not available yet: starting without demo data", err=True)
        return False
    services = current_services()
    demo.seed_demo(services.database, services.keyring, owner_email=DEMO_OWNER)
    return True


@click.command("run-dev")
@click.option("--port", default=5000, show_default=True)
@click.option("--no-seed", is_flag=True, help="Do not seed the demo family.")
@with_appcontext
def run_dev(port: int, no_seed: bool) -> None:
    """Serve on 127.0.0.1 with embedded PostgreSQL (or DATABASE_URL) and demo data."""
    from flask import current_app

    from service.db.migrations import upgrade
    from service.http.context import current_services

    services = current_services()
    if services.settings.is_lambda or services.dev_issuer is None:
        raise click.ClickException("run-dev is for local runs with the dev issuer only")
    applied = upgrade(services.database)
    click.echo(f"database ready ({len(applied)} migration(s) applied)")
    seeded = not no_seed and _seed_demo()
    token = services.dev_issuer.issue(DEMO_OWNER, expires_in=12 * 3600)
    base = f"http://127.0.0.1:{port}"
    click.echo(
        "\n".join(
            [
                "",
                f"API docs:     {base}/docs   (OpenAPI: {base}/openapi.json)",
                "Get a token:  flask --app service dev-token EMAIL",
                f"Demo owner token ({DEMO_OWNER}{'' if seeded else ', no demo data'}):",
                f"  export TOKEN={token}",
                "Try:",
                f"  curl -s {base}/health",
                f'  curl -s -H "Authorization: Bearer $TOKEN" {base}/v1/me',
                f'  curl -s -H "Authorization: Bearer $TOKEN" {base}/v1/families/<fid>/accounts',
                f'  curl -s -H "Authorization: Bearer $TOKEN" \\\n'
                f'       "{base}/v1/families/<fid>/transactions?limit=20"',
                "",
            ]
        )
    )
    from werkzeug.serving import run_simple

    # Flask.run refuses to start under the `flask` CLI; serve with Werkzeug directly.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_simple("127.0.0.1", port, app, use_reloader=False, threaded=True)


def register_cli(app: Flask) -> None:
    """Attach the commands to ``app`` (``flask --app service <command>``)."""
    app.cli.add_command(db_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(dev_token)
    app.cli.add_command(run_dev)
