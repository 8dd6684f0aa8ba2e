"""``POST /v1/webhooks/truelayer`` on real PostgreSQL, signed by the sandbox bank's own key.

Genuine, forged, re-keyed, unlisted-jku, stale, replayed, duplicated (also concurrently) and
malformed deliveries; each refusal changes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient

from devtools.sandbox_bank import SandboxBank, SandboxBankServer, SignedDelivery, WebhookSigner
from service.app import create_app
from service.bootstrap import Services
from service.db.port import Executor
from service.settings import Settings
from service.webhooks import WebhookEvent, WebhookEvents

PATH = "/v1/webhooks/truelayer"


class Recorder:
    """Handlers wired like the composition root wires the bank-sync hooks (thread-safe)."""

    def __init__(self) -> None:
        self.handled: list[str] = []
        self.lock = threading.Lock()
        self.before: threading.Event | None = None
        self.fail_next = False

    def __call__(self, tx: Executor, event: WebhookEvent) -> str:
        if self.before is not None:
            self.before.wait(timeout=10)
        # A real write in the inbox transaction: it must commit or roll back with the event id.
        tx.execute("SELECT 1")
        with self.lock:
            if self.fail_next:
                self.fail_next = False
                raise RuntimeError("handler failed")
            self.handled.append(event.event_id)
        return "recorded"


@pytest.fixture(scope="module")
def bank_server() -> Iterator[SandboxBankServer]:
    with SandboxBankServer(SandboxBank()) as server:
        yield server


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def webhook_app(
    settings: Settings, bank_server: SandboxBankServer, recorder: Recorder
) -> Iterator[Flask]:
    local = dataclasses.replace(settings, truelayer_jku_allowlist=(bank_server.jku,))
    services = Services(local, webhook_events=WebhookEvents({"test_event": recorder}))
    app = create_app(services=services)
    app.config["TESTING"] = True
    yield app
    services.close()


@pytest.fixture
def wh_client(webhook_app: Flask) -> FlaskClient:
    return webhook_app.test_client()


def _event(event_id: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"type": "test_event", "event_version": 1, "event_id": event_id or str(uuid4()),
            **fields}


def _post(client: FlaskClient, delivery: SignedDelivery) -> Any:
    return client.post(PATH, headers=delivery.headers, data=delivery.body)


def _stored(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute("SELECT event_id FROM webhook_events")]


def _keys(app: Flask) -> Any:
    services: Services = app.extensions["service.services"]
    return services.webhook_verifier.keys


def test_a_genuine_delivery_is_processed_once_and_recorded(
    wh_client: FlaskClient, bank_server: SandboxBankServer, recorder: Recorder,
    postgres_owner_url: str,
) -> None:
    event = _event()
    answer = _post(wh_client, bank_server.bank.webhooks.signer.sign(PATH, event))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"event_id": event["event_id"], "status": "processed"}
    assert recorder.handled == [event["event_id"]]
    assert _stored(postgres_owner_url) == [event["event_id"]]


def test_a_replayed_delivery_is_acknowledged_without_processing_again(
    wh_client: FlaskClient, bank_server: SandboxBankServer, recorder: Recorder,
    webhook_app: Flask,
) -> None:
    delivery = bank_server.bank.webhooks.signer.sign(PATH, _event())
    assert _post(wh_client, delivery).get_json()["status"] == "processed"
    again = _post(wh_client, delivery)
    assert again.status_code == 200
    assert again.get_json()["status"] == "duplicate"
    # The same event re-signed later (the provider's retry) is a duplicate as well.
    resent = bank_server.bank.webhooks.signer.sign(PATH, json.loads(delivery.body))
    assert _post(wh_client, resent).get_json()["status"] == "duplicate"
    assert len(recorder.handled) == 1
    assert _keys(webhook_app).fetch_count == 1  # the key set is cached, not fetched per call


def test_a_tampered_body_is_refused_and_changes_nothing(
    wh_client: FlaskClient, bank_server: SandboxBankServer, recorder: Recorder,
    postgres_owner_url: str,
) -> None:
    delivery = bank_server.bank.webhooks.signer.sign(PATH, _event())
    forged = dataclasses.replace(delivery, body=delivery.body.replace(b"test_event", b"test_evenT"))
    answer = _post(wh_client, forged)
    assert answer.status_code == 401
    assert answer.get_json()["type"].endswith("/webhook-signature-invalid")
    assert answer.mimetype == "application/problem+json"
    assert recorder.handled == []
    assert _stored(postgres_owner_url) == []


def test_a_signature_by_another_key_under_the_trusted_jku_is_refused(
    wh_client: FlaskClient, bank_server: SandboxBankServer, recorder: Recorder,
) -> None:
    attacker = WebhookSigner(jku=bank_server.jku)
    answer = _post(wh_client, attacker.sign(PATH, _event()))
    assert answer.status_code == 401
    assert answer.get_json()["type"].endswith("/webhook-signature-invalid")
    assert recorder.handled == []


def test_an_unlisted_jku_is_refused_without_being_fetched(
    wh_client: FlaskClient, recorder: Recorder, webhook_app: Flask,
) -> None:
    with SandboxBankServer(SandboxBank()) as other:  # a genuine key set, just not trusted
        answer = _post(wh_client, other.bank.webhooks.signer.sign(PATH, _event()))
    assert answer.status_code == 401
    assert answer.get_json()["type"].endswith("/webhook-jku-not-allowed")
    assert _keys(webhook_app).fetch_count == 0
    assert recorder.handled == []


def test_a_stale_or_future_timestamp_is_refused(
    wh_client: FlaskClient, bank_server: SandboxBankServer, recorder: Recorder,
    postgres_owner_url: str,
) -> None:
    signer = bank_server.bank.webhooks.signer
    now = datetime.now(UTC)
    for sent_at in (now - timedelta(minutes=6), now + timedelta(minutes=5)):
        answer = _post(wh_client, signer.sign(PATH, _event(), sent_at=sent_at))
        assert answer.status_code == 401
        assert answer.get_json()["type"].endswith("/webhook-stale")
    assert recorder.handled == []
    assert _stored(postgres_owner_url) == []


def test_a_timestamp_changed_after_signing_is_refused(
    wh_client: FlaskClient, bank_server: SandboxBankServer,
) -> None:
    delivery = bank_server.bank.webhooks.signer.sign(
        PATH, _event(), sent_at=datetime.now(UTC) - timedelta(hours=1))
    headers = {**delivery.headers,
               "X-TL-Webhook-Timestamp": datetime.now(UTC).replace(microsecond=0).isoformat()}
    answer = _post(wh_client, dataclasses.replace(delivery, headers=headers))
    assert answer.status_code == 401
    assert answer.get_json()["type"].endswith("/webhook-signature-invalid")


def test_missing_signature_and_malformed_events_are_clear_problems(
    wh_client: FlaskClient, bank_server: SandboxBankServer, recorder: Recorder,
) -> None:
    signer = bank_server.bank.webhooks.signer
    unsigned = wh_client.post(PATH, json=_event())
    assert unsigned.status_code == 401
    assert "Tl-Signature" in unsigned.get_json()["detail"]
    garbage = wh_client.post(PATH, headers={"Tl-Signature": "not-a-jws"}, data=b"{}")
    assert garbage.status_code == 401
    no_id = signer.sign(PATH, {"type": "test_event"})
    answer = _post(wh_client, no_id)
    assert answer.status_code == 400
    assert "event_id" in answer.get_json()["detail"]
    assert recorder.handled == []


def test_a_failing_handler_rolls_back_so_the_retry_processes_it(
    wh_client: FlaskClient, bank_server: SandboxBankServer, recorder: Recorder,
    postgres_owner_url: str,
) -> None:
    delivery = bank_server.bank.webhooks.signer.sign(PATH, _event())
    recorder.fail_next = True
    assert _post(wh_client, delivery).status_code == 500  # the provider retries a 5xx
    assert _stored(postgres_owner_url) == []
    assert _post(wh_client, delivery).get_json()["status"] == "processed"
    assert len(recorder.handled) == 1


def test_unreachable_allow_listed_keys_answer_503_so_the_provider_retries(
    settings: Settings, recorder: Recorder,
) -> None:
    with SandboxBankServer(SandboxBank()) as gone:
        jku, signer = gone.jku, gone.bank.webhooks.signer
    local = dataclasses.replace(settings, truelayer_jku_allowlist=(jku,))
    services = Services(local, webhook_events=WebhookEvents({"test_event": recorder}))
    try:
        client = create_app(services=services).test_client()
        answer = _post(client, signer.sign(PATH, _event()))
    finally:
        services.close()
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"
    assert answer.get_json()["type"].endswith("/webhook-keys-unavailable")


def _lock_waiters(owner_url: str) -> int:
    with psycopg.connect(owner_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'").fetchone()
    return int(row[0]) if row else 0


def test_concurrent_duplicate_deliveries_are_processed_once(
    webhook_app: Flask, bank_server: SandboxBankServer, recorder: Recorder,
    postgres_owner_url: str,
) -> None:
    delivery = bank_server.bank.webhooks.signer.sign(PATH, _event())
    release = threading.Event()
    recorder.before = release
    statuses: list[str] = []

    def deliver() -> None:
        answer = _post(webhook_app.test_client(), delivery)
        assert answer.status_code == 200, answer.get_json()
        statuses.append(answer.get_json()["status"])

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    # The first delivery holds its transaction (in the handler) until the other three are
    # seen blocked on the event id's key lock in PostgreSQL; then it commits.
    waited = threading.Event()
    for _ in range(1000):
        if _lock_waiters(postgres_owner_url) >= 3:
            break
        waited.wait(0.01)
    blocked = _lock_waiters(postgres_owner_url)
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert blocked >= 3
    assert sorted(statuses) == ["duplicate", "duplicate", "duplicate", "processed"]
    assert len(recorder.handled) == 1
    assert len(_stored(postgres_owner_url)) == 1
