"""The Lambda entry point with hand-built API Gateway v2 (payload 2.0) events."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import boto3
import pytest
from flask import Blueprint, Flask
from moto import mock_aws
from pydantic import BaseModel, ConfigDict

from devtools.local_data_api import LocalDataApi
from devtools.sandbox_bank import SandboxBankServer
from service import create_app, lambda_handler
from service.bootstrap import AwsClients, Services
from service.http import current_principal, endpoint
from service.settings import Settings, SettingsError
from tests.fixtures.postgres import (
    TEST_CLUSTER_ARN,
    TEST_SECRET_ARN,
    database_name,
    rds_data_client,
)
from tests.service.conftest import sandbox_providers
from tests.service.platform.conftest import (
    COGNITO_CLIENT,
    COGNITO_POOL,
    COGNITO_REGION,
    FakeCognito,
)

LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "family-finance-api",
    "SERVICE_RUNTIME": "lambda",
    "AWS_DEFAULT_REGION": COGNITO_REGION,
    "AWS_REGION": COGNITO_REGION,
    "DB_CLUSTER_ARN": "arn:aws:rds:eu-west-2:123456789012:cluster:api",
    "DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-2:123456789012:secret:db-AbCdEf",
    "DB_NAME": "app",
    "TOKEN_KMS_KEY_ARN": "arn:aws:kms:eu-west-2:123456789012:key/1111-2222",
    "FAMILY_KEYS_TABLE_NAME": "family-keys",
    "AUDIT_KEY_SECRET_ARN": "arn:aws:secretsmanager:eu-west-2:123456789012:secret:audit-AbCdEf",
    "AUDIT_ANCHOR_BUCKET": "audit-anchors",
    "COGNITO_USER_POOL_ID": COGNITO_POOL,
    "COGNITO_CLIENT_ID": COGNITO_CLIENT,
    "COGNITO_REGION": COGNITO_REGION,
    "LOG_LEVEL": "WARNING",
    "POWERTOOLS_SERVICE_NAME": "family-finance-api",
}


def api_gateway_event(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    query: str = "",
    body: bytes | None = None,
) -> dict[str, Any]:
    """A payload-2.0 event as API Gateway HTTP API sends it to Lambda."""
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {
            "host": "api.example.com",
            "user-agent": "pytest",
            "x-forwarded-proto": "https",
            "x-forwarded-port": "443",
            **{k.lower(): v for k, v in (headers or {}).items()},
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "pytest",
            },
            "requestId": f"req-{uuid4()}",
            "routeKey": "$default",
            "stage": "$default",
            "time": "24/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1_795_000_000_000,
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&"))
    if body is not None:
        event["body"] = base64.b64encode(body).decode()
        event["isBase64Encoded"] = True
    return event


CONTEXT = SimpleNamespace(aws_request_id="lambda-req-1", function_name="family-finance-api")


def _json_body(result: dict[str, Any]) -> Any:
    body = result["body"]
    if result.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return json.loads(body)


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in LAMBDA_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DEV_ISSUER", raising=False)
    lambda_handler.use_app(None)
    yield
    lambda_handler.use_app(None)


def test_health_through_handler_builds_app_once(lambda_env: None) -> None:
    event = api_gateway_event("GET", "/health")
    result = lambda_handler.handler(event, CONTEXT)
    assert result["statusCode"] == 200
    assert _json_body(result) == {"status": "ok"}
    assert result["headers"]["X-Request-Id"] == event["requestContext"]["requestId"]
    app = lambda_handler.get_app()
    lambda_handler.handler(api_gateway_event("GET", "/health"), CONTEXT)
    assert lambda_handler.get_app() is app
    services: Services = app.extensions["service.services"]
    assert services.settings.is_lambda and services.dev_issuer is None
    # /health touched neither the database nor KMS nor Cognito.
    assert not {"database", "key_provider", "key_store", "keyring", "verifier",
                "secrets"} & set(services._built)


def test_handler_answers_problem_details(lambda_env: None) -> None:
    result = lambda_handler.handler(api_gateway_event("GET", "/v1/nowhere"), CONTEXT)
    assert result["statusCode"] == 404
    assert result["headers"]["Content-Type"] == "application/problem+json"
    result = lambda_handler.handler(api_gateway_event("POST", "/health"), CONTEXT)
    assert result["statusCode"] == 405


def test_dev_issuer_refused_in_lambda(lambda_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEV_ISSUER", "true")
    with pytest.raises(SettingsError, match="never run in Lambda"):
        lambda_handler.handler(api_gateway_event("GET", "/health"), CONTEXT)


def test_origin_header_enforced_in_lambda(
    lambda_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name=COGNITO_REGION)
        arn = client.create_secret(Name="origin", SecretString="from-cloudfront")["ARN"]
        monkeypatch.setenv("ORIGIN_VERIFY_SECRET_ARN", arn)
        denied = lambda_handler.handler(api_gateway_event("GET", "/health"), CONTEXT)
        allowed = lambda_handler.handler(
            api_gateway_event("GET", "/health", headers={"X-Origin-Verify": "from-cloudfront"}),
            CONTEXT,
        )
    assert denied["statusCode"] == 403
    assert allowed["statusCode"] == 200


def _whoami_app(fake_cognito: FakeCognito) -> Flask:
    settings = Settings.from_env()
    app = create_app(services=Services(settings, jwks_fetch=fake_cognito.jwks))
    bp = Blueprint("whoami", __name__, url_prefix="/v1")

    @endpoint(bp, "POST", "/whoami", summary="Echo the caller")
    def whoami() -> dict[str, str]:
        principal = current_principal()
        return {"sub": principal.subject, "email": principal.email}

    app.register_blueprint(bp)
    return app


def test_cognito_token_through_handler(lambda_env: None, fake_cognito: FakeCognito) -> None:
    lambda_handler.use_app(_whoami_app(fake_cognito))
    token = fake_cognito.token()
    ok = lambda_handler.handler(
        api_gateway_event("POST", "/v1/whoami", headers={"Authorization": f"Bearer {token}"}),
        CONTEXT,
    )
    assert ok["statusCode"] == 200
    assert _json_body(ok)["email"] == "ann@example.com"
    missing = lambda_handler.handler(api_gateway_event("POST", "/v1/whoami"), CONTEXT)
    assert missing["statusCode"] == 401
    assert missing["headers"]["WWW-Authenticate"].startswith("Bearer")


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    text: str


def test_body_limits_through_handler(lambda_env: None, fake_cognito: FakeCognito) -> None:
    app = _whoami_app(fake_cognito)
    bp = Blueprint("echo", __name__, url_prefix="/v1")

    @endpoint(bp, "POST", "/notes", body=Note, response=Note, status=201, summary="Echo")
    def echo(*, body: Note) -> Note:
        return body

    app.register_blueprint(bp)
    lambda_handler.use_app(app)
    auth = {"Authorization": f"Bearer {fake_cognito.token()}", "Content-Type": "application/json"}
    created = lambda_handler.handler(
        api_gateway_event("POST", "/v1/notes", headers=auth, body=b'{"text": "hi"}'), CONTEXT
    )
    assert created["statusCode"] == 201 and _json_body(created) == {"text": "hi"}
    huge = json.dumps({"text": "x" * 100_000}).encode()
    too_big = lambda_handler.handler(
        api_gateway_event("POST", "/v1/notes", headers=auth, body=huge), CONTEXT
    )
    assert too_big["statusCode"] == 413
    bad = lambda_handler.handler(
        api_gateway_event("POST", "/v1/notes", headers=auth, body=b"{nope"), CONTEXT
    )
    assert bad["statusCode"] == 400


def test_me_through_handler_on_the_data_api(
    lambda_env: None,
    monkeypatch: pytest.MonkeyPatch,
    fake_cognito: FakeCognito,
    local_data_api_server: LocalDataApi,
    postgres_url: str,
) -> None:
    """Lambda mode end to end: Cognito JWT, then Aurora through the (local) RDS Data API."""
    name = database_name(postgres_url)
    monkeypatch.setenv("DB_CLUSTER_ARN", TEST_CLUSTER_ARN)
    monkeypatch.setenv("DB_SECRET_ARN", TEST_SECRET_ARN)
    monkeypatch.setenv("DB_NAME", name)
    services = Services(
        Settings.from_env(),
        jwks_fetch=fake_cognito.jwks,
        clients=AwsClients(rds_data=rds_data_client(local_data_api_server.endpoint_url)),
    )
    lambda_handler.use_app(create_app(services=services))
    headers = {"Authorization": f"Bearer {fake_cognito.token(email='Erin@Example.com')}"}
    try:
        first = lambda_handler.handler(api_gateway_event("GET", "/v1/me", headers=headers), CONTEXT)
        second = lambda_handler.handler(api_gateway_event("GET", "/v1/me", headers=headers),
                                        CONTEXT)
    finally:
        services.close()
        local_data_api_server.release_database(name)
    assert first["statusCode"] == 200, first.get("body")
    me = _json_body(first)
    assert me["email"] == "erin@example.com" and me["families"] == []
    assert _json_body(second)["id"] == me["id"]  # the same user, not a second row


def test_lambda_startup_requires_the_family_key_table(
    lambda_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAMILY_KEYS_TABLE_NAME")
    with pytest.raises(SettingsError, match="missing settings: FAMILY_KEYS_TABLE_NAME"):
        lambda_handler.handler(api_gateway_event("GET", "/health"), CONTEXT)


def test_family_deletion_through_handler_shreds_the_dynamodb_key(
    lambda_env: None,
    monkeypatch: pytest.MonkeyPatch,
    fake_cognito: FakeCognito,
    sandbox_bank: SandboxBankServer,
    local_data_api_server: LocalDataApi,
    postgres_url: str,
) -> None:
    """Lambda mode end to end: KMS wraps, DynamoDB keeps, Aurora (Data API) holds no key."""
    name = database_name(postgres_url)
    monkeypatch.setenv("DB_CLUSTER_ARN", TEST_CLUSTER_ARN)
    monkeypatch.setenv("DB_SECRET_ARN", TEST_SECRET_ARN)
    monkeypatch.setenv("DB_NAME", name)
    headers = {"Authorization": f"Bearer {fake_cognito.token()}",
               "Content-Type": "application/json"}
    with mock_aws():
        kms = boto3.client("kms", region_name=COGNITO_REGION)
        monkeypatch.setenv("TOKEN_KMS_KEY_ARN", kms.create_key()["KeyMetadata"]["Arn"])
        dynamodb = boto3.client("dynamodb", region_name=COGNITO_REGION)
        dynamodb.create_table(
            TableName="family-keys", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "family_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "family_id", "KeyType": "HASH"}],
        )
        audit_secret = boto3.client("secretsmanager", region_name=COGNITO_REGION).create_secret(
            Name="audit-keys", SecretString=json.dumps(
                {"current": "k1", "keys": {"k1": base64.b64encode(b"k" * 32).decode()}}))
        monkeypatch.setenv("AUDIT_KEY_SECRET_ARN", audit_secret["ARN"])
        services = Services(
            Settings.from_env(),
            jwks_fetch=fake_cognito.jwks,
            clients=AwsClients(rds_data=rds_data_client(local_data_api_server.endpoint_url)),
            bank_providers=sandbox_providers(sandbox_bank),
        )
        lambda_handler.use_app(create_app(services=services))

        def call(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
            payload = None if body is None else json.dumps(body).encode()
            return lambda_handler.handler(
                api_gateway_event(method, path, headers=headers, body=payload), CONTEXT)

        def key_item(fid: str) -> dict[str, Any] | None:
            found: dict[str, Any] | None = dynamodb.get_item(
                TableName="family-keys", Key={"family_id": {"S": fid}}).get("Item")
            return found

        try:
            created = call("POST", "/v1/families", {"name": "Lambda family"})
            assert created["statusCode"] == 201, created.get("body")
            fid = _json_body(created)["id"]
            assert key_item(fid) is None  # created on first use
            consent = call("POST", f"/v1/families/{fid}/connections", {"provider": "truelayer"})
            assert consent["statusCode"] == 201, consent.get("body")
            item = key_item(fid)
            assert item is not None and item["provider"] == {"S": "kms"}
            assert services.database.fetch_all("SELECT * FROM family_keys") == []
            deleted = call("DELETE", f"/v1/families/{fid}")
            assert deleted["statusCode"] == 204, deleted.get("body")
            assert key_item(fid) is None
        finally:
            services.close()
            local_data_api_server.release_database(name)
