"""Request bodies over MAX_CONTENT_LENGTH answer 413 however they are framed.

The finding: a chunked POST of a small JSON document, 64 KiB of whitespace and then
garbage was cut at the limit and processed (201). Each path a request can take is
checked: Flask's test client, a real WSGI server speaking HTTP/1.1 chunked encoding,
and the Lambda handler with an API Gateway event.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Blueprint, Flask
from pydantic import BaseModel, ConfigDict
from werkzeug.serving import make_server

from service import lambda_handler
from service.http import endpoint
from service.settings import DEFAULT_MAX_CONTENT_LENGTH
from tests.service.platform.test_lambda_handler import CONTEXT, api_gateway_event

LIMIT = DEFAULT_MAX_CONTENT_LENGTH
SMUGGLED = b'{"name": "ok"}' + b" " * LIMIT + b"garbage"  # valid JSON if cut at the limit
SMALL = b'{"name": "ok"}' + b" " * 1000


class EchoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


class EchoOut(BaseModel):
    name: str


@pytest.fixture
def echo_app(platform_app: Flask) -> Flask:
    bp = Blueprint("echo", __name__)

    @endpoint(bp, "POST", "/v1/echo", body=EchoIn, response=EchoOut, status=201, summary="Echo",
              public=True)
    def echo(*, body: EchoIn) -> EchoOut:
        return EchoOut(name=body.name)

    platform_app.register_blueprint(bp)
    return platform_app


def _chunks(data: bytes, size: int = 4096) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


# -- Flask test client ------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [True, False])
def test_test_client_over_the_limit_is_413(echo_app: Flask, chunked: bool) -> None:
    headers = {"Content-Type": "application/json"}
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
        response = echo_app.test_client().post("/v1/echo", input_stream=io.BytesIO(SMUGGLED),
                                               headers=headers)
    else:
        response = echo_app.test_client().post("/v1/echo", data=SMUGGLED, headers=headers)
    assert response.status_code == 413, response.get_data()
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_test_client_chunked_within_the_limit_is_processed(echo_app: Flask) -> None:
    response = echo_app.test_client().post(
        "/v1/echo", input_stream=io.BytesIO(SMALL),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    assert response.status_code == 201, response.get_data()
    assert response.get_json() == {"name": "ok"}


# -- a real WSGI server -----------------------------------------------------------------------


@pytest.fixture
def server(echo_app: Flask) -> Iterator[tuple[str, int]]:
    wsgi = make_server("127.0.0.1", 0, echo_app, threaded=True)
    thread = threading.Thread(target=wsgi.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", wsgi.server_port
    finally:
        wsgi.shutdown()
        thread.join(timeout=5)


def _post_chunked(address: tuple[str, int], body: bytes) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection(*address, timeout=10)
    try:
        conn.request("POST", "/v1/echo", body=_chunks(body),
                     headers={"Content-Type": "application/json"}, encode_chunked=True)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def test_real_server_chunked_over_the_limit_is_413(server: tuple[str, int]) -> None:
    status, problem = _post_chunked(server, SMUGGLED)
    assert status == 413, problem
    assert problem["status"] == 413


def test_real_server_chunked_within_the_limit_is_processed(server: tuple[str, int]) -> None:
    status, body = _post_chunked(server, SMALL)
    assert (status, body) == (201, {"name": "ok"})


# -- the Lambda handler -----------------------------------------------------------------------


@pytest.fixture
def lambda_echo(echo_app: Flask) -> Iterator[None]:
    lambda_handler.use_app(echo_app)
    yield
    lambda_handler.use_app(None)


@pytest.mark.parametrize("framing", [{"transfer-encoding": "chunked"}, {}])
def test_lambda_over_the_limit_is_413(lambda_echo: None, framing: dict[str, str]) -> None:
    event = api_gateway_event("POST", "/v1/echo", body=SMUGGLED,
                              headers={"content-type": "application/json", **framing})
    result = lambda_handler.handler(event, CONTEXT)
    assert result["statusCode"] == 413, result.get("body")


def test_lambda_chunked_within_the_limit_is_processed(lambda_echo: None) -> None:
    event = api_gateway_event("POST", "/v1/echo", body=SMALL,
                              headers={"content-type": "application/json",
                                       "transfer-encoding": "chunked"})
    result = lambda_handler.handler(event, CONTEXT)
    assert result["statusCode"] == 201, result.get("body")
    body = result["body"]
    if result.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    assert json.loads(body) == {"name": "ok"}
