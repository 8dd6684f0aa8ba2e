"""Which family key store the service builds, and the Lambda setting it requires."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import boto3
import pytest
from moto import mock_aws

from service.bootstrap import Services
from service.crypto.family_key_store import DynamoDbFamilyKeyStore, PostgresFamilyKeyStore
from service.settings import Settings, SettingsError

LAMBDA = {
    "SERVICE_RUNTIME": "lambda",
    "AWS_REGION": "eu-west-2",
    "DB_CLUSTER_ARN": "arn:aws:rds:eu-west-2:123456789012:cluster:c",
    "DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-2:123456789012:secret:s",
    "TOKEN_KMS_KEY_ARN": "arn:aws:kms:eu-west-2:123456789012:key/k",
    "FAMILY_KEYS_TABLE_NAME": "family-keys",
    "AUDIT_KEY_SECRET_ARN": "arn:aws:secretsmanager:eu-west-2:123456789012:secret:audit",
    "AUDIT_ANCHOR_BUCKET": "audit-anchors",
    "COGNITO_USER_POOL_ID": "eu-west-2_Pool",
    "COGNITO_CLIENT_ID": "client",
}


def test_lambda_settings_require_the_key_table() -> None:
    settings = Settings.from_env(LAMBDA)
    assert settings.family_keys_table_name == "family-keys"
    assert settings.aws_region == "eu-west-2"
    without = {k: v for k, v in LAMBDA.items() if k != "FAMILY_KEYS_TABLE_NAME"}
    with pytest.raises(SettingsError, match="FAMILY_KEYS_TABLE_NAME"):
        Settings.from_env(without)
    with pytest.raises(SettingsError, match="FAMILY_KEYS_TABLE_NAME"):
        Settings.from_env({**without, "FAMILY_KEYS_TABLE_NAME": "  "})


def test_lambda_builds_the_dynamodb_store_in_the_settings_region(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # not where the table is
    services = Services(Settings.from_env(LAMBDA))
    with mock_aws():
        boto3.client("dynamodb", region_name="eu-west-2").create_table(
            TableName="family-keys", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "family_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "family_id", "KeyType": "HASH"}],
        )
        store = services.key_store
        assert isinstance(store, DynamoDbFamilyKeyStore) and store.table_name == "family-keys"
        assert store.get(uuid4()) is None  # the table was found: the client is in eu-west-2
    assert services.keyring.store is store


def test_lambda_services_refuse_to_fall_back_to_the_database(local_dir: Path) -> None:
    settings = Settings(runtime="lambda", dev_issuer=False, local_dir=local_dir)
    with pytest.raises(RuntimeError, match="FAMILY_KEYS_TABLE_NAME"):
        _ = Services(settings).key_store


def test_local_mode_keeps_keys_in_the_database(local_dir: Path) -> None:
    settings = Settings(runtime="local", database_url="postgresql://nobody@127.0.0.1:1/none",
                        local_dir=local_dir)
    services = Services(settings)
    try:
        assert isinstance(services.key_store, PostgresFamilyKeyStore)  # connects lazily
    finally:
        services.close()
