"""Requests through the Data API: at most two calls per read, four per write (issue 7).

The app runs with Lambda's data path: the Data API adapter over the real boto3 ``rds-data``
client pointed at the local Data API server, KMS data keys and the DynamoDB family key
store (a moto server). Calls are counted on the ``rds-data`` client
(:class:`~tests.fixtures.data_api_calls.DataApiCalls`).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from flask import Flask
from flask.testing import FlaskClient
from moto.server import ThreadedMotoServer

from devtools.local_data_api import LocalDataApi
from devtools.sandbox_bank import SandboxBankServer
from service import create_app
from service.bootstrap import AwsClients, Services
from service.domain.models import Role
from service.settings import Settings
from service.use_cases import invitations as invitations_uc
from tests.fixtures.data_api_calls import DataApiCalls
from tests.fixtures.postgres import (
    TEST_CLUSTER_ARN,
    TEST_SECRET_ARN,
    database_name,
    rds_data_client,
)
from tests.service.conftest import AuthHeader, sandbox_providers
from tests.service.domain.helpers import World, build_world, principal

MAX_READ_CALLS = 2
MAX_WRITE_CALLS = 4


@pytest.fixture(scope="module")
def aws_endpoint() -> Iterator[str]:
    """KMS and DynamoDB as in AWS, from a moto server on 127.0.0.1 (``mock_aws`` would also
    intercept the ``rds-data`` client meant for the local Data API server)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _aws_client(name: str, endpoint: str) -> Any:
    return boto3.client(name, endpoint_url=endpoint, region_name="eu-west-2",  # type: ignore[call-overload]
                        aws_access_key_id="local", aws_secret_access_key="local")


@pytest.fixture
def data_api_app(
    local_data_api_server: LocalDataApi, postgres_url: str, local_dir: Path, aws_endpoint: str,
    sandbox_bank: SandboxBankServer,
) -> Iterator[tuple[Flask, DataApiCalls]]:
    """The app with Lambda's data path: Data API, KMS data keys, DynamoDB key store."""
    name = database_name(postgres_url)
    client = rds_data_client(local_data_api_server.endpoint_url)
    kms, dynamodb = _aws_client("kms", aws_endpoint), _aws_client("dynamodb", aws_endpoint)
    table = f"family-keys-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "family_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "family_id", "KeyType": "HASH"}])
    settings = Settings(runtime="local", db_cluster_arn=TEST_CLUSTER_ARN,
                        db_secret_arn=TEST_SECRET_ARN, db_name=name, local_dir=local_dir,
                        dev_issuer=True, log_level="WARNING",
                        token_kms_key_arn=kms.create_key()["KeyMetadata"]["Arn"],
                        family_keys_table_name=table)
    services = Services(settings, clients=AwsClients(rds_data=client, kms=kms,
                                                     dynamodb=dynamodb),
                        bank_providers=sandbox_providers(sandbox_bank))
    app = create_app(services=services)
    try:
        yield app, DataApiCalls(client)
    finally:
        services.close()
        local_data_api_server.release_database(name)


@pytest.fixture
def world(data_api_app: tuple[Flask, DataApiCalls]) -> World:
    services = data_api_app[0].extensions["service.services"]
    built = build_world(services.database, services.keyring, signer=services.audit_signer,
                        per_account=3)
    issued = invitations_uc.invite(services.database, services.audit_signer,
                                   principal("owner"), built.family,
                                   email="newcomer@example.com", role=Role.ADULT)
    built.extra["invitation_token"] = issued.token
    return built


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
    "invitations": lambda c, w, h: c.get(f"/v1/families/{w.family}/invitations",
                                         headers=h("owner@example.com")),
    "not a member": lambda c, w, h: c.get(f"/v1/families/{w.family}/transactions",
                                          headers=h("outsider@example.com")),
    "categories": lambda c, w, h: c.get(f"/v1/families/{w.family}/categories",
                                        headers=h("child@example.com")),
    "rules": lambda c, w, h: c.get(f"/v1/families/{w.family}/rules",
                                   headers=h("adult@example.com")),
    "recurring": lambda c, w, h: c.get(f"/v1/families/{w.family}/recurring",
                                       headers=h("owner@example.com")),
    "runway": lambda c, w, h: c.get(
        f"/v1/families/{w.family}/runway?scenario=income_stops,expense:2030-01-01:10&buffer=5",
        headers=h("owner@example.com")),
    "spending": lambda c, w, h: c.get(
        f"/v1/families/{w.family}/spending?period=month&by=category&start=2025-01-01",
        headers=h("child@example.com")),
}

WRITES: dict[str, Call] = {
    "annotate": lambda c, w, h: c.patch(f"/v1/transactions/{w.transactions['joint'][0]}",
                                        json={"category": "groceries", "note": "n"},
                                        headers=h("adult@example.com")),
    "rename account": lambda c, w, h: c.patch(f"/v1/accounts/{w.accounts['savings']}",
                                              json={"nickname": "Rainy day"},
                                              headers=h("adult@example.com")),
    "change role": lambda c, w, h: c.patch(
        f"/v1/families/{w.family}/members/{w.memberships['child']}", json={"role": "adult"},
        headers=h("owner@example.com")),
    "delete family": lambda c, w, h: c.delete(f"/v1/families/{w.other_family}",
                                              headers=h("outsider@example.com")),
    "revoke consent": lambda c, w, h: c.delete(
        f"/v1/families/{w.family}/connections/{w.connection}", headers=h("owner@example.com")),
    "create family": lambda c, w, h: c.post("/v1/families", json={"name": "New"},
                                            headers=h("loner@example.com")),
    "update me": lambda c, w, h: c.patch("/v1/me", json={"display_name": "Ann"},
                                         headers=h("owner@example.com")),
    "remove member": lambda c, w, h: c.delete(
        f"/v1/families/{w.family}/members/{w.memberships['child']}",
        headers=h("owner@example.com")),
    "invite member": lambda c, w, h: c.post(
        f"/v1/families/{w.family}/invitations", json={"email": "kate@example.com"},
        headers=h("owner@example.com")),
    # A first-time caller: their user row is created in the same statements.
    "accept invitation": lambda c, w, h: c.post(
        "/v1/invitations/accept", json={"token": w.extra["invitation_token"]},
        headers=h("newcomer@example.com")),
    "create rule": lambda c, w, h: c.post(
        f"/v1/families/{w.family}/rules", json={"category": "bills", "text": "energy"},
        headers=h("adult@example.com")),
    "refused rule": lambda c, w, h: c.post(
        f"/v1/families/{w.family}/rules", json={"category": "bills", "text": "energy"},
        headers=h("child@example.com")),
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
    print(f"\nread  {name}: {len(made)} call(s) {made}")
    assert len(made) <= MAX_READ_CALLS, made
    assert "BeginTransaction" not in made  # a single statement needs no transaction


@pytest.mark.parametrize("name", list(WRITES))
def test_a_write_makes_at_most_four_data_api_calls(
    name: str, data_api_app: tuple[Flask, DataApiCalls], world: World, auth_header: AuthHeader
) -> None:
    status, made = _measure(data_api_app, world, auth_header, WRITES[name])
    assert status in (200, 201, 204, 403), status
    print(f"\nwrite {name}: {len(made)} call(s) {made}")
    assert len(made) <= MAX_WRITE_CALLS + EXTRA_READS.get(name, 0), made


# Writes that call the bank provider read first (scope, role, the sealed connection id),
# call the provider outside any transaction, then write: one call more.
EXTRA_READS = {"revoke consent": 1}


def test_refresh_after_sync_through_the_data_api(
    data_api_app: tuple[Flask, DataApiCalls], world: World, auth_header: AuthHeader
) -> None:
    """The post-sync refresh's SQL (JSON arrays, batches, the advisory lock) runs through the
    Data API adapter too, and a re-run writes nothing."""
    from service.use_cases import insights as insights_uc  # noqa: PLC0415

    services = data_api_app[0].extensions["service.services"]
    accounts = [a for label, a in world.accounts.items() if label != "other"]
    first = insights_uc.refresh_after_sync(services.database, family_id=world.family,
                                           account_ids=accounts)
    assert first.categorised == first.transactions > 0
    again = insights_uc.refresh_after_sync(services.database, family_id=world.family,
                                           account_ids=accounts)
    assert (again.categorised, again.series_written, again.series_removed) == (0, 0, 0)
    client = data_api_app[0].test_client()
    page = client.get(f"/v1/families/{world.family}/transactions",
                      headers=auth_header("owner@example.com")).get_json()
    assert all(t["category"] is not None for t in page["items"])


def test_writes_are_audited_through_the_data_api(
    data_api_app: tuple[Flask, DataApiCalls], world: World, auth_header: AuthHeader
) -> None:
    services = data_api_app[0].extensions["service.services"]
    from service.audit import verify_chain  # noqa: PLC0415

    for call in WRITES.values():
        _measure(data_api_app, world, auth_header, call)
    result = verify_chain(services.database, services.audit_keys)
    assert result.ok, result.problems
