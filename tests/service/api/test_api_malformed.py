"""Malformed input answers a 4xx problem and writes nothing (rows and audit unchanged)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.http.context import SERVICES_KEY
from tests.service.conftest import AuthHeader
from tests.service.domain.helpers import World, build_world, snapshot


@pytest.fixture
def world(app: Flask) -> World:
    services = app.extensions[SERVICES_KEY]
    return build_world(services.database, services.keyring, signer=services.audit_signer,
                       per_account=2)


def _requests(w: World) -> list[tuple[str, str, dict[str, Any], int]]:
    fam = f"/v1/families/{w.family}"
    acct = f"/v1/accounts/{w.accounts['joint']}"
    txn = f"/v1/transactions/{w.transactions['joint'][0]}"
    child = f"{fam}/members/{w.memberships['child']}"
    return [
        ("POST", "/v1/families", {"data": b"{not json", "content_type": "application/json"}, 400),
        ("POST", "/v1/families", {"data": b'{"name": "x"}', "content_type": "text/plain"}, 415),
        ("POST", "/v1/families", {"json": {"name": 42}}, 422),
        ("POST", "/v1/families", {"json": {"name": ""}}, 422),
        ("POST", "/v1/families", {"json": {"name": "a" * 101}}, 422),
        ("POST", "/v1/families", {"json": {"name": "ok", "owner": "me"}}, 422),
        ("POST", "/v1/families", {"json": {"name": "nul\u0000byte"}}, 422),
        ("POST", "/v1/families", {"json": ["name"]}, 422),
        ("POST", "/v1/families", {"json": {"name": "x" * 200_000}}, 413),
        ("POST", f"{fam}/invitations", {"json": {"email": "not-an-email"}}, 422),
        ("POST", f"{fam}/invitations", {"json": {"email": "a@b.com", "role": "king"}}, 422),
        ("PATCH", child, {"json": {"role": None}}, 422),
        ("PATCH", child, {"json": {}}, 422),
        ("PATCH", f"{fam}/members/not-a-uuid", {"json": {"role": "adult"}}, 404),
        ("GET", "/v1/families/123", {}, 404),
        ("DELETE", "/v1/families/zzz", {}, 404),
        ("PATCH", acct, {"json": {"visibility": "public"}}, 422),
        ("PATCH", acct, {"json": {"visibility": None}}, 422),
        ("PATCH", acct, {"json": {"nickname": "n" * 51}}, 422),
        ("PATCH", txn, {"json": {"category": 5}}, 422),
        ("PATCH", txn, {"json": {"note": "x" * 501}}, 422),
        ("PATCH", txn, {"json": {"amount": "1.00"}}, 422),
        ("GET", f"{fam}/transactions", {"query_string": {"limit": "0"}}, 422),
        ("GET", f"{fam}/transactions", {"query_string": {"limit": "1000"}}, 422),
        ("GET", f"{fam}/transactions", {"query_string": {"limit": "ten"}}, 422),
        ("GET", f"{fam}/transactions", {"query_string": {"cursor": "!!"}}, 422),
        ("GET", f"{fam}/transactions", {"query_string": {"cursor": "e30"}}, 422),
        ("GET", f"{fam}/transactions", {"query_string": {"amount_min": "1.234"}}, 422),
        ("GET", f"{fam}/transactions", {"query_string": {"amount_min": "NaN"}}, 422),
        ("GET", f"{fam}/transactions", {"query_string": {"date_from": "2025-13-01"}}, 422),
        ("GET", f"{fam}/transactions", {"query_string": {"account_id": "nope"}}, 422),
        ("GET", f"{fam}/transactions", {"query_string": {"sort": "amount"}}, 422),
        ("GET", f"{fam}/transactions", {"query_string": {"text": "a\u0000"}}, 422),
        ("GET", f"{fam}/audit", {"query_string": {"cursor": "eyJzIjotMX0"}}, 422),
        ("POST", f"{fam}/connections", {"json": {"provider": "BAD PROVIDER",
                                                 "access_token": "t"}}, 422),
        ("POST", f"{fam}/connections", {"json": {"provider": "bank", "access_token": "t",
                                                 "consent_expires_at": "2025-01-01T00:00"}},
         422),
        ("POST", f"{fam}/invitations", {"json": {"email": "a@b.com"},
                                        "query_string": {"x": "1"}}, 422),
    ]


def test_malformed_requests_are_problems_and_write_nothing(
    world: World, app: Flask, client: FlaskClient, auth_header: AuthHeader
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = min(app.config.get("MAX_CONTENT_LENGTH") or 65536, 65536)
    headers = auth_header("owner@example.com")
    for method, path, kwargs, status in _requests(world):
        before = snapshot(world.db)
        resp = client.open(path, method=method, headers=headers, **kwargs)
        assert resp.status_code == status, (method, path, kwargs.keys(), resp.get_json())
        assert resp.headers["Content-Type"].startswith("application/problem+json")
        problem = resp.get_json()
        assert problem["status"] == status and problem["detail"]
        assert snapshot(world.db) == before, (method, path)
