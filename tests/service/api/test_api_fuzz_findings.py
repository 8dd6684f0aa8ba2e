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


@pytest.mark.parametrize("expires", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00"])
def test_consent_expiry_outside_utc_range_is_rejected(
    world: World, client: FlaskClient, auth_header: AuthHeader, expires: str
) -> None:
    # Was: a valid local time whose UTC instant falls outside years 1..9999 overflowed when
    # the database adapter normalised it to UTC (500).
    problem = _assert_unprocessable_and_nothing_written(
        world, client, auth_header("owner@example.com"), "POST",
        f"/v1/families/{world.family}/connections",
        json={"provider": "bank", "access_token": "t", "consent_expires_at": expires})
    assert [e["loc"] for e in problem["errors"]] == [["body", "consent_expires_at"]]


def test_consent_expiry_with_an_offset_is_stored_as_the_same_instant(
    world: World, client: FlaskClient, auth_header: AuthHeader
) -> None:
    response = client.post(
        f"/v1/families/{world.family}/connections", headers=auth_header("owner@example.com"),
        json={"provider": "bank", "access_token": "t",
              "consent_expires_at": "2030-06-01T09:30:00+05:30"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["consent_expires_at"] == "2030-06-01T04:00:00Z"
