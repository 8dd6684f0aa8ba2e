"""The sandbox bank sends signed webhooks that the service verifies and acts on.

The hooks are wired as the composition root will wire the bank-sync vertical: a consent
recorder writing the connection's status, and a waiting-run finder plus ``resume_run``.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import httpx
import psycopg
import pytest
from flask import Flask

from devtools.sandbox_bank import SandboxBank, SandboxBankServer
from service.app import create_app
from service.bootstrap import Services
from service.db.port import Executor
from service.settings import Settings
from service.webhooks import WebhookEvents

PATH = "/v1/webhooks/truelayer"


class SyncHooks:
    """Stand-ins for sync8's hooks; the consent recorder writes real rows."""

    def __init__(self) -> None:
        self.waiting: dict[str, str] = {}  # provider request id -> run id
        self.resumed: list[str] = []
        self.consents: list[tuple[str, str]] = []
        self.connections: dict[str, str] = {}  # provider connection id -> our connection id

    def record_consent(self, tx: Executor, provider_id: str, status: str, at: datetime) -> bool:
        self.consents.append((provider_id, status))
        ours = self.connections.get(provider_id)
        return ours is not None and tx.execute(
            "UPDATE connections SET status = :status WHERE id = CAST(:id AS uuid)",
            {"status": status, "id": ours}) == 1

    def find_waiting_run(self, tx: Executor, connection: str, account: str,
                         request: str) -> str | None:
        return self.waiting.get(request)

    def resume_run(self, run_id: str) -> None:
        self.resumed.append(run_id)


@pytest.fixture
def hooks() -> SyncHooks:
    return SyncHooks()


@pytest.fixture
def bank(settings: Settings, hooks: SyncHooks) -> Iterator[tuple[SandboxBank, Flask]]:
    with SandboxBankServer(SandboxBank()) as server:
        local = dataclasses.replace(settings, truelayer_jku_allowlist=(server.jku,))
        events = WebhookEvents.truelayer(record_consent=hooks.record_consent,
                                         find_waiting_run=hooks.find_waiting_run,
                                         resume_run=hooks.resume_run)
        services = Services(local, webhook_events=events)
        app = create_app(services=services)
        client = app.test_client()

        def post(url: str, headers: dict[str, str], body: bytes) -> int:
            assert url.endswith(PATH)
            return client.post(PATH, headers=headers, data=body).status_code

        server.bank.webhooks.url = f"https://api.example.test{PATH}"
        server.bank.webhooks.post = post
        yield server.bank, app
        services.close()


def _authorised(bank: SandboxBank) -> tuple[str, str]:
    conn = bank.create_connection(scopes=["accounts", "transactions", "balance"],
                                  redirect_uri="http://127.0.0.1/cb", state="s")
    bank.decide(conn.id, allow=True)
    account = bank.list_accounts(conn.id)[0]["id"]
    return conn.id, str(account)


def test_a_completed_transactions_request_resumes_the_waiting_run_once(
    bank: tuple[SandboxBank, Flask], hooks: SyncHooks,
) -> None:
    sandbox, _ = bank
    conn_id, account = _authorised(sandbox)
    body: dict[str, Any] = {"from": str(date.today().replace(day=1)), "to": str(date.today())}
    request = sandbox.request_transactions(conn_id, account, body, None)
    hooks.waiting[request.id] = "run-1"
    assert sandbox.complete_request(request.id) == 200
    assert hooks.resumed == ["run-1"]
    # The bank's request is now complete for the run's next poll.
    assert sandbox.read_transactions(conn_id, account, request.id)["status"] == "completed"
    # Re-delivering the same event (the bank's retry) resumes nothing more.
    event, _ = sandbox.webhooks.sent[-1]
    assert sandbox.webhooks.send(event) == 200
    assert hooks.resumed == ["run-1"]


def test_a_finished_request_nobody_waits_on_starts_no_sync(
    bank: tuple[SandboxBank, Flask], hooks: SyncHooks,
) -> None:
    sandbox, _ = bank
    conn_id, account = _authorised(sandbox)
    request = sandbox.request_transactions(
        conn_id, account, {"from": str(date.today()), "to": str(date.today())}, None)
    assert sandbox.complete_request(request.id) == 200
    assert hooks.resumed == []


def test_a_revoked_consent_is_recorded_on_the_connection(
    bank: tuple[SandboxBank, Flask], hooks: SyncHooks, postgres_owner_url: str,
) -> None:
    sandbox, _ = bank
    conn_id, _account = _authorised(sandbox)
    with psycopg.connect(postgres_owner_url) as db:
        user = db.execute("INSERT INTO users (issuer, subject, email) "
                          "VALUES ('i', 's', 'a@example.com') RETURNING id").fetchone()
        assert user is not None
        family = db.execute("INSERT INTO families (name) VALUES ('F') RETURNING id").fetchone()
        assert family is not None
        db.execute("INSERT INTO memberships (family_id, user_id, role) VALUES (%s, %s, 'owner')",
                   (family[0], user[0]))
        ours = db.execute("INSERT INTO connections (family_id, provider, status, created_by) "
                          "VALUES (%s, 'truelayer', 'active', %s) RETURNING id",
                          (family[0], user[0])).fetchone()
        assert ours is not None
    hooks.connections[conn_id] = str(ours[0])
    assert sandbox.user_revokes(conn_id) == 200
    assert hooks.consents == [(conn_id, "revoked")]
    with psycopg.connect(postgres_owner_url) as db:
        row = db.execute("SELECT status FROM connections").fetchone()
    assert row == ("revoked",)


def test_the_wire_call_creating_a_request_triggers_the_webhook_after_its_202(
    settings: Settings, hooks: SyncHooks,
) -> None:
    with SandboxBankServer(SandboxBank()) as server:
        sandbox = server.bank
        delivered: list[bytes] = []
        sent = threading.Event()

        def post(url: str, headers: dict[str, str], body: bytes) -> int:
            delivered.append(body)
            sent.set()
            return 200

        sandbox.webhooks.url = f"http://127.0.0.1:9{PATH}"
        sandbox.webhooks.post = post
        conn_id, account = _authorised(sandbox)
        token = sandbox.issue_token(grant_type="client_credentials", client_id="sandbox-client",
                                    client_secret="sandbox-secret", scope="data")["access_token"]
        answer = httpx.post(
            f"{server.base_url}/v3/connected-accounts/{account}/transactions/requests",
            headers={"Authorization": f"Bearer {token}", "Connection-Id": conn_id},
            json={"from": str(date.today()), "to": str(date.today())}, timeout=5)
        assert answer.status_code == 202
        assert sent.wait(timeout=10)  # sent once the 202 was written (call_on_close)
        assert len(delivered) == 1
        assert answer.json()["id"].encode() in delivered[0]
        assert httpx.get(server.jku, timeout=5).json() == sandbox.webhooks.signer.jwks()
