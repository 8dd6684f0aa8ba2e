"""A store for wrapped per-tenant data keys that makes crypto-shredding real.

Envelope encryption only shreds if the wrapped data key can be destroyed
*everywhere*. A wrapped key kept in the application database survives in that
database's backups and point-in-time recovery window, so a restore brings the
"deleted" tenant's secrets back. This store keeps wrapped keys in a DynamoDB
table that is deliberately never backed up: no point-in-time recovery, no AWS
Backup selection, no streams. Deleting an item is final; database backups then
hold only ciphertext that nothing can unwrap.

The price is that losing the table loses the keys, so the table has deletion
protection and is retained on stack removal, and callers only get
``GetItem``/``PutItem``/``DeleteItem`` on it (no scans, no table-level writes).

Example
-------
::

    keys = EncryptionKeys(self, "Keys", alias_prefix="ffp-prod",
                          extra_via_services={DataClass.TOKENS: ["dynamodb"]})
    store = CryptoShreddingKeyStore(self, "FamilyKeys", key=keys.tokens)
    store.grant_key_access(api_function.role)
    api_function.add_environment("FAMILY_KEYS_TABLE_NAME", store.table_name)
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.acceptance import accept

__all__ = ["KEY_STORE_ACTIONS", "PARTITION_KEY", "CryptoShreddingKeyStore"]

PARTITION_KEY = "family_id"
KEY_STORE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem")

class CryptoShreddingKeyStore(Construct):
    """DynamoDB table of wrapped per-tenant data keys, never backed up.

    Parameters
    ----------
    key:
        Customer-managed KMS key encrypting the table. Its policy must allow use
        through ``dynamodb.<region>.amazonaws.com`` (``EncryptionKeys`` does with
        ``extra_via_services``).
    table_name:
        Optional physical name; default generated.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        key: kms.IKey,
        table_name: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self._key = key
        # The classic Table (AWS::DynamoDB::Table), which every compliance pack evaluates;
        # the packs do not inspect AWS::DynamoDB::GlobalTable (TableV2).
        self._table = dynamodb.Table(
            self,
            "Table",
            table_name=table_name,
            partition_key=dynamodb.Attribute(name=PARTITION_KEY,
                                             type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=False
            ),
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        accept(self._table,
               ("AwsSolutions-DDB3", "NIST.800.53.R5-DynamoDBPITREnabled",
                "NIST.800.53.R5-DynamoDBInBackupPlan", "HIPAA.Security-DynamoDBPITREnabled",
                "HIPAA.Security-DynamoDBInBackupPlan"),
               "Crypto-shredding store: a tenant's wrapped data key must be destroyable "
               "everywhere, so this table is deliberately never backed up (no PITR, no backup "
               "plan). Deletion protection and RETAIN guard against losing it; the database's "
               "own backups hold only ciphertext.")

    @property
    def table(self) -> dynamodb.Table:
        """The key table (partition key ``family_id``)."""
        return self._table

    @property
    def table_name(self) -> str:
        """The table's name, for the service's ``FAMILY_KEYS_TABLE_NAME``."""
        return self._table.table_name

    def grant_key_access(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow exactly get/put/delete of single items, and use of the table's key."""
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=list(KEY_STORE_ACTIONS),
            resource_arns=[self._table.table_arn],
        )
        self._key.grant(grantee, "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey")
        return grant

    def grant_key_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow reading single items and unwrapping them: for workers that never add keys."""
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=["dynamodb:GetItem"], resource_arns=[self._table.table_arn],
        )
        self._key.grant(grantee, "kms:Decrypt", "kms:DescribeKey")
        return grant
