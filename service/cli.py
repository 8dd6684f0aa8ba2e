"""Flask CLI commands: ``db upgrade``, ``dev-token``, ``run-dev``, ``audit verify``."""

# Imports inside functions are deliberate: they keep the Lambda cold start cheap.
# ruff: noqa: PLC0415

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

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


DEMO_OWNER = "demo.owner@example.com"


def _seed_demo() -> None:
    from service.demo import seed_demo
    from service.http.context import current_services

    services = current_services()
    seed_demo(services.database, services.keyring, signer=services.audit_signer,
              owner_email=DEMO_OWNER)


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
    seeded = not no_seed
    if seeded:
        _seed_demo()
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
