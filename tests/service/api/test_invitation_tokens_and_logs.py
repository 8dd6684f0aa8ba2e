"""Invitation tokens never travel in URLs; search text and amounts never reach the logs."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.openapi import build_openapi
from tests.service.conftest import AuthHeader


def _family_and_token(client: FlaskClient, auth_header: AuthHeader) -> tuple[str, str]:
    owner = auth_header("ann@example.com")
    fid = client.post("/v1/families", json={"name": "The Smiths"}, headers=owner).get_json()["id"]
    token = client.post(f"/v1/families/{fid}/invitations",
                        json={"email": "bob@example.com", "role": "adult"},
                        headers=owner).get_json()["token"]
    return fid, token


def _access_lines(output: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == "service.access"]


def test_the_token_is_accepted_in_the_body_only(client: FlaskClient,
                                                auth_header: AuthHeader) -> None:
    fid, token = _family_and_token(client, auth_header)
    bob = auth_header("bob@example.com")
    old = client.post(f"/v1/invitations/{token}/accept", headers=bob)
    assert old.status_code == 404  # the path route is gone, and it joined nobody
    assert client.get(f"/v1/families/{fid}", headers=bob).status_code == 404

    joined = client.post("/v1/invitations/accept", json={"token": token}, headers=bob)
    assert joined.status_code == 200, joined.get_json()
    assert joined.get_json()["id"] == fid


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": "x" * 101},
                                  {"token": "abc", "family": "x"}])
def test_malformed_accept_bodies_are_422(client: FlaskClient, auth_header: AuthHeader,
                                         body: dict[str, Any]) -> None:
    resp = client.post("/v1/invitations/accept", json=body, headers=auth_header("bob@example.com"))
    assert resp.status_code == 422
    assert resp.headers["Content-Type"].startswith("application/problem+json")


def test_no_documented_path_carries_a_token(app: Flask) -> None:
    paths = build_openapi(app)["paths"]
    assert "/v1/invitations/accept" in paths
    assert not [p for p in paths if "token" in p.lower()]


def test_access_logs_hold_no_token_search_text_or_amount(
    app: Flask, client: FlaskClient, auth_header: AuthHeader,
    capsys: pytest.CaptureFixture[str],
) -> None:
    logging.getLogger("service").setLevel(logging.INFO)
    fid, token = _family_and_token(client, auth_header)
    capsys.readouterr()
    bob = auth_header("bob@example.com")
    client.post("/v1/invitations/accept", json={"token": token}, headers=bob)
    search = client.get(f"/v1/families/{fid}/transactions?text=pregnancy+test&amount_min=-1234.56",
                        headers=auth_header("ann@example.com"))
    assert search.status_code == 200, search.get_json()
    output = capsys.readouterr().out
    lines = _access_lines(output)
    assert [line["route"] for line in lines] == [
        "/v1/invitations/accept", "/v1/families/<fid>/transactions"]
    for secret in (token, "pregnancy", "1234.56", "bob@example.com", "text="):
        assert secret not in output
