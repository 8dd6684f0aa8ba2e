"""Shared fixtures of the service tests: an app on a fresh migrated database, a client,
and bearer headers from the local dev issuer.

``app`` runs in local mode: D's ``postgres_url`` (fresh, migrated database per test), the
dev issuer and a local master key, both generated once per worker into a temp dir.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from devtools.dev_issuer import DevIssuer
from devtools.sandbox_bank import SandboxBank, SandboxBankServer
from service import create_app
from service.banking.port import ProviderRegistry
from service.banking.truelayer import TrueLayerConfig, TrueLayerHttp, TrueLayerProvider
from service.bootstrap import Services
from service.http.context import SERVICES_KEY
from service.settings import Settings
from service.workflows.launcher import InProcessLauncher
from tests.fixtures.postgres import *  # noqa: F403  (D's database fixtures)

AuthHeader = Callable[[str], dict[str, str]]


@pytest.fixture(scope="session")
def local_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Per-worker directory for the dev issuer key and the local master key."""
    return tmp_path_factory.mktemp("service-local")


@pytest.fixture
def settings(postgres_url: str, local_dir: Path) -> Settings:
    """Local-mode settings on this test's fresh database."""
    return Settings(runtime="local", database_url=postgres_url, local_dir=local_dir,
                    dev_issuer=True, log_level="WARNING")


@pytest.fixture(scope="session")
def sandbox_bank() -> Iterator[SandboxBankServer]:
    """One sandbox bank per worker on 127.0.0.1 (tests that change quirks start their own)."""
    server = SandboxBankServer(SandboxBank()).start()
    try:
        yield server
    finally:
        server.stop()


def sandbox_providers(server: SandboxBankServer) -> ProviderRegistry:
    """The TrueLayer adapter pointed at a sandbox bank (backoff sleeps skipped)."""
    config = TrueLayerConfig(auth_url=server.base_url, api_url=server.base_url,
                             client_id="sandbox-client", client_secret="sandbox-secret")
    http = TrueLayerHttp(config, client=httpx.Client(), sleep=lambda _: None)
    return ProviderRegistry(TrueLayerProvider(config, http=http))


def settle_syncs(app: Flask, timeout: float = 60.0) -> None:
    """Wait for the syncs ``app``'s in-process launcher runs in the background: the API
    answers 202 (the callback 200) as soon as a run is recorded, before it has run. (A Step
    Functions launcher runs nothing in this process: there is nothing to wait for.)"""
    launcher = app.extensions[SERVICES_KEY].sync_launcher
    if isinstance(launcher, InProcessLauncher):
        assert launcher.wait_idle(timeout), "a background sync run did not finish in time"


@pytest.fixture
def app(settings: Settings, sandbox_bank: SandboxBankServer) -> Iterator[Flask]:
    """The real application (every blueprint registered) on a fresh migrated database, its
    bank provider the sandbox bank (backoff sleeps skipped)."""
    services = Services(settings, bank_providers=sandbox_providers(sandbox_bank),
                        workflow_sleep=lambda _: None)
    application = create_app(services=services)
    application.config["TESTING"] = True
    yield application
    services: Services = application.extensions[SERVICES_KEY]
    services.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Flask test client of ``app``."""
    return app.test_client()


@pytest.fixture
def dev_issuer(app: Flask) -> DevIssuer:
    """The dev issuer trusted by ``app``."""
    issuer = app.extensions[SERVICES_KEY].dev_issuer
    assert issuer is not None
    return issuer


@pytest.fixture
def auth_header(dev_issuer: DevIssuer) -> AuthHeader:
    """``auth_header("ann@example.com")`` -> ``{"Authorization": "Bearer <valid token>"}``."""

    def make(email: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {dev_issuer.issue(email)}"}

    return make
