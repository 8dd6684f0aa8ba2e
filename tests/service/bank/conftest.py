"""The app on a fresh database, its bank provider pointed at a sandbox bank on 127.0.0.1.

Nothing is mocked: the TrueLayer adapter speaks HTTP to the sandbox bank, syncs run in-process
on the database adapters. Only waiting is injected: backoff sleeps are recorded, not slept.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from devtools.sandbox_bank import SandboxBank, SandboxBankServer
from service import create_app
from service.banking.port import ProviderRegistry
from service.banking.truelayer import TrueLayerConfig, TrueLayerHttp, TrueLayerProvider
from service.bootstrap import Services
from service.http.context import SERVICES_KEY
from service.settings import Settings
from tests.banking.sandbox_env import ingest_outcomes
from tests.fixtures.postgres import database_name, make_data_api_database
from tests.service.conftest import settle_syncs

AuthHeader = Callable[[str], dict[str, str]]
VIEWER = {"CloudFront-Viewer-Address": "203.0.113.9:46532"}


@dataclass
class Bank:
    """The sandbox bank, its server and what the adapter slept."""

    bank: SandboxBank
    server: SandboxBankServer
    client: httpx.Client
    sleeps: list[float] = field(default_factory=list)

    def provider(self) -> TrueLayerProvider:
        config = TrueLayerConfig(auth_url=self.server.base_url, api_url=self.server.base_url,
                                 client_id="sandbox-client", client_secret="sandbox-secret",
                                 read_timeout=5.0)
        http = TrueLayerHttp(config, client=self.client, clock=self.bank.now,
                             sleep=self.sleeps.append, rng=random.Random(3))
        return TrueLayerProvider(config, http=http)

    def consent(self, authorization_url: str, *, allow: bool = True) -> dict[str, str]:
        """The user's browser on the consent page; returns the redirect's query."""
        decision = self.client.post(authorization_url,
                                    data={"decision": "allow" if allow else "deny"})
        assert decision.status_code == 302, decision.text
        return dict(parse_qsl(urlparse(decision.headers["location"]).query))


@pytest.fixture
def bank() -> Iterator[Bank]:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    sandbox = SandboxBank(clock=lambda: start)
    server = SandboxBankServer(sandbox).start()
    client = httpx.Client()
    try:
        yield Bank(sandbox, server, client)
    finally:
        client.close()
        server.stop()


@pytest.fixture
def bank_settings(postgres_url: str, local_dir: Path) -> Settings:
    return Settings(runtime="local", database_url=postgres_url, local_dir=local_dir,
                    dev_issuer=True, log_level="WARNING",
                    bank_redirect_uri="http://127.0.0.1/v1/connections/callback")


@pytest.fixture
def bank_app(bank_settings: Settings, bank: Bank) -> Iterator[Flask]:
    services = Services(bank_settings, bank_providers=ProviderRegistry(bank.provider()),
                        workflow_sleep=bank.sleeps.append)
    app = create_app(services=services)
    app.config["TESTING"] = True
    yield app
    services.close()


@pytest.fixture
def api(bank_app: Flask) -> FlaskClient:
    return bank_app.test_client()


@pytest.fixture
def services(bank_app: Flask) -> Services:
    found: Services = bank_app.extensions[SERVICES_KEY]
    return found


@pytest.fixture
def bearer(services: Services) -> AuthHeader:
    issuer = services.dev_issuer
    assert issuer is not None

    def make(email: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issuer.issue(email)}", **VIEWER}

    return make


def family_of(api: FlaskClient, headers: dict[str, str]) -> str:
    """A new family owned by the caller."""
    resp = api.post("/v1/families", json={"name": "The Sandbox"}, headers=headers)
    assert resp.status_code == 201, resp.json
    return str(resp.json["id"])


def outcomes(run: dict[str, Any]) -> Counter[str]:
    """A run's ingest counts (its JSON view), summed over the steps that ingest."""
    return ingest_outcomes((s["name"], s["counts"]) for s in run["steps"])


def all_transactions(api: FlaskClient, headers: dict[str, str], fid: str) -> list[dict[str, Any]]:
    """Every transaction the caller sees in the family, following the cursor to the end."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = api.get(f"/v1/families/{fid}/transactions", query_string=query, headers=headers)
        assert page.status_code == 200, page.json
        items.extend(page.json["items"])
        cursor = page.json.get("next_cursor")
        if not cursor:
            return items


def connect(api: FlaskClient, bank: Bank, headers: dict[str, str], fid: str,
            **body: Any) -> dict[str, Any]:
    """Start a connection, consent at the bank, follow the redirect; the callback's JSON,
    once the first sync it started in the background has finished."""
    started = api.post(f"/v1/families/{fid}/connections", json=body, headers=headers)
    assert started.status_code == 201, started.json
    query = bank.consent(started.json["authorization_url"])
    done = api.get("/v1/connections/callback", query_string=query, headers=VIEWER)
    assert done.status_code == 200, done.json
    settle_syncs(api.application)
    return dict(done.json)


@pytest.fixture
def data_api_services(bank_settings: Settings, bank: Bank, local_rds_data_client: Any,
                      local_data_api_server: Any, postgres_owner_url: str) -> Iterator[Services]:
    """Services whose database is the Data API adapter (boto3 → the local Data API)."""
    name = database_name(postgres_owner_url)
    database = make_data_api_database(local_rds_data_client, name)
    services = Services(bank_settings, database=database,
                        bank_providers=ProviderRegistry(bank.provider()),
                        workflow_sleep=bank.sleeps.append)
    try:
        yield services
    finally:
        local_data_api_server.inject_error_rate(None)
        services.close()
        local_data_api_server.release_database(name)


def app_client(services: Services) -> FlaskClient:
    """A test client of an app over ``services``."""
    app = create_app(services=services)
    app.config["TESTING"] = True
    return app.test_client()


def bearer_for(services: Services) -> AuthHeader:
    """Bearer headers from ``services``' dev issuer (plus the viewer address)."""
    issuer = services.dev_issuer
    assert issuer is not None
    return lambda email: {"Authorization": f"Bearer {issuer.issue(email)}", **VIEWER}
