"""A sync left running by a process that died blocks its connection until the sweep fails
it; then the user's next sync runs. On PostgreSQL against the sandbox bank."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from flask.testing import FlaskClient

from devtools.cli import run_sweep_job
from service.bootstrap import Services
from service.workflows.bank_sync import BANK_SYNC, bank_sync_input, default_window
from service.workflows.launcher import new_run
from service.workflows.store import RunStatus
from service.workflows.sweep import run_lease, sweep_runs
from tests.service.bank.conftest import (
    AuthHeader,
    Bank,
    app_client,
    bearer_for,
    connect,
    family_of,
    outcomes,
)
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


def test_the_sweep_command_resumes_a_due_run_to_its_end(
    api: FlaskClient, bank: Bank, bearer: AuthHeader, services: Services,
    postgres_owner_url: str,
) -> None:
    """``flask --app service sync sweep``: a run the bank deferred by two hours, with no
    webhook to resume it, continues once its time has come."""
    owner = bearer("o@example.com")
    fid = family_of(api, owner)
    cid = connect(api, bank, owner, fid)["connection"]["id"]
    for conn in bank.bank.connections():
        conn.quirks.rate_limit_next, conn.quirks.retry_after = 1, 7200
    syncs = f"/v1/families/{fid}/connections/{cid}/syncs"
    started = api.post(syncs, headers=owner)
    assert started.status_code == 202, started.json
    settle_syncs(api.application)
    run_id = started.json["run_id"]
    assert api.get(f"{syncs}/{run_id}", headers=owner).json["status"] == "deferred"
    runner = api.application.test_cli_runner()

    early = runner.invoke(args=["sync", "sweep"])
    assert early.exit_code == 0, early.output
    assert "resumed 0 due run(s)" in early.output
    with psycopg.connect(postgres_owner_url) as db:
        db.execute("UPDATE sync_runs SET resume_at = now() - interval '1 second' "
                   "WHERE id = %s", [run_id])
    due = runner.invoke(args=["sync", "sweep"])

    assert due.exit_code == 0, due.output
    assert "failed 0 abandoned run(s), resumed 1 due run(s), 0 could not be resumed" in (
        due.output)
    assert f"{run_id}: succeeded" in due.output
    assert api.get(f"{syncs}/{run_id}", headers=owner).json["status"] == "succeeded"


def test_make_dev_s_sweep_job_reports_what_it_did(
    services: Services, capsys: pytest.CaptureFixture[str], postgres_owner_url: str,
    api: FlaskClient, bank: Bank, bearer: AuthHeader,
) -> None:
    owner = bearer("o@example.com")
    cid = connect(api, bank, owner, family_of(api, owner))["connection"]["id"]
    now = datetime.now(UTC)
    dead = new_run(BANK_SYNC, bank_sync_input(cid, default_window(now.date())),
                   status=RunStatus.PENDING, now=now)
    services.run_store.save(dead)
    job = run_sweep_job(services)

    job()
    assert "run sweep" not in capsys.readouterr().out  # nothing to do, nothing said
    with psycopg.connect(postgres_owner_url) as db:
        db.execute("UPDATE sync_runs SET updated_at = now() - %s WHERE id = %s",
                   [run_lease(BANK_SYNC), dead.run_id])
    job()
    said = capsys.readouterr().out.splitlines()
    assert "run sweep: 1 abandoned, 0 resumed, 0 launch failed" in said


def test_a_parked_run_whose_webhook_never_comes_is_resumed_by_the_sweep_when_due(
    api: FlaskClient, bank: Bank, bearer: AuthHeader, services: Services,
    postgres_owner_url: str,
) -> None:
    """The bank is slow and sends no webhook (none is configured): the run parks until its
    ``resume_at``; the sweep then resumes it and it ingests."""
    bank.bank.default_quirks.polls_before_ready = 10**6
    owner = bearer("o@example.com")
    fid = family_of(api, owner)
    done = connect(api, bank, owner, fid)
    run_path = f"/v1/families/{fid}/connections/{done['connection']['id']}/syncs/" + (
        done["sync_run_id"])
    parked = api.get(run_path, headers=owner).json
    assert parked["status"] == "deferred" and parked["resume_at"], parked
    for conn in bank.bank.connections():  # the bank has finished preparing, silently
        conn.quirks.polls_before_ready = 0
    assert sweep_runs(services.database, services.sync_launcher,
                      definition=BANK_SYNC).resumed == ()  # not due yet

    with psycopg.connect(postgres_owner_url) as db:
        db.execute("UPDATE sync_runs SET resume_at = now() - interval '1 second' "
                   "WHERE id = %s", [done["sync_run_id"]])
    assert sweep_runs(services.database, services.sync_launcher,
                      definition=BANK_SYNC).resumed == (done["sync_run_id"],)
    settle_syncs(api.application)

    finished = api.get(run_path, headers=owner).json
    assert finished["status"] == "succeeded", finished
    assert outcomes(finished)["inserted"] > 0


def test_the_sweep_through_the_data_api_adapter(
    data_api_services: Services, bank: Bank, postgres_owner_url: str,
) -> None:
    """As in Lambda: the look-ups, locks and writes through the Data API."""
    api = app_client(data_api_services)
    owner = bearer_for(data_api_services)("o@example.com")
    cid = connect(api, bank, owner, family_of(api, owner))["connection"]["id"]
    now = datetime.now(UTC)
    stuck = new_run(BANK_SYNC, bank_sync_input(cid, default_window(now.date())),
                    status=RunStatus.RUNNING, now=now)
    stuck.steps[0].status = RunStatus.RUNNING
    data_api_services.run_store.save(stuck)
    with psycopg.connect(postgres_owner_url) as db:
        db.execute("UPDATE sync_runs SET updated_at = now() - %s WHERE id = %s",
                   [run_lease(BANK_SYNC) * 2, stuck.run_id])

    swept = sweep_runs(data_api_services.database, data_api_services.sync_launcher,
                       definition=BANK_SYNC)

    assert swept.abandoned == (stuck.run_id,)
    run = data_api_services.run_store.get(stuck.run_id)
    assert run is not None and run.status is RunStatus.FAILED
    assert run.steps[0].status is RunStatus.FAILED
    assert run.last_error is not None and run.last_error.startswith("AbandonedRunError")
