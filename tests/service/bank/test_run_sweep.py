"""A sync left running by a process that died blocks its connection until the sweep fails
it; then the user's next sync runs. On PostgreSQL against the sandbox bank."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
from flask.testing import FlaskClient

from service.bootstrap import Services
from service.workflows.bank_sync import BANK_SYNC, bank_sync_input, default_window
from service.workflows.launcher import new_run
from service.workflows.store import RunStatus
from service.workflows.sweep import run_lease, sweep_runs
from tests.service.bank.conftest import AuthHeader, Bank, connect, family_of
from tests.service.conftest import settle_syncs


def test_a_run_whose_process_died_is_failed_by_the_sweep_then_the_user_syncs_again(
    api: FlaskClient, bank: Bank, bearer: AuthHeader, services: Services,
    postgres_owner_url: str,
) -> None:
    owner = bearer("o@example.com")
    fid = family_of(api, owner)
    cid = connect(api, bank, owner, fid)["connection"]["id"]
    # What `make dev` killed mid-sync leaves behind: a running run at its ingest step.
    now = datetime.now(UTC)
    dead = new_run(BANK_SYNC, bank_sync_input(cid, default_window(now.date())),
                   status=RunStatus.RUNNING, now=now)
    for step in dead.steps[:5]:
        step.status, step.attempts = RunStatus.SUCCEEDED, 1
    dead.step("ingest_transactions").status = RunStatus.RUNNING
    services.run_store.save(dead)
    syncs = f"/v1/families/{fid}/connections/{cid}/syncs"
    assert api.post(syncs, headers=owner).status_code == 409

    # Within its lease the sweep leaves it: its worker may only be slow.
    assert sweep_runs(services.database, services.sync_launcher,
                      definition=BANK_SYNC).abandoned == ()
    with psycopg.connect(postgres_owner_url) as db:
        db.execute("UPDATE sync_runs SET updated_at = now() - %s WHERE id = %s",
                   [run_lease(BANK_SYNC), dead.run_id])
    assert sweep_runs(services.database, services.sync_launcher,
                      definition=BANK_SYNC).abandoned == (dead.run_id,)

    failed = api.get(f"{syncs}/{dead.run_id}", headers=owner).json
    assert failed["status"] == "failed"
    assert failed["last_error"].startswith("AbandonedRunError: no progress since")
    steps = {s["name"]: s for s in failed["steps"]}
    assert steps["ingest_transactions"]["status"] == "failed"
    listed = api.get(f"/v1/families/{fid}/connections", headers=owner).json["items"]
    assert [c["status"] for c in listed] == ["active"]

    again = api.post(syncs, headers=owner)
    assert again.status_code == 202, again.json
    settle_syncs(api.application)
    assert api.get(f"{syncs}/{again.json['run_id']}", headers=owner).json["status"] == (
        "succeeded")
