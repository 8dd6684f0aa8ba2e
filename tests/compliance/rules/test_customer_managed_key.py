from __future__ import annotations

import pytest

from constructs_lib.compliance.cfn import LinkedTemplate
from constructs_lib.compliance.model import Compliance
from constructs_lib.compliance.rules.encryption.customer_managed_key import check

from .helpers import KEY, judge, res, template

KEY_REF = {"Fn::GetAtt": ["Key", "Arn"]}
IMPORTED = "arn:aws:kms:eu-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"

COMPLIANT = {
    "log group": res("AWS::Logs::LogGroup", KmsKeyId=KEY_REF),
    "secret with imported key": res("AWS::SecretsManager::Secret", KmsKeyId=IMPORTED),
    "queue": res("AWS::SQS::Queue", KmsMasterKeyId={"Ref": "Key"}),
    "topic via customer alias": res("AWS::SNS::Topic", KmsMasterKeyId={"Ref": "Alias"}),
    "bucket": res("AWS::S3::Bucket", BucketEncryption={"ServerSideEncryptionConfiguration": [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                           "KMSMasterKeyID": KEY_REF}}]}),
    "state machine": res("AWS::StepFunctions::StateMachine", EncryptionConfiguration={
        "Type": "CUSTOMER_MANAGED_KMS_KEY", "KmsKeyId": KEY_REF}),
    "aurora cluster": res("AWS::RDS::DBCluster", StorageEncrypted=True, KmsKeyId=KEY_REF),
    "dynamodb table": res("AWS::DynamoDB::Table", SSESpecification={
        "SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": KEY_REF}),
}

NON_COMPLIANT = {
    "log group default encryption": res("AWS::Logs::LogGroup"),
    "secret with aws-managed key": res("AWS::SecretsManager::Secret",
                                       KmsKeyId="alias/aws/secretsmanager"),
    "queue with sqs-managed sse": res("AWS::SQS::Queue", SqsManagedSseEnabled=True),
    "topic via aws-managed alias arn": res(
        "AWS::SNS::Topic", KmsMasterKeyId="arn:aws:kms:eu-west-2:1:alias/aws/sns"),
    "topic with imported key": res("AWS::SNS::Topic", KmsMasterKeyId={"Fn::ImportValue": "K"}),
    "bucket with s3-managed keys": res("AWS::S3::Bucket", BucketEncryption={
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}),
    "state machine aws-owned key": res("AWS::StepFunctions::StateMachine",
                                       EncryptionConfiguration={"Type": "AWS_OWNED_KEY"}),
    "aurora cluster with default key": res("AWS::RDS::DBCluster", StorageEncrypted=True),
    "dynamodb table aws-owned": res("AWS::DynamoDB::Table"),
    "key from a parameter": res("AWS::Logs::LogGroup", KmsKeyId={"Ref": "KeyParam"}),
}


def _with(resource: dict) -> dict:
    tpl = template(Key=KEY, Alias=res("AWS::KMS::Alias", AliasName="alias/platform-data",
                                      TargetKeyId={"Ref": "Key"}), R=resource)
    tpl["Parameters"] = {"KeyParam": {"Type": "String"}}
    return tpl


@pytest.mark.parametrize("name", COMPLIANT)
def test_customer_managed_keys_are_compliant(name: str) -> None:
    assert judge(check, _with(COMPLIANT[name]), "R") is Compliance.COMPLIANT


@pytest.mark.parametrize("name", NON_COMPLIANT)
def test_missing_or_aws_managed_keys_are_non_compliant(name: str) -> None:
    assert judge(check, _with(NON_COMPLIANT[name]), "R") is Compliance.NON_COMPLIANT


def test_cluster_instances_follow_their_cluster() -> None:
    good = _with(COMPLIANT["aurora cluster"])
    bad = _with(NON_COMPLIANT["aurora cluster with default key"])
    for tpl in (good, bad):
        tpl["Resources"]["I"] = res("AWS::RDS::DBInstance", DBClusterIdentifier={"Ref": "R"})
    assert judge(check, good, "I") is Compliance.COMPLIANT
    assert judge(check, bad, "I") is Compliance.NON_COMPLIANT
    assert judge(check, good, "Key") is Compliance.NOT_APPLICABLE


def _linked(value: object) -> LinkedTemplate:
    data = {"Resources": {"LogsKey": KEY}, "Outputs": {
        "LogsKeyArn": {"Value": {"Fn::GetAtt": ["LogsKey", "Arn"]},
                       "Export": {"Name": "staging-Data:LogsKeyArn"}},
        "NotAKey": {"Value": "alias/aws/logs"}}}
    api = template(R=res("AWS::Logs::LogGroup", KmsKeyId=value))
    return LinkedTemplate(api, {"staging-Data": data, "staging-Api": api})


@pytest.mark.parametrize(("value", "expected"), [
    ({"Fn::GetStackOutput": {"StackName": "staging-Data", "Region": "eu-west-2",
                             "OutputName": "LogsKeyArn"}}, Compliance.COMPLIANT),
    ({"Fn::ImportValue": "staging-Data:LogsKeyArn"}, Compliance.COMPLIANT),
    ({"Fn::GetStackOutput": {"StackName": "staging-Data", "OutputName": "NotAKey"}},
     Compliance.NON_COMPLIANT),
    ({"Fn::GetStackOutput": {"StackName": "prod-Data", "OutputName": "LogsKeyArn"}},
     Compliance.NON_COMPLIANT),
    ({"Fn::ImportValue": "elsewhere:LogsKeyArn"}, Compliance.NON_COMPLIANT),
])
def test_cross_stack_keys_are_followed_into_sibling_stacks(
    value: object, expected: Compliance
) -> None:
    assert judge(check, _linked(value), "R") is expected
