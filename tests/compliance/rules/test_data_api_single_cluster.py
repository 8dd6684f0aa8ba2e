from __future__ import annotations

import pytest

from constructs_lib.compliance.cfn import LinkedTemplate
from constructs_lib.compliance.model import Compliance
from constructs_lib.compliance.rules.rds.data_api_single_cluster import check

from .helpers import judge, res, template

CLUSTER_ARN = {"Fn::Join": ["", [
    "arn:", {"Ref": "AWS::Partition"}, ":rds:", {"Ref": "AWS::Region"}, ":",
    {"Ref": "AWS::AccountId"}, ":cluster:", {"Ref": "Cluster"}]]}


def _policy(resource: object, action: object = "rds-data:ExecuteStatement") -> dict:
    return template(
        Cluster=res("AWS::RDS::DBCluster"),
        P=res("AWS::IAM::Policy", PolicyDocument={"Statement": [
            {"Effect": "Allow", "Action": action, "Resource": resource}]}))


@pytest.mark.parametrize("resource", [
    CLUSTER_ARN,
    [CLUSTER_ARN],
    "arn:aws:rds:eu-west-2:111111111111:cluster:platform-staging",
    {"Fn::Sub": "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster:${Cluster}"},
])
def test_one_cluster_is_compliant(resource: object) -> None:
    assert judge(check, _policy(resource), "P") is Compliance.COMPLIANT


@pytest.mark.parametrize("resource", [
    "*",
    "arn:aws:rds:eu-west-2:111111111111:cluster:*",
    [CLUSTER_ARN, "arn:aws:rds:eu-west-2:111111111111:cluster:other"],
    {"Fn::ImportValue": "ClusterArn"},
    {"Ref": "ClusterArnParam"},
])
def test_wildcards_several_or_unresolvable_clusters_are_non_compliant(resource: object) -> None:
    assert judge(check, _policy(resource), "P") is Compliance.NON_COMPLIANT


def test_other_statements_are_not_applicable() -> None:
    assert judge(check, _policy("*", action="xray:PutTraceSegments"), "P") is (
        Compliance.NOT_APPLICABLE)


def test_cluster_from_a_sibling_stack_output_is_one_cluster() -> None:
    data = {"Resources": {"Cluster": res("AWS::RDS::DBCluster")},
            "Outputs": {"ClusterRef": {"Value": {"Ref": "Cluster"}}}}
    arn = {"Fn::Join": ["", ["arn:aws:rds:eu-west-2:111111111111:cluster:", {
        "Fn::GetStackOutput": {"StackName": "staging-Data", "OutputName": "ClusterRef"}}]]}
    api = template(P=res("AWS::IAM::Policy", PolicyDocument={"Statement": [
        {"Effect": "Allow", "Action": ["rds-data:ExecuteStatement"], "Resource": arn}]}))
    assert judge(check, LinkedTemplate(api, {"staging-Data": data}), "P") is Compliance.COMPLIANT
    assert judge(check, LinkedTemplate(api, {}), "P") is Compliance.NON_COMPLIANT
