from __future__ import annotations

import pytest

from constructs_lib.compliance.model import Compliance
from constructs_lib.compliance.rules.iam.no_wildcard_permissions import check

from .helpers import judge, res, template

ROOT = {"AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::1:root"]]}}


def _policy(*statements: dict) -> dict:
    return template(P=res("AWS::IAM::Policy", PolicyDocument={"Statement": list(statements)}))


COMPLIANT = {
    "scoped data access": _policy({"Effect": "Allow", "Action": ["kms:Decrypt"],
                                   "Resource": {"Fn::GetAtt": ["Key", "Arn"]}}),
    "control plane on *": _policy({"Effect": "Allow", "Action": "xray:PutTraceSegments",
                                   "Resource": "*"}),
    "deny wildcard": _policy({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}),
    "partial wildcard on resource": _policy({"Effect": "Allow", "Action": "kms:GenerateDataKey*",
                                             "Resource": "arn:aws:kms:eu-west-2:1:key/k"}),
    "key policy root admin": template(K=res("AWS::KMS::Key", KeyPolicy={"Statement": [
        {"Effect": "Allow", "Principal": ROOT, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"},
         "Action": ["kms:Encrypt*", "kms:Decrypt*"], "Resource": "*"}]})),
}

NON_COMPLIANT = {
    "star action": _policy({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}),
    "service star": _policy({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}),
    "data plane on star": _policy({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                                   "Resource": "*"}),
    "pattern covering data plane on star": _policy({"Effect": "Allow", "Action": "s3:Get*",
                                                    "Resource": ["arn:aws:s3:::b", "*"]}),
    "not action": _policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
    "inline role policy": template(R=res("AWS::IAM::Role", Policies=[{"PolicyDocument": {
        "Statement": [{"Effect": "Allow", "Action": "rds-data:*", "Resource": "*"}]}}])),
    "key policy star for a non-root principal": template(K=res("AWS::KMS::Key", KeyPolicy={
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:role/app"},
                       "Action": "kms:*", "Resource": "*"}]})),
}


@pytest.mark.parametrize("name", COMPLIANT)
def test_least_privilege_statements_are_compliant(name: str) -> None:
    tpl = COMPLIANT[name]
    assert judge(check, tpl, next(iter(tpl["Resources"]))) is Compliance.COMPLIANT


@pytest.mark.parametrize("name", NON_COMPLIANT)
def test_wildcards_are_non_compliant(name: str) -> None:
    tpl = NON_COMPLIANT[name]
    assert judge(check, tpl, next(iter(tpl["Resources"]))) is Compliance.NON_COMPLIANT


def test_resources_without_permission_statements_are_not_applicable() -> None:
    trust_only = template(R=res("AWS::IAM::Role", AssumeRolePolicyDocument={
        "Statement": [{"Effect": "Allow", "Action": "sts:*", "Principal": "*"}]}))
    assert judge(check, trust_only, "R") is Compliance.NOT_APPLICABLE
    assert judge(check, template(Q=res("AWS::SQS::Queue")), "Q") is Compliance.NOT_APPLICABLE
