"""The user's IP: only from CloudFront-Viewer-Address in Lambda, never X-Forwarded-For."""

from __future__ import annotations

import dataclasses

import pytest
from flask import Flask

from constructs_lib.edge import VIEWER_ADDRESS_HEADER as EDGE_HEADER
from service.http.client_address import VIEWER_ADDRESS_HEADER, parse_viewer_address, user_ip
from service.http.context import SERVICES_KEY


@pytest.mark.parametrize(("value", "ip"), [
    ("192.0.2.1:4431", "192.0.2.1"),
    ("2001:db8::1:4431", "2001:db8::1"),
    ("[2001:db8::1]:443", "2001:db8::1"),
    ("", None), (None, None), ("192.0.2.1", None), ("evil:80", None), ("1.2.3.4:x", None),
])
def test_viewer_address_values(value: str | None, ip: str | None) -> None:
    assert parse_viewer_address(value) == ip


def test_the_service_reads_the_header_the_edge_forwards() -> None:
    assert VIEWER_ADDRESS_HEADER == EDGE_HEADER


def test_in_lambda_only_cloudfronts_header_counts(app: Flask) -> None:
    services = app.extensions[SERVICES_KEY]
    services.settings = dataclasses.replace(services.settings, runtime="lambda")
    headers = {"X-Forwarded-For": "203.0.113.66", VIEWER_ADDRESS_HEADER: "198.51.100.7:5123"}
    with app.test_request_context("/", headers=headers):
        assert user_ip() == "198.51.100.7"
    with app.test_request_context("/", headers={"X-Forwarded-For": "203.0.113.66"}):
        assert user_ip() is None


def test_locally_the_peer_address_is_the_user(app: Flask) -> None:
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                                  headers={"X-Forwarded-For": "203.0.113.66"}):
        assert user_ip() == "127.0.0.1"
