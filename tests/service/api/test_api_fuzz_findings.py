"""Regressions for what the API fuzzing (tests/service/fuzz) turned up: each input used to
answer 500; it must be a 422 problem that writes nothing."""

from __future__ import annotations

import base64
import json
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
                       per_account=1)


def _cursor(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _assert_unprocessable_and_nothing_written(
    world: World, client: FlaskClient, headers: dict[str, str], method: str, path: str,
    **kwargs: Any,
) -> dict[str, Any]:
    before = snapshot(world.db)
    response = client.open(path, method=method, headers=headers, **kwargs)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem: dict[str, Any] = response.get_json()
    assert problem["status"] == 422 and problem["detail"]
    assert snapshot(world.db) == before
    return problem


@pytest.mark.parametrize("seq", [2**63, 10**24])
def test_audit_cursor_beyond_bigint_is_rejected(
    world: World, client: FlaskClient, auth_header: AuthHeader, seq: int
) -> None:
    # Was: the sequence number reached PostgreSQL and overflowed bigint (500).
    problem = _assert_unprocessable_and_nothing_written(
        world, client, auth_header("owner@example.com"), "GET",
        f"/v1/families/{world.family}/audit", query_string={"cursor": _cursor({"s": seq})})
    assert problem["detail"] == "The cursor is not valid."


def test_largest_audit_cursor_is_still_accepted(
    world: World, client: FlaskClient, auth_header: AuthHeader
) -> None:
    response = client.get(f"/v1/families/{world.family}/audit",
                          query_string={"cursor": _cursor({"s": 2**63 - 1})},
                          headers=auth_header("owner@example.com"))
    assert response.status_code == 200
    assert response.get_json()["items"]


@pytest.mark.parametrize("body", [
    {"provider": "truelayer", "access_token": "t"},
    {"provider": "truelayer", "access_token": "t", "refresh_token": "r",
     "consent_expires_at": "2030-06-01T09:30:00+05:30"},
])
def test_provider_tokens_are_never_accepted_from_a_client(
    world: World, client: FlaskClient, auth_header: AuthHeader, body: dict[str, Any]
) -> None:
    # The token-taking body is gone: connections are created by the service at the provider.
    problem = _assert_unprocessable_and_nothing_written(
        world, client, auth_header("owner@example.com"), "POST",
        f"/v1/families/{world.family}/connections", json=body)
    assert ["body", "access_token"] in [e["loc"] for e in problem["errors"]]
