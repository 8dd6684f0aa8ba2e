"""Fixtures of the crypto tests: KMS and the DynamoDB family key store on moto."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from service.crypto import KmsDataKeyProvider
from service.crypto.family_key_store import DynamoDbFamilyKeyStore

REGION = "eu-west-2"
TABLE = "family-keys"


def create_key_table(region: str = REGION, name: str = TABLE) -> None:
    """The table the infrastructure creates: partition key ``family_id`` (string)."""
    boto3.client("dynamodb", region_name=region).create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "family_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "family_id", "KeyType": "HASH"}],
    )


@pytest.fixture
def kms_provider() -> Iterator[KmsDataKeyProvider]:
    with mock_aws():
        client = boto3.client("kms", region_name=REGION)
        key_id = client.create_key(Description="consent tokens")["KeyMetadata"]["Arn"]
        yield KmsDataKeyProvider(client, key_id)


@pytest.fixture
def dynamodb_store(kms_provider: KmsDataKeyProvider) -> DynamoDbFamilyKeyStore:
    """The Lambda key store on a moto table (inside ``kms_provider``'s moto context)."""
    create_key_table()
    return DynamoDbFamilyKeyStore(TABLE, boto3.client("dynamodb", region_name=REGION))
