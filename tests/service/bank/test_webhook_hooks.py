"""TrueLayer webhooks wired to the bank sync, on PostgreSQL against the signing sandbox bank.

The app's own composition root wires the hooks (nothing injected but the bank and a launcher
that records what it was asked to resume before doing it). The sandbox bank signs each
delivery; the service verifies it against the bank's key set, as it would TrueLayer's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient

from devtools.sandbox_bank import exceptions as bank_errors
from devtools.sandbox_bank.models import Call
from service import create_app
from service.banking.port import ProviderRegistry
from service.bootstrap import Services
from service.db.port import Database
from service.settings import Settings
from service.workflows.bank_sync import BANK_SYNC
from service.workflows.launcher import InProcessLauncher
from service.workflows.runner import InProcessRunner
from service.workflows.store import RunStatus
from service.workflows.sweep import SweepResult, sweep_runs
from tests.fixtures.concurrency import run_at_once
from tests.fixtures.postgres import database_name, make_data_api_database
from tests.service.bank.conftest import AuthHeader, Bank, connect, family_of

PATH = "/v1/webhooks/truelayer"
BOTH_DATABASES = pytest.mark.parametrize("wired", ["postgres", "data_api"], indirect=True)


class RecordingLauncher(InProcessLauncher):
    """The in-process launcher, recording which runs it was started or resumed for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started: list[str] = []
        self.resumed: list[str] = []
        self._calls = threading.Lock()

    def start(self, run_input: Any) -> str:
        run_id = super().start(run_input)
        with self._calls:
            self.started.append(run_id)
        return run_id

    def resume_waiting(self, run_id: str) -> None:
        with self._calls:
            self.resumed.append(run_id)
        super().resume_waiting(run_id)


@dataclass
class Wired:
    services: Services
    app: Flask
    api: FlaskClient
    launcher: RecordingLauncher
    bank: Bank
    owner_url: str

    def deliver(self, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Sign ``event`` as the bank does and post it (a fresh client: thread-safe)."""
        signed = self.bank.bank.webhooks.signer.sign(PATH, event)
        answer = self.app.test_client().post(PATH, headers=signed.headers, data=signed.body)
        return answer.status_code, dict(answer.get_json() or {})

    def run(self, run_id: str) -> Any:
        run = self.services.run_store.get(run_id)
        assert run is not None
        return run

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.owner_url) as db:
            return list(db.execute(query, params).fetchall())


@pytest.fixture
def wired(request: pytest.FixtureRequest, bank_settings: Settings, bank: Bank,
          postgres_owner_url: str) -> Iterator[Wired]:
    """The app on PostgreSQL directly, or (``indirect`` param ``"data_api"``) through the
    Data API adapter and the local Data API, as in Lambda."""
    settings = dataclasses.replace(bank_settings, truelayer_jku_allowlist=(bank.server.jku,))
    database: Database | None = None
    if getattr(request, "param", "postgres") == "data_api":
        server = request.getfixturevalue("local_data_api_server")
        name = database_name(postgres_owner_url)
        database = make_data_api_database(request.getfixturevalue("local_rds_data_client"),
                                          name)
        request.addfinalizer(lambda: server.release_database(name))
    # The steps come from a first container; the app's container shares its database and
    # bank, and gets the recording launcher over those steps.
    base = Services(settings, database=database, bank_providers=ProviderRegistry(bank.provider()))
    runner = InProcessRunner(BANK_SYNC, base.bank_sync_steps(), store=base.run_store,
                             sleep=bank.sleeps.append)
    launcher = RecordingLauncher(runner, base.run_store)
    services = Services(settings, bank_providers=base.bank_providers, database=base.database,
                        sync_launcher=launcher)
    app = create_app(services=services)
    app.config["TESTING"] = True
    client = app.test_client()

    def post(url: str, headers: dict[str, str], body: bytes) -> int:
        return client.post(PATH, headers=headers, data=body).status_code

    bank.bank.webhooks.post = post  # off (no URL) until a test switches deliveries on
    try:
        yield Wired(services, app, client, launcher, bank, postgres_owner_url)
    finally:
        assert launcher.wait_idle(timeout=30)
        services.close()


def rate_limit_polls(bank: Bank) -> dict[str, bool]:
    """Answer 429 (retry in 2 h) to every read of a transactions request while ``on``: the
    run defers at ``poll_transactions`` with its requests made."""
    switch = {"on": True}
    original = bank.bank.before_call

    def before_call(call: Call) -> None:
        if switch["on"] and call.method == "GET" and "/transactions/requests/" in call.path:
            raise bank_errors.rate_limited(7200, "injected rate limit on polls")
        original(call)

    bank.bank.before_call = before_call  # type: ignore[method-assign]
    return switch


def deferred_connection(wired: Wired, bearer: AuthHeader) -> tuple[str, str, str, str]:
    """A connection whose first sync is deferred at poll: (family, connection, run, bank id)."""
    owner = bearer("o@example.com")
    fid = family_of(wired.api, owner)
    switch = rate_limit_polls(wired.bank)
    done = connect(wired.api, wired.bank, owner, fid)
    switch["on"] = False
    run = wired.run(done["sync_run_id"])
    assert run.status is RunStatus.DEFERRED and run.resume_at is not None
    assert run.step("poll_transactions").status is RunStatus.DEFERRED
    (provider_id,) = [c.id for c in wired.bank.bank.connections()]
    return fid, done["connection"]["id"], done["sync_run_id"], provider_id


def requests_of(wired: Wired, run_id: str) -> list[tuple[str, str]]:
    """(provider account id, request id) of every transactions request the run made."""
    chains = wired.run(run_id).state["chains"]
    return [(pid, handle) for pid, chain in sorted(chains.items()) for handle in chain["handles"]]


def completed(wired: Wired, provider_id: str, account: str, request: str) -> dict[str, Any]:
    return wired.bank.bank.webhooks.event(
        "transactions_request_completed", connection_id=provider_id, account_id=account,
        request_id=request, completed_at=wired.bank.bank.now().isoformat())


def transaction_count(wired: Wired, fid: str) -> int:
    rows = wired.sql("SELECT count(*) FROM transactions WHERE family_id = %s", fid)
    return int(rows[0][0])


def test_the_digest_is_stored_with_the_sealed_id_and_destroyed_with_it(
    wired: Wired, bearer: AuthHeader
) -> None:
    owner = bearer("o@example.com")
    fid = family_of(wired.api, owner)
    cid = connect(wired.api, wired.bank, owner, fid)["connection"]["id"]
    (provider_id,) = [c.id for c in wired.bank.bank.connections()]
    expected = hashlib.sha256(f"truelayer:{provider_id}".encode()).hexdigest()
    assert wired.sql("SELECT provider_digest FROM connections WHERE id = %s", cid) == [
        (expected,)]
    assert wired.api.delete(f"/v1/families/{fid}/connections/{cid}",
                            headers=owner).status_code == 204
    assert wired.sql("SELECT provider_digest, provider_ref_ciphertext FROM connections "
                     "WHERE id = %s", cid) == [(None, None)]


@BOTH_DATABASES
def test_a_revoked_consent_marks_the_connection_audits_it_and_starts_nothing(
    wired: Wired, bearer: AuthHeader
) -> None:
    owner = bearer("o@example.com")
    fid = family_of(wired.api, owner)
    cid = connect(wired.api, wired.bank, owner, fid)["connection"]["id"]
    (provider_id,) = [c.id for c in wired.bank.bank.connections()]
    started, calls = list(wired.launcher.started), len(wired.bank.bank.calls)
    wired.bank.bank.webhooks.url = f"https://api.example.test{PATH}"

    assert wired.bank.bank.user_revokes(provider_id) == 200

    listed = wired.api.get(f"/v1/families/{fid}/connections", headers=owner).json["items"]
    assert [(c["id"], c["status"]) for c in listed] == [(cid, "revoked")]
    assert wired.sql("SELECT status_reason FROM connections WHERE id = %s", cid) == [
        ("consent withdrawn at the bank (provider webhook)",)]
    assert wired.sql("SELECT actor, action, target_id FROM audit_log WHERE family_id = %s "
                     "ORDER BY chain_index DESC LIMIT 1", fid) == [
        ("provider:truelayer", "connection.consent_revoked", cid)]
    # No sync, no resume, not a single call to the bank.
    assert wired.launcher.started == started and wired.launcher.resumed == []
    assert len(wired.bank.bank.calls) == calls
    # The bank's retry of the same event, and a later expiry notice, change nothing more.
    event, _ = wired.bank.bank.webhooks.sent[-1]
    assert wired.deliver(event) == (200, {"event_id": event["event_id"], "status": "duplicate"})
    expired = wired.bank.bank.webhooks.event("data_connection_expired",
                                             connection_id=provider_id)
    assert wired.deliver(expired)[0] == 200
    assert wired.sql("SELECT status FROM connections WHERE id = %s", cid) == [("revoked",)]
    assert wired.sql("SELECT count(*) FROM audit_log WHERE action LIKE 'connection.consent_%%' "
                     "AND family_id = %s", fid) == [(1,)]


def test_events_for_connections_that_are_not_ours_are_recorded_and_ignored(
    wired: Wired, bearer: AuthHeader
) -> None:
    owner = bearer("o@example.com")
    fid = family_of(wired.api, owner)
    cid = connect(wired.api, wired.bank, owner, fid)["connection"]["id"]
    stranger = wired.bank.bank.create_connection(
        scopes=["accounts", "transactions"], redirect_uri="http://127.0.0.1/cb", state="s")
    revoked = wired.bank.bank.webhooks.event("data_connection_revoked",
                                             connection_id=stranger.id)
    ready = completed(wired, stranger.id, "acc-1", "req-1")
    for event in (revoked, ready):
        assert wired.deliver(event) == (200, {"event_id": event["event_id"],
                                              "status": "processed"})
    assert wired.sql("SELECT event_type FROM webhook_events ORDER BY event_type") == [
        ("data_connection_revoked",), ("transactions_request_completed",)]
    assert wired.sql("SELECT status FROM connections WHERE id = %s", cid) == [("active",)]
    assert wired.launcher.resumed == []


@BOTH_DATABASES
def test_a_finished_request_resumes_the_deferred_run_which_ingests(
    wired: Wired, bearer: AuthHeader
) -> None:
    fid, _cid, run_id, _provider_id = deferred_connection(wired, bearer)
    assert transaction_count(wired, fid) == 0
    requests = requests_of(wired, run_id)
    wired.bank.bank.webhooks.url = f"https://api.example.test{PATH}"

    _account, request = requests[0]
    assert wired.bank.bank.complete_request(request) == 200
    assert wired.launcher.wait_idle(timeout=30)

    assert wired.launcher.resumed == [run_id]
    run = wired.run(run_id)
    assert run.status is RunStatus.SUCCEEDED, run
    assert transaction_count(wired, fid) > 0
    assert wired.launcher.started == [run_id]  # the callback's run; the webhook started none
    # The other accounts' requests finishing later find no waiting run.
    for _, later in requests[1:]:
        assert wired.bank.bank.complete_request(later) == 200
    assert wired.launcher.resumed == [run_id]


def test_a_running_run_is_not_resumed_a_second_time(wired: Wired, bearer: AuthHeader) -> None:
    _fid, _cid, run_id, provider_id = deferred_connection(wired, bearer)
    # Its execution is live again (the poll step retrying), as the deferral's own resume does.
    run = wired.run(run_id)
    run.status = RunStatus.RUNNING
    wired.services.run_store.save(run)
    calls = len(wired.bank.bank.calls)
    account, request = requests_of(wired, run_id)[0]

    status, _ = wired.deliver(completed(wired, provider_id, account, request))

    assert status == 200
    assert wired.launcher.resumed == []
    assert wired.run(run_id).status is RunStatus.RUNNING
    assert len(wired.bank.bank.calls) == calls


@BOTH_DATABASES
def test_concurrent_deliveries_resume_the_run_once(wired: Wired, bearer: AuthHeader) -> None:
    """The same event twice at once (the bank's retry racing its first try), and the other
    accounts' events at the same moment: one claim, one resumption."""
    fid, _cid, run_id, provider_id = deferred_connection(wired, bearer)
    requests = requests_of(wired, run_id)
    first = completed(wired, provider_id, *requests[0])
    events = [first, first] + [completed(wired, provider_id, *r) for r in requests[1:]]
    answers: list[tuple[int, dict[str, Any]]] = []

    def deliver(event: dict[str, Any]) -> None:
        answers.append(wired.deliver(event))

    run_at_once(*(partial(deliver, e) for e in events))
    assert wired.launcher.wait_idle(timeout=30)

    assert sorted(a[1]["status"] for a in answers) == sorted(
        ["duplicate"] + ["processed"] * (len(events) - 1))
    assert all(status == 200 for status, _ in answers)
    assert wired.launcher.resumed == [run_id]
    assert wired.run(run_id).status is RunStatus.SUCCEEDED
    assert transaction_count(wired, fid) > 0


@BOTH_DATABASES
def test_a_due_run_is_resumed_once_by_two_sweeps_and_a_webhook_racing(
    wired: Wired, bearer: AuthHeader
) -> None:
    """Its deferral over and its request finished at the same moment: two sweeps and the
    webhook all try to claim it; one does, one execution runs it to its end."""
    fid, _cid, run_id, provider_id = deferred_connection(wired, bearer)
    with psycopg.connect(wired.owner_url) as db:
        db.execute("UPDATE sync_runs SET resume_at = now() - interval '1 minute' "
                   "WHERE id = %s", [run_id])
    event = completed(wired, provider_id, *requests_of(wired, run_id)[0])
    swept: list[SweepResult] = []
    answers: list[tuple[int, dict[str, Any]]] = []

    def sweep() -> None:
        swept.append(sweep_runs(wired.services.database, wired.launcher, definition=BANK_SYNC))

    run_at_once(sweep, sweep, lambda: answers.append(wired.deliver(event)))
    assert wired.launcher.wait_idle(timeout=30)

    assert [status for status, _ in answers] == [200]
    assert sum(len(s.resumed) for s in swept) <= 1  # the webhook claimed it otherwise
    assert all(s.launch_failed == () and s.abandoned == () for s in swept)
    assert wired.launcher.resumed == [run_id]
    assert wired.run(run_id).status is RunStatus.SUCCEEDED
    assert transaction_count(wired, fid) > 0


@BOTH_DATABASES
def test_a_request_still_being_prepared_parks_the_run_until_the_banks_webhook(
    wired: Wired, bearer: AuthHeader
) -> None:
    """No rate limit: the bank is slow. The poll step's attempts run out, the run parks
    (instead of failing) and the bank's "ready" webhook resumes it, once."""
    owner = bearer("o@example.com")
    fid = family_of(wired.api, owner)
    wired.bank.bank.default_quirks.polls_before_ready = 10**6
    run_id = connect(wired.api, wired.bank, owner, fid)["sync_run_id"]
    run = wired.run(run_id)
    poll = BANK_SYNC.step("poll_transactions")
    assert poll.park is not None and run.resume_at is not None
    assert run.status is RunStatus.DEFERRED
    assert timedelta(0) < run.resume_at - datetime.now(UTC) <= poll.park.wait
    parked = run.step("poll_transactions")
    assert (parked.status, parked.attempts, parked.counts["parks"]) == (
        RunStatus.DEFERRED, poll.retry.max_attempts, 1)
    assert transaction_count(wired, fid) == 0

    wired.bank.bank.webhooks.url = f"https://api.example.test{PATH}"
    for _, request in requests_of(wired, run_id):
        assert wired.bank.bank.complete_request(request) == 200
    assert wired.launcher.wait_idle(timeout=30)

    assert wired.launcher.resumed == [run_id]
    done = wired.run(run_id)
    assert done.status is RunStatus.SUCCEEDED, done
    assert done.step("poll_transactions").counts["parks"] == 1
    assert transaction_count(wired, fid) > 0
