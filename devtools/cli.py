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
    from collections.abc import Callable
    from uuid import UUID

    from flask import Flask

    from service.bootstrap import Services

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
@click.option("--bank-port", default=5001, show_default=True,
              help="Port of the local sandbox bank (TrueLayer Data API v3 wire format).")
@click.option("--bank-webhooks/--no-bank-webhooks", default=True, show_default=True,
              help="Let the sandbox bank send its signed webhooks to this API.")
@click.option("--no-seed", is_flag=True, help="Do not seed the demo family.")
@click.option("--sweep-interval", default=60, show_default=True, type=click.IntRange(min=1),
              help="Seconds between run sweeps (abandoned runs failed, due runs resumed).")
@with_appcontext
def run_dev(port: int, bank_port: int, bank_webhooks: bool, no_seed: bool,
            sweep_interval: int) -> None:
    """Serve on 127.0.0.1 with embedded PostgreSQL (or DATABASE_URL), demo data, the sandbox
    bank and the interactive API docs; sweep sync runs every minute.

    Migrations run as the database owner; the server runs as the application role. The
    sandbox bank's webhook key set is trusted by this local API only. Syncs run on
    background threads of this process; the sweep (what the schedule does in AWS) fails
    those a killed ``make dev`` left unfinished and resumes deferred ones when due.
    """
    from dataclasses import replace

    from werkzeug.serving import run_simple

    from devtools.docs_ui import InteractiveDocs
    from devtools.periodic import Periodic
    from devtools.sandbox_bank import SandboxBank, SandboxBankServer
    from service import create_app
    from service.http.context import current_services

    settings = current_services().settings
    if settings.is_lambda or not settings.dev_issuer:
        raise click.ClickException("run-dev is for local runs with the dev issuer only")
    bank = SandboxBankServer(SandboxBank(), port=bank_port).start()
    base = f"http://127.0.0.1:{port}"
    if bank_webhooks:
        bank.bank.webhooks.url = f"{base}/v1/webhooks/truelayer"
    # The app served: local settings pointed at the sandbox bank, its jku allow-listed.
    app = create_app(replace(settings, bank_base_url=bank.base_url,
                             truelayer_jku_allowlist=(*settings.truelayer_jku_allowlist,
                                                      bank.jku)))
    family_id = _prepare_database(app, seed=not no_seed)
    services = app.extensions["service.services"]
    token = services.dev_issuer.issue(DEMO_OWNER, expires_in=12 * 3600)
    click.echo(ready_message(base=base, bank_url=bank.base_url, token=token,
                             family_id=family_id))
    sweeper = Periodic(run_sweep_job(services), interval=sweep_interval, name="run-sweep")
    sweeper.start()
    try:
        run_simple("127.0.0.1", port, InteractiveDocs(app), use_reloader=False, threaded=True)
    finally:
        sweeper.stop(timeout=5)
        bank.stop()


def run_sweep_job(services: Services) -> Callable[[], None]:
    """One run sweep of bank syncs on ``services``, echoing what it did (if anything)."""
    from service.workflows.bank_sync import BANK_SYNC
    from service.workflows.sweep import sweep_runs

    def sweep() -> None:
        counts = sweep_runs(services.database, services.sync_launcher,
                            definition=BANK_SYNC).counts()
        if any(counts.values()):
            click.echo("run sweep: " + ", ".join(f"{n} {what.replace('_', ' ')}"
                                                 for what, n in counts.items()))

    return sweep


def _prepare_database(app: Flask, *, seed: bool) -> UUID | None:
    """Migrate as the owner and seed the demo family; returns its id (``None`` unseeded)."""
    from devtools.demo import seed_demo
    from service.db.migrations import owner_database, upgrade

    services = app.extensions["service.services"]
    owner = owner_database(services.settings)
    try:
        applied = upgrade(owner)
    finally:
        owner.close()
    click.echo(f"database ready ({len(applied)} migration(s) applied)")
    if not seed:
        return None
    return seed_demo(services.database, services.keyring, signer=services.audit_signer,
                     owner_email=DEMO_OWNER)


def ready_message(*, base: str, bank_url: str, token: str, family_id: UUID | None) -> str:
    """What ``make dev`` prints once serving: links, the token and ready-to-paste curls."""
    lines = [
        "",
        f"API docs:     {base}/docs   (interactive; OpenAPI: {base}/openapi.json)",
        f"Sandbox bank: {bank_url}   (TrueLayer Data API v3 wire format, signs its webhooks)",
        "Get a token:  python -m devtools dev-token EMAIL",
        f"Demo owner token ({DEMO_OWNER}{', no demo data' if family_id is None else ''}):",
        f"  export TOKEN={token}",
        "Try:",
        f"  curl -s {base}/health",
        f'  curl -s -H "Authorization: Bearer $TOKEN" {base}/v1/me',
    ]
    if family_id is not None:
        family = f"{base}/v1/families/{family_id}"
        lines += [
            f"  export FID={family_id}",
            f'  curl -s -H "Authorization: Bearer $TOKEN" {family}/accounts',
            f'  curl -s -H "Authorization: Bearer $TOKEN" "{family}/transactions?limit=20"',
            "Connect the sandbox bank (open the returned link in a browser):",
            f'  curl -s -X POST -H "Authorization: Bearer $TOKEN" '
            f"-H 'Content-Type: application/json' -d '{{\"provider\": \"truelayer\"}}' "
            f"{family}/connections",
        ]
    return "\n".join([*lines, ""])


@cli.command("local-data-api", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def local_data_api(args: tuple[str, ...]) -> None:
    """Serve the local RDS Data API (options: ``python -m devtools.local_data_api -h``)."""
    from devtools.local_data_api.__main__ import main

    raise SystemExit(main(list(args)))
