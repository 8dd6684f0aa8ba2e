"""Requests through the Data API: at most two calls per read, four per write (issue 7).

The app runs as in Lambda on the database side: the Data API adapter over the real boto3
``rds-data`` client, pointed at the local Data API server; calls are counted on that
client (:class:`~tests.fixtures.data_api_calls.DataApiCalls`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from devtools.local_data_api import LocalDataApi
from service import create_app
from service.bootstrap import AwsClients, Services
from service.settings import Settings
from tests.fixtures.data_api_calls import DataApiCalls
from tests.fixtures.postgres import (
    TEST_CLUSTER_ARN,
    TEST_SECRET_ARN,
    database_name,
    rds_data_client,
)
from tests.service.conftest import AuthHeader
from tests.service.domain.helpers import World, build_world

MAX_READ_CALLS = 2
MAX_WRITE_CALLS = 4


@pytest.fixture
def data_api_app(
    local_data_api_server: LocalDataApi, postgres_url: str, local_dir: Path
) -> Iterator[tuple[Flask, DataApiCalls]]:
    name = database_name(postgres_url)
    client = rds_data_client(local_data_api_server.endpoint_url)
    settings = Settings(runtime="local", db_cluster_arn=TEST_CLUSTER_ARN,
                        db_secret_arn=TEST_SECRET_ARN, db_name=name, local_dir=local_dir,
                        dev_issuer=True, log_level="WARNING")
    services = Services(settings, clients=AwsClients(rds_data=client))
    app = create_app(services=services)
    try:
        yield app, DataApiCalls(client)
    finally:
        services.close()
        local_data_api_server.release_database(name)


@pytest.fixture
def world(data_api_app: tuple[Flask, DataApiCalls]) -> World:
    services = data_api_app[0].extensions["service.services"]
    return build_world(services.database, services.keyring, signer=services.audit_signer,
                       per_account=3)


Call = Callable[[FlaskClient, World, AuthHeader], Any]

READS: dict[str, Call] = {
    "me": lambda c, w, h: c.get("/v1/me", headers=h("owner@example.com")),
    "family": lambda c, w, h: c.get(f"/v1/families/{w.family}", headers=h("owner@example.com")),
    "transactions page": lambda c, w, h: c.get(
        f"/v1/families/{w.family}/transactions?limit=100&text=purchase",
        headers=h("adult@example.com")),
    "accounts": lambda c, w, h: c.get(f"/v1/families/{w.family}/accounts",
                                      headers=h("child@example.com")),
    "account": lambda c, w, h: c.get(f"/v1/accounts/{w.accounts['joint']}",
                                     headers=h("adult@example.com")),
    "balances": lambda c, w, h: c.get(f"/v1/accounts/{w.accounts['joint']}/balances",
                                      headers=h("owner@example.com")),
    "members": lambda c, w, h: c.get(f"/v1/families/{w.family}/members",
                                     headers=h("child@example.com")),
    "connections": lambda c, w, h: c.get(f"/v1/families/{w.family}/connections",
                                         headers=h("owner@example.com")),
    "audit": lambda c, w, h: c.get(f"/v1/families/{w.family}/audit",
                                   headers=h("owner@example.com")),
    "not a member": lambda c, w, h: c.get(f"/v1/families/{w.family}/transactions",
                                          headers=h("outsider@example.com")),
}

WRITES: dict[str, Call] = {
    "annotate": lambda c, w, h: c.patch(f"/v1/transactions/{w.transactions['joint'][0]}",
                                        json={"category": "food", "note": "n"},
                                        headers=h("adult@example.com")),
    "rename account": lambda c, w, h: c.patch(f"/v1/accounts/{w.accounts['savings']}",
                                              json={"nickname": "Rainy day"},
                                              headers=h("adult@example.com")),
    "change role": lambda c, w, h: c.patch(
        f"/v1/families/{w.family}/members/{w.memberships['child']}", json={"role": "adult"},
        headers=h("owner@example.com")),
    "revoke consent": lambda c, w, h: c.delete(
        f"/v1/families/{w.family}/connections/{w.connection}", headers=h("owner@example.com")),
    "create family": lambda c, w, h: c.post("/v1/families", json={"name": "New"},
                                            headers=h("loner@example.com")),
    "update me": lambda c, w, h: c.patch("/v1/me", json={"display_name": "Ann"},
                                         headers=h("owner@example.com")),
    "remove member": lambda c, w, h: c.delete(
        f"/v1/families/{w.family}/members/{w.memberships['child']}",
        headers=h("owner@example.com")),
    "refused write": lambda c, w, h: c.patch(f"/v1/accounts/{w.accounts['savings']}",
                                             json={"visibility": "private"},
                                             headers=h("owner@example.com")),
}


def _measure(data_api_app: tuple[Flask, DataApiCalls], world: World, auth_header: AuthHeader,
             call: Call) -> tuple[int, list[str]]:
    app, calls = data_api_app
    client = app.test_client()
    with calls.measure() as made:
        response = call(client, world, auth_header)
    return response.status_code, made


@pytest.mark.parametrize("name", list(READS))
def test_a_read_makes_at_most_two_data_api_calls(
    name: str, data_api_app: tuple[Flask, DataApiCalls], world: World, auth_header: AuthHeader
) -> None:
    status, made = _measure(data_api_app, world, auth_header, READS[name])
    assert status in (200, 404), status
    assert len(made) <= MAX_READ_CALLS, made
    assert "BeginTransaction" not in made  # a single statement needs no transaction


@pytest.mark.parametrize("name", list(WRITES))
def test_a_write_makes_at_most_four_data_api_calls(
    name: str, data_api_app: tuple[Flask, DataApiCalls], world: World, auth_header: AuthHeader
) -> None:
    status, made = _measure(data_api_app, world, auth_header, WRITES[name])
    assert status in (200, 201, 204, 403), status
    assert len(made) <= MAX_WRITE_CALLS, made


def test_writes_are_audited_through_the_data_api(
    data_api_app: tuple[Flask, DataApiCalls], world: World, auth_header: AuthHeader
) -> None:
    services = data_api_app[0].extensions["service.services"]
    from service.audit import verify_chain  # noqa: PLC0415

    for call in WRITES.values():
        _measure(data_api_app, world, auth_header, call)
    result = verify_chain(services.database, services.audit_keys)
    assert result.ok, result.problems
