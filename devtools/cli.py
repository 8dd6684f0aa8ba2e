"""Laptop commands: ``python -m devtools run-dev | dev-token EMAIL | local-data-api``.

They build the service's own app (``service.create_app``, local settings from the
environment) and use its dependency container, so a dev token is checked by the same
verifier and the dev server serves the same routes as Lambda.
"""

# Imports inside functions are deliberate: each command loads only what it needs.
# ruff: noqa: PLC0415

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from flask.cli import FlaskGroup, with_appcontext

if TYPE_CHECKING:
    from flask import Flask

DEMO_OWNER = "demo.owner@example.com"


def _create_app() -> Flask:
    from service import create_app

    return create_app()


cli = FlaskGroup(
    name="python -m devtools",
    help=__doc__,
    create_app=_create_app,
    add_default_commands=False,
    load_dotenv=False,
)


@cli.command("dev-token")
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


@cli.command("run-dev")
@click.option("--port", default=5000, show_default=True)
@click.option("--no-seed", is_flag=True, help="Do not seed the demo family.")
@with_appcontext
def run_dev(port: int, no_seed: bool) -> None:
    """Serve on 127.0.0.1 with embedded PostgreSQL (or DATABASE_URL) and demo data.

    Migrations run as the database owner; the server runs as the application role.
    """
    from flask import current_app
    from werkzeug.serving import run_simple

    from devtools.demo import seed_demo
    from service.db.migrations import owner_database, upgrade
    from service.http.context import current_services

    services = current_services()
    if services.settings.is_lambda or services.dev_issuer is None:
        raise click.ClickException("run-dev is for local runs with the dev issuer only")
    owner = owner_database(services.settings)
    try:
        applied = upgrade(owner)
    finally:
        owner.close()
    click.echo(f"database ready ({len(applied)} migration(s) applied)")
    if not no_seed:
        seed_demo(services.database, services.keyring, owner_email=DEMO_OWNER)
    token = services.dev_issuer.issue(DEMO_OWNER, expires_in=12 * 3600)
    base = f"http://127.0.0.1:{port}"
    click.echo(
        "\n".join(
            [
                "",
                f"API docs:     {base}/docs   (OpenAPI: {base}/openapi.json)",
                "Get a token:  python -m devtools dev-token EMAIL",
                f"Demo owner token ({DEMO_OWNER}{', no demo data' if no_seed else ''}):",
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
    # Flask.run refuses to start under the `flask` CLI; serve with Werkzeug directly.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_simple("127.0.0.1", port, app, use_reloader=False, threaded=True)


@cli.command("local-data-api", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def local_data_api(args: tuple[str, ...]) -> None:
    """Serve the local RDS Data API (options: ``python -m devtools.local_data_api -h``)."""
    from devtools.local_data_api.__main__ import main

    raise SystemExit(main(list(args)))
