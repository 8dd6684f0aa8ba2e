"""Secrets from Secrets Manager / SSM (moto) with TTL caching; CloudFront origin header."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from flask.testing import FlaskClient
from moto import mock_aws

from service import create_app
from service.bootstrap import AwsClients, Services
from service.origin import HEADER, origin_is_verified
from service.secrets import SecretLoader, SecretUnavailableError
from service.settings import Settings
from tests.service.platform.conftest import UNUSED_DB_URL

REGION = "eu-west-2"


class CallCounter:
    """Counts real API calls a boto3 client makes (observed via botocore events)."""

    def __init__(self, client: Any, operation: str) -> None:
        self.count = 0
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-call.{service}.{operation}", self._count)

    def _count(self, **_: Any) -> None:
        self.count += 1


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def secrets_client(aws: None) -> Any:
    return boto3.client("secretsmanager", region_name=REGION)


@pytest.fixture
def ssm_client(aws: None) -> Any:
    return boto3.client("ssm", region_name=REGION)


def test_secret_is_cached_for_max_age(secrets_client: Any) -> None:
    arn = secrets_client.create_secret(Name="bank-client", SecretString="s3cr3t-v1")["ARN"]
    calls = CallCounter(secrets_client, "GetSecretValue")
    loader = SecretLoader(max_age=300, secrets_client=secrets_client)
    assert loader.get_secret(arn) == "s3cr3t-v1"
    secrets_client.put_secret_value(SecretId=arn, SecretString="s3cr3t-v2")
    assert loader.get_secret(arn) == "s3cr3t-v1"  # served from the cache
    assert calls.count == 1
    assert loader.get_secret(arn, force_fetch=True) == "s3cr3t-v2"
    assert calls.count == 2


def test_zero_max_age_always_fetches(secrets_client: Any) -> None:
    arn = secrets_client.create_secret(Name="rotating", SecretString="a")["ARN"]
    calls = CallCounter(secrets_client, "GetSecretValue")
    loader = SecretLoader(max_age=0, secrets_client=secrets_client)
    loader.get_secret(arn)
    secrets_client.put_secret_value(SecretId=arn, SecretString="b")
    assert loader.get_secret(arn) == "b"
    assert calls.count == 2


def test_ssm_parameter_decrypted_and_cached(ssm_client: Any) -> None:
    ssm_client.put_parameter(Name="/ff/ai-settings", Value='{"model":"x"}', Type="SecureString")
    calls = CallCounter(ssm_client, "GetParameter")
    loader = SecretLoader(max_age=300, ssm_client=ssm_client)
    assert loader.get_parameter("/ff/ai-settings") == '{"model":"x"}'
    assert loader.get_parameter("/ff/ai-settings") == '{"model":"x"}'
    assert calls.count == 1


def test_missing_secret_raises_clear_error(secrets_client: Any) -> None:
    loader = SecretLoader(secrets_client=secrets_client)
    with pytest.raises(SecretUnavailableError, match="could not be read"):
        loader.get_secret("arn:aws:secretsmanager:eu-west-2:123456789012:secret:nope-AbCdEf")


def test_no_client_is_created_before_first_use() -> None:
    loader = SecretLoader()
    assert loader._secrets is None and loader._ssm is None


@pytest.mark.parametrize(
    ("secret", "presented", "ok"),
    [
        ("value-1", "value-1", True),
        ("value-1", "value-2", False),
        ("value-1", "", False),
        ("value-1", None, False),
        (json.dumps({"current": "new", "previous": "old"}), "new", True),
        (json.dumps({"current": "new", "previous": "old"}), "old", True),
        (json.dumps({"current": "new", "previous": "old"}), "older", False),
        (json.dumps({"current": "new"}), "old", False),
    ],
)
def test_origin_header_comparison(secret: str, presented: str | None, ok: bool) -> None:
    assert origin_is_verified(presented, secret) is ok


@pytest.fixture
def origin_client(secrets_client: Any, local_dir: Path) -> tuple[FlaskClient, str, Any]:
    arn = secrets_client.create_secret(Name="origin-verify", SecretString="cf-origin-1")["ARN"]
    settings = Settings(runtime="local", database_url=UNUSED_DB_URL, local_dir=local_dir,
                        origin_verify_secret_arn=arn, log_level="WARNING")
    services = Services(settings, clients=AwsClients(secretsmanager=secrets_client))
    return create_app(services=services).test_client(), arn, secrets_client


def test_requests_without_origin_header_are_403(
    origin_client: tuple[FlaskClient, str, Any],
) -> None:
    client, _arn, _ = origin_client
    for headers in ({}, {HEADER: "wrong"}):
        response = client.get("/health", headers=headers)
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"
    # Even unknown routes are refused before routing reveals anything.
    assert client.get("/v1/whatever").status_code == 403


def test_requests_with_origin_header_pass(origin_client: tuple[FlaskClient, str, Any]) -> None:
    client, _arn, _ = origin_client
    assert client.get("/health", headers={HEADER: "cf-origin-1"}).status_code == 200


def test_origin_secret_fetched_once_then_cached(
    origin_client: tuple[FlaskClient, str, Any],
) -> None:
    client, _arn, secrets_client = origin_client
    calls = CallCounter(secrets_client, "GetSecretValue")
    for _ in range(5):
        client.get("/health", headers={HEADER: "cf-origin-1"})
    assert calls.count == 1


def test_origin_rotation_accepts_previous_value(
    secrets_client: Any, local_dir: Path
) -> None:
    rotated = json.dumps({"current": "cf-origin-2", "previous": "cf-origin-1"})
    arn = secrets_client.create_secret(Name="origin-rotating", SecretString=rotated)["ARN"]
    settings = Settings(runtime="local", database_url=UNUSED_DB_URL, local_dir=local_dir,
                        origin_verify_secret_arn=arn, log_level="WARNING")
    client = create_app(
        services=Services(settings, clients=AwsClients(secretsmanager=secrets_client))
    ).test_client()
    assert client.get("/health", headers={HEADER: "cf-origin-1"}).status_code == 200
    assert client.get("/health", headers={HEADER: "cf-origin-2"}).status_code == 200
    assert client.get("/health", headers={HEADER: "cf-origin-0"}).status_code == 403
