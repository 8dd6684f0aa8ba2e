from __future__ import annotations

import pytest

from constructs_lib.compliance.engine import entries
from constructs_lib.compliance.model import Compliance
from constructs_lib.compliance.rules.secrets.no_secret_literals import check

from .helpers import judge, res, template


def _fn_env(**variables: object) -> dict:
    return template(Fn=res("AWS::Lambda::Function", Environment={"Variables": variables}))


COMPLIANT_ENVS = {
    "names and arns only": dict(
        SERVICE_RUNTIME="lambda", DB_NAME="platform", LOG_LEVEL="INFO",
        DB_SECRET_ARN={"Ref": "DbSecret"}, TOKEN_KMS_KEY_ARN={"Fn::GetAtt": ["Key", "Arn"]},
        ORIGIN_VERIFY_SECRET_ARN="arn:aws:secretsmanager:eu-west-2:1:secret:origin-AbCdEf",
        AI_SETTINGS_PARAMETER_NAME="/platform/staging/ai", COGNITO_CLIENT_ID="4k2j3h4k5j6h7g8f9d0s",
    ),
    "dynamic reference": dict(
        DB_PASSWORD="{{resolve:secretsmanager:db:SecretString:password}}"),
    "low-entropy token-ish setting": dict(TOKEN_TTL_SECONDS="900", AUTH_MODE="cognito-jwt"),
}

NON_COMPLIANT_ENVS = {
    "password literal": dict(DB_PASSWORD="hunter22"),
    "aws access key id": dict(SOMETHING="AKIAIOSFODNN7EXAMPLE"),
    "random api key": dict(BANK_API_KEY="q8Zr2LmXv9Tn4Ks7Bw1Yd6Hp"),
    "credentials in url": dict(DATABASE_URL="postgresql://app:s3cr3tPass@db.internal:5432/app"),
    "pem private key": dict(SIGNING="-----BEGIN RSA PRIVATE KEY-----\nMIIB...\n"),
    "jwt": dict(SERVICE="eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N"),
    "password assembled with join": dict(DB_PASSWORD={"Fn::Join": ["", ["pa55", "word!"]]}),
}


@pytest.mark.parametrize("name", COMPLIANT_ENVS)
def test_pointer_values_are_compliant(name: str) -> None:
    assert judge(check, _fn_env(**COMPLIANT_ENVS[name]), "Fn") is Compliance.COMPLIANT


@pytest.mark.parametrize("name", NON_COMPLIANT_ENVS)
def test_secret_literals_are_non_compliant(name: str) -> None:
    assert judge(check, _fn_env(**NON_COMPLIANT_ENVS[name]), "Fn") is Compliance.NON_COMPLIANT


def test_secret_anywhere_in_a_template_is_found() -> None:
    secret_string = template(S=res("AWS::SecretsManager::Secret", SecretString='{"k":"v1x"}'))
    generated = template(S=res("AWS::SecretsManager::Secret", GenerateSecretString={
        "SecretStringTemplate": '{"username":"app"}', "GenerateStringKey": "password"}))
    header = template(D=res("AWS::CloudFront::Distribution", DistributionConfig={"Origins": [{
        "OriginCustomHeaders": [{"HeaderName": "X-Origin-Verify",
                                 "HeaderValue": "9fK2xQ7vLp3Zt8Wm1Rb6Yc4N"}]}]}))
    resolved_header = template(D=res("AWS::CloudFront::Distribution", DistributionConfig={
        "Origins": [{"OriginCustomHeaders": [{
            "HeaderName": "X-Origin-Verify",
            "HeaderValue": {"Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": "S"},
                                              ":SecretString:::}}"]]}}]}]}))
    assert judge(check, secret_string, "S") is Compliance.NON_COMPLIANT
    assert judge(check, generated, "S") is Compliance.COMPLIANT
    assert judge(check, header, "D") is Compliance.NON_COMPLIANT
    assert judge(check, resolved_header, "D") is Compliance.COMPLIANT


def test_asset_hashes_and_resource_names_are_not_secrets() -> None:
    tpl = template(Fn=res(
        "AWS::Lambda::Function",
        Code={"S3Bucket": "cdk-hnb659fds-assets-1-eu-west-2",
              "S3Key": "3f1c9b7e2a4d6f8091b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8.zip"},
        FunctionName="staging-platform-api"))
    assert judge(check, tpl, "Fn") is Compliance.COMPLIANT


def test_outputs_and_parameter_defaults_are_checked() -> None:
    tpl = {
        "Resources": {},
        "Outputs": {"LeakedKey": {"Value": "AKIAIOSFODNN7EXAMPLE"},
                    "DbSecretArn": {"Value": {"Ref": "Secret"}, "Export": {"Name": "x"}}},
        "Parameters": {"DbPassword": {"Type": "String", "Default": "hunter22"},
                       "BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>",
                                            "Default": "/cdk-bootstrap/hnb659fds/version"}},
    }
    results = {logical_id: check(logical_id, body, tpl) for logical_id, body in entries(tpl)}
    assert results == {
        "LeakedKey": Compliance.NON_COMPLIANT,
        "DbSecretArn": Compliance.COMPLIANT,
        "DbPassword": Compliance.NON_COMPLIANT,
        "BootstrapVersion": Compliance.COMPLIANT,
    }
