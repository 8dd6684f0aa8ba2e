"""Pruning the processed-webhook inbox on real PostgreSQL, as the app role (both adapters):
old ids go in bounded batches, recent ones stay, and a replay of a pruned event is still
refused, as stale, before the inbox is asked."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from devtools.sandbox_bank import SandboxBank, SandboxBankServer
from service.app import create_app
from service.bootstrap import Services
from service.db.port import Database, DatabaseError, Executor
from service.repositories import webhook_events as repo
from service.settings import Settings
from service.use_cases.retention import prune_webhook_events
from service.use_cases.webhooks import receive_truelayer_webhook
from service.webhooks import SigningKeyCache, WebhookEvent, WebhookEvents, WebhookVerifier
from service.webhooks.errors import StaleWebhookError
from service.webhooks.retention import DELETE_GUARD, EVENT_ID_RETENTION, check_window

PATH = "/v1/webhooks/truelayer"


def _record(db: Database, event_id: str, received_at: datetime) -> None:
    db.execute(
        "INSERT INTO webhook_events (provider, event_id, event_type, sent_at, received_at) "
        "VALUES ('truelayer', :e, 'test_event', :t, :t)", {"e": event_id, "t": received_at})


def _ids(db: Database) -> set[str]:
    return {str(r["event_id"]) for r in db.fetch_all("SELECT event_id FROM webhook_events")}


def test_ids_past_the_retention_are_pruned_and_recent_ones_kept(app_database: Database) -> None:
    now = datetime.now(UTC)
    ages = {"month": timedelta(days=30), "week-and-a-bit": EVENT_ID_RETENTION + timedelta(
        minutes=1), "almost-a-week": EVENT_ID_RETENTION - timedelta(hours=1),
        "just-now": timedelta(0)}
    for event_id, age in ages.items():
        _record(app_database, event_id, now - age)

    assert prune_webhook_events(app_database, clock=lambda: now) == 2
    assert prune_webhook_events(app_database, clock=lambda: now) == 0  # idempotent
    assert _ids(app_database) == {"almost-a-week", "just-now"}


def test_each_statement_deletes_at_most_one_batch_oldest_first(app_database: Database) -> None:
    now = datetime.now(UTC)
    old = now - EVENT_ID_RETENTION - timedelta(days=1)
    for n in range(25):
        _record(app_database, f"old-{n:02}", old - timedelta(minutes=n))
    _record(app_database, "recent", now)
    cutoff = now - EVENT_ID_RETENTION

    assert repo.prune_received_before(app_database, cutoff, limit=10) == 10
    # The oldest went first: old-24 (25 minutes older) ... old-15.
    assert _ids(app_database) == {f"old-{n:02}" for n in range(15)} | {"recent"}
    assert prune_webhook_events(app_database, batch=4, clock=lambda: now) == 15
    assert _ids(app_database) == {"recent"}


def test_a_window_reaching_the_retention_is_refused_and_deletes_nothing(
    app_database: Database,
) -> None:
    now = datetime.now(UTC)
    _record(app_database, "old", now - timedelta(days=30))
    with pytest.raises(ValueError, match="replayed"):
        prune_webhook_events(app_database, max_age=EVENT_ID_RETENTION, clock=lambda: now)
    with pytest.raises(ValueError, match="replayed"):
        check_window(EVENT_ID_RETENTION - timedelta(seconds=30), timedelta(minutes=1))
    check_window(DELETE_GUARD - timedelta(minutes=2), timedelta(minutes=1))  # still clear
    with pytest.raises(ValueError, match="replayed"):
        check_window(DELETE_GUARD - timedelta(minutes=1), timedelta(minutes=1))
    with pytest.raises(ValueError, match="replayed"):
        WebhookVerifier(SigningKeyCache(()), max_age=EVENT_ID_RETENTION)
    with pytest.raises(ValueError, match="batch"):
        prune_webhook_events(app_database, batch=0, clock=lambda: now)
    assert _ids(app_database) == {"old"}


def test_the_database_keeps_ids_younger_than_the_guard_whoever_deletes(
    app_database: Database, owner_postgres_db: Database,
) -> None:
    assert DELETE_GUARD < EVENT_ID_RETENTION  # the prune never reaches the guard
    now = datetime.now(UTC)
    _record(app_database, "guarded", now - DELETE_GUARD + timedelta(minutes=1))
    _record(app_database, "past-guard", now - DELETE_GUARD - timedelta(minutes=1))

    for db in (app_database, owner_postgres_db):
        with pytest.raises(DatabaseError, match="it is kept"):
            db.execute("DELETE FROM webhook_events WHERE event_id = 'guarded'")
        with pytest.raises(DatabaseError, match="it is kept"):
            db.execute("DELETE FROM webhook_events")  # all or nothing: one statement
    assert _ids(app_database) == {"guarded", "past-guard"}
    assert app_database.execute("DELETE FROM webhook_events WHERE event_id = 'past-guard'") == 1
    assert _ids(app_database) == {"guarded"}


@pytest.fixture(scope="module")
def bank_server() -> Iterator[SandboxBankServer]:
    with SandboxBankServer(SandboxBank()) as server:
        yield server


def test_a_replay_of_a_pruned_event_is_still_refused_as_stale(
    postgres_db: Database, owner_postgres_db: Database, bank_server: SandboxBankServer,
) -> None:
    handled: list[str] = []

    def handler(tx: Executor, event: WebhookEvent) -> str:
        del tx
        handled.append(event.event_id)
        return "recorded"

    events = WebhookEvents({"test_event": handler})
    keys = SigningKeyCache((bank_server.jku,))
    now = datetime.now(UTC)
    later = now + EVENT_ID_RETENTION + timedelta(minutes=1)
    event_id = str(uuid4())
    delivery = bank_server.bank.webhooks.signer.sign(
        PATH, {"type": "test_event", "event_version": 1, "event_id": event_id}, sent_at=now)

    def deliver(at: datetime) -> str:
        verifier = WebhookVerifier(keys, clock=lambda: at)
        return receive_truelayer_webhook(postgres_db, verifier, events, method="POST",
                                         path=PATH, headers=delivery.headers,
                                         body=delivery.body).outcome

    assert deliver(now) == "recorded"
    assert deliver(now + timedelta(minutes=1)) == "duplicate"  # within the window: the inbox
    # A week and a minute pass (the database's clock cannot be moved: the row ages instead).
    owner_postgres_db.execute(
        "UPDATE webhook_events SET received_at = received_at - make_interval(secs => :s)",
        {"s": (later - now).total_seconds()})
    assert prune_webhook_events(postgres_db) == 1
    assert _ids(postgres_db) == set()

    with pytest.raises(StaleWebhookError):
        deliver(later)  # the id is gone, but the delivery is long past the window
    assert handled == [event_id]
    assert _ids(postgres_db) == set()


def test_the_prune_command_reports_what_it_deleted(
    settings: Settings, postgres_db: Database,
) -> None:
    services = Services(dataclasses.replace(settings))
    app = create_app(services=services)
    try:
        _record(postgres_db, "old", datetime.now(UTC) - timedelta(days=8))
        _record(postgres_db, "new", datetime.now(UTC))
        runner = app.test_cli_runner()

        first = runner.invoke(args=["webhooks", "prune"])
        again = runner.invoke(args=["webhooks", "prune"])
    finally:
        services.close()

    assert first.exit_code == 0, first.output
    assert "pruned 1 webhook event id(s) received over 7 days ago" in first.output
    assert "pruned 0 webhook" in again.output
    assert _ids(postgres_db) == {"new"}
