"""The post-deploy smoke test: real SRP sign-in (moto's Cognito), secret from Secrets Manager.

The API is a local stand-in on 127.0.0.1 that answers like the deployed one and accepts
only the access token Cognito issued to the smoke-test user (checked with GetUser).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devtools.smoke import SmokeError, main, run_checks, smoke_user

REGION = "eu-west-2"
PASSWORD = "Smoke-Test-Passw0rd!-long-enough"


class _Api(BaseHTTPRequestHandler):
    cognito: Any
    broken: set[str]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path in self.broken:
            return self._send(503, {"title": "unavailable"})
        if self.path == "/health":
            return self._send(200, {"status": "ok"})
        if self.path == "/openapi.json":
            return self._send(200, {"openapi": "3.1.0", "paths": {"/v1/me": {}}})
        if self.path == "/v1/me":
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            try:
                user = self.cognito.get_user(AccessToken=token)
            except Exception:
                return self._send(401, {"title": "authentication required"})
            return self._send(200, {"username": user["Username"]})
        return self._send(404, {"title": "not found"})

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def stage() -> Iterator[dict[str, Any]]:
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name=REGION)
        pool = cognito.create_user_pool(PoolName="families")["UserPool"]["Id"]
        client = cognito.create_user_pool_client(
            UserPoolId=pool, ClientName="app",
            ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        cognito.admin_create_user(UserPoolId=pool, Username="smoke-test@platform.invalid")
        cognito.admin_set_user_password(UserPoolId=pool, Username="smoke-test@platform.invalid",
                                        Password=PASSWORD, Permanent=True)
        secrets = boto3.client("secretsmanager", region_name=REGION)
        secret = secrets.create_secret(Name="ffp-delivery/smoke-test-user", SecretString=json.dumps(
            {"username": "smoke-test@platform.invalid", "password": PASSWORD}))["ARN"]
        handler = type("Api", (_Api,), {"cognito": cognito, "broken": set()})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield {"url": f"http://127.0.0.1:{server.server_address[1]}", "pool": pool,
                   "client": client, "secret": secret, "cognito": cognito,
                   "secrets": secrets, "broken": handler.broken}
        finally:
            server.shutdown()
            server.server_close()


def _argv(stage: dict[str, Any]) -> list[str]:
    return ["--api-url", stage["url"], "--user-pool-id", stage["pool"],
            "--client-id", stage["client"], "--secret-id", stage["secret"]]


def test_the_smoke_test_passes_against_a_healthy_stage(
    stage: dict[str, Any], capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(_argv(stage), secrets_client=stage["secrets"], cognito_client=stage["cognito"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PASS health" in out and "PASS openapi" in out and "PASS authenticated" in out
    assert PASSWORD not in out


@pytest.mark.parametrize("path", ["/health", "/openapi.json", "/v1/me"])
def test_each_failing_check_fails_the_step(
    stage: dict[str, Any], path: str, capsys: pytest.CaptureFixture[str],
) -> None:
    stage["broken"].add(path)
    code = main(_argv(stage), secrets_client=stage["secrets"], cognito_client=stage["cognito"])
    assert code == 1
    assert path in capsys.readouterr().err


def test_a_token_the_api_rejects_fails_the_authenticated_check(stage: dict[str, Any]) -> None:
    with pytest.raises(SmokeError, match="answered 401"):
        run_checks(stage["url"], lambda: "not-a-token")


def test_a_malformed_smoke_secret_is_a_clear_error(stage: dict[str, Any]) -> None:
    stage["secrets"].put_secret_value(SecretId=stage["secret"], SecretString="hunter2")
    with pytest.raises(SmokeError, match="'username' and 'password'") as error:
        smoke_user(stage["secrets"], stage["secret"])
    assert "hunter2" not in str(error.value)
