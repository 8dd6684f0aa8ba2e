"""CryptoShreddingKeyStore: CMK-encrypted, never backed up, item-level access only."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from constructs_lib.encryption_keys import DataClass, EncryptionKeys
from constructs_lib.key_store import KEY_STORE_ACTIONS, CryptoShreddingKeyStore

ENV = cdk.Environment(account="111111111111", region="eu-west-2")


def _stack(app: cdk.App) -> tuple[cdk.Stack, CryptoShreddingKeyStore, iam.Role]:
    stack = cdk.Stack(app, "Store", env=ENV)
    keys = EncryptionKeys(stack, "Keys", alias_prefix="t", classes=[DataClass.TOKENS],
                          extra_via_services={DataClass.TOKENS: ("dynamodb",)})
    store = CryptoShreddingKeyStore(stack, "FamilyKeys", key=keys.tokens)
    role = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    store.grant_key_access(role)
    return stack, store, role


def test_table_is_cmk_encrypted_protected_and_never_backed_up(app: cdk.App) -> None:
    stack, _, _ = _stack(app)
    template = Template.from_stack(stack)
    (table,) = template.find_resources("AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["SSESpecification"]["SSEType"] == "KMS"
    assert "Fn::GetAtt" in props["SSESpecification"]["KMSMasterKeyId"]
    assert props["DeletionProtectionEnabled"] is True
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": False}
    assert table["DeletionPolicy"] == "Retain"
    assert props["KeySchema"] == [{"AttributeName": "family_id", "KeyType": "HASH"}]
    assert "StreamSpecification" not in props


def test_grant_is_exactly_item_get_put_delete_on_this_table(app: cdk.App) -> None:
    stack, _, _ = _stack(app)
    template = Template.from_stack(stack)
    statements = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    dynamo = [s for s in statements if any(a.startswith("dynamodb:") for a in
                                          ([s["Action"]] if isinstance(s["Action"], str)
                                           else s["Action"]))]
    assert len(dynamo) == 1
    assert sorted(dynamo[0]["Action"]) == sorted(KEY_STORE_ACTIONS)
    resource = dynamo[0]["Resource"]
    assert isinstance(resource, dict) and "Fn::GetAtt" in resource  # the table ARN, not "*"


def test_acknowledges_exactly_the_findings_no_backups_cause(
    app: cdk.App, nag_findings: Callable[[cdk.App], set[tuple[str, str]]]
) -> None:
    _stack(app)
    assert not {rule for rule, path in nag_findings(app) if "FamilyKeys" in path}

    # The same table without the construct's acknowledgements raises exactly those rules,
    # so the list is neither stale nor hiding anything else.
    bare_app = cdk.App(outdir=app.outdir + "-bare")
    stack = cdk.Stack(bare_app, "Bare", env=ENV)
    keys = EncryptionKeys(stack, "Keys", alias_prefix="t", classes=[DataClass.TOKENS],
                          extra_via_services={DataClass.TOKENS: ("dynamodb",)})
    dynamodb.Table(
        stack, "Table",
        partition_key=dynamodb.Attribute(name="family_id", type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED, encryption_key=keys.tokens,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=False),
        deletion_protection=True,
    )
    bare = {rule for rule, path in nag_findings(bare_app) if "/Table" in path}
    assert bare == {"AwsSolutions-DDB3", "NIST.800.53.R5-DynamoDBPITREnabled",
                    "NIST.800.53.R5-DynamoDBInBackupPlan", "HIPAA.Security-DynamoDBPITREnabled",
                    "HIPAA.Security-DynamoDBInBackupPlan"}
