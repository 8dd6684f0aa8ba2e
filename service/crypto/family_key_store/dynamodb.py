"""Wrapped family keys in a DynamoDB table that is deliberately never backed up.

Item layout (partition key ``family_id``)::

    family_id   S  the family's UUID
    provider    S  "kms" (or "local")
    key_id      S  the wrapping KMS key ARN
    context     S  the encryption context as canonical JSON
    wrapped_key B  the KMS ciphertext blob of the data key
    created_at  S  ISO 8601 UTC

Only ``GetItem``, ``PutItem`` and ``DeleteItem`` are used: the Lambda's IAM grant on
the table is exactly those three actions.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from service.crypto.family_key_store.base import WrappedKey
from service.crypto.providers import KeyUnavailable, canonical_context

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

PARTITION_KEY = "family_id"


class DynamoDbFamilyKeyStore:
    """:class:`~service.crypto.FamilyKeyStore` on a DynamoDB table.

    Parameters
    ----------
    table_name
        The table (``FAMILY_KEYS_TABLE_NAME``); partition key ``family_id`` (string).
    dynamodb_client
        A boto3 ``dynamodb`` (low-level) client in the table's region.
    """

    def __init__(self, table_name: str, dynamodb_client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = dynamodb_client

    @property
    def table_name(self) -> str:
        """The DynamoDB table holding the wrapped keys."""
        return self._table

    def put_if_absent(self, family_id: UUID, key: WrappedKey) -> WrappedKey:
        client = self._client
        try:
            client.put_item(
                TableName=self._table,
                Item=_to_item(family_id, key),
                ConditionExpression="attribute_not_exists(family_id)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            stored = self.get(family_id)
            if stored is None:  # destroyed between our put and our read
                raise KeyUnavailable("the family's data key was destroyed concurrently") from None
            return stored
        return key

    def get(self, family_id: UUID) -> WrappedKey | None:
        out = self._client.get_item(
            TableName=self._table,
            Key={PARTITION_KEY: {"S": str(family_id)}},
            ConsistentRead=True,
        )
        item = out.get("Item")
        return None if item is None else _from_item(family_id, item)

    def destroy(self, family_id: UUID) -> None:
        self._client.delete_item(
            TableName=self._table, Key={PARTITION_KEY: {"S": str(family_id)}}
        )


def _to_item(family_id: UUID, key: WrappedKey) -> dict[str, AttributeValueTypeDef]:
    return {
        PARTITION_KEY: {"S": str(family_id)},
        "provider": {"S": key.provider},
        "key_id": {"S": key.key_id},
        "context": {"S": canonical_context(key.context).decode()},
        "wrapped_key": {"B": key.wrapped},
        "created_at": {"S": key.created_at.isoformat()},
    }


def _from_item(family_id: UUID, item: dict[str, AttributeValueTypeDef]) -> WrappedKey:
    try:
        if item[PARTITION_KEY]["S"] != str(family_id):
            raise KeyUnavailable("key store item belongs to another family")
        context = json.loads(item["context"]["S"])
        return WrappedKey(
            provider=item["provider"]["S"],
            key_id=item["key_id"]["S"],
            context={str(k): str(v) for k, v in context.items()},
            wrapped=bytes(item["wrapped_key"]["B"]),
            created_at=datetime.fromisoformat(item["created_at"]["S"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise KeyUnavailable("malformed item in the family key store") from exc
