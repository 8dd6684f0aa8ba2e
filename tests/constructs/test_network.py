"""PrivateNetwork: isolated subnets only, closed default SG, encrypted flow logs."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template

from constructs_lib.log_storage import as_retention, retention_days
from constructs_lib.network import PrivateNetwork
from constructs_lib.opt_outs import OPT_OUT_METADATA_KEY, OptOut, SecureDefaultError

ENV = cdk.Environment(account="111111111111", region="eu-west-2")
REASON = "Disposable test stack holding only synthetic data."


def _stack(app: cdk.App) -> tuple[cdk.Stack, kms.Key]:
    stack = cdk.Stack(app, "Net", env=ENV)
    return stack, kms.Key(stack, "LogKey", enable_key_rotation=True)


def test_only_isolated_subnets_and_no_internet_path(app: cdk.App) -> None:
    stack, key = _stack(app)
    PrivateNetwork(stack, "Network", log_key=key, max_azs=3)
    template = Template.from_stack(stack)

    for forbidden in ("AWS::EC2::NatGateway", "AWS::EC2::InternetGateway", "AWS::EC2::EIP",
                      "AWS::EC2::VPCGatewayAttachment", "AWS::EC2::EgressOnlyInternetGateway",
                      "AWS::EC2::VPCEndpoint", "AWS::EC2::NetworkAcl"):
        template.resource_count_is(forbidden, 0)
    subnets = template.find_resources("AWS::EC2::Subnet")
    assert len(subnets) == 3
    assert len({s["Properties"]["AvailabilityZone"] for s in subnets.values()}) == 3
    for subnet in subnets.values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
        tags = {t["Key"]: t["Value"] for t in subnet["Properties"]["Tags"]}
        assert tags["aws-cdk:subnet-type"] == "Isolated"
    # Route tables exist but hold no routes at all (only the implicit local route).
    template.resource_count_is("AWS::EC2::Route", 0)


def test_default_security_group_is_closed(app: cdk.App) -> None:
    stack, key = _stack(app)
    PrivateNetwork(stack, "Network", log_key=key)
    Template.from_stack(stack).has_resource_properties(
        "Custom::VpcRestrictDefaultSG",
        {"DefaultSecurityGroupId": {"Fn::GetAtt": [Match.any_value(), "DefaultSecurityGroup"]}},
    )


def test_flow_logs_all_traffic_to_encrypted_retained_group(app: cdk.App) -> None:
    stack, key = _stack(app)
    network = PrivateNetwork(stack, "Network", log_key=key)
    template = Template.from_stack(stack)
    key_id = stack.get_logical_id(key.node.default_child)  # type: ignore[arg-type]
    group_id = stack.get_logical_id(network.flow_log_group.node.default_child)  # type: ignore[arg-type]

    groups = template.find_resources("AWS::Logs::LogGroup")
    group = groups[group_id]
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert group["Properties"]["RetentionInDays"] == 365
    assert group["DeletionPolicy"] == "Retain"
    template.has_resource_properties("AWS::EC2::FlowLog", {
        "ResourceType": "VPC",
        "TrafficType": "ALL",
        "LogDestinationType": "cloud-watch-logs",
        "LogGroupName": {"Ref": group_id},
    })


def test_retention_as_day_count(app: cdk.App) -> None:
    stack, key = _stack(app)
    PrivateNetwork(stack, "Network", log_key=key, flow_log_retention=400)
    Template.from_stack(stack).has_resource_properties(
        "AWS::Logs::LogGroup", {"RetentionInDays": 400})


@pytest.mark.parametrize("subnet_type", [ec2.SubnetType.PUBLIC,
                                         ec2.SubnetType.PRIVATE_WITH_EGRESS])
def test_public_or_egress_subnets_are_refused_even_with_an_opt_out(
    app: cdk.App, subnet_type: ec2.SubnetType
) -> None:
    stack, key = _stack(app)
    layout = [
        ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        ec2.SubnetConfiguration(name="exposed", subnet_type=subnet_type),
    ]
    with pytest.raises(SecureDefaultError, match="exposed"):
        PrivateNetwork(stack, "Network", log_key=key, subnet_configuration=layout,
                       opt_outs=[OptOut("PrivateNetwork.flow_log_retention", REASON)])


def test_custom_isolated_layout_is_accepted(app: cdk.App) -> None:
    stack, key = _stack(app)
    layout = [ec2.SubnetConfiguration(name="db", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED,
                                      cidr_mask=26)]
    PrivateNetwork(stack, "Network", log_key=key, subnet_configuration=layout)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::Subnet", 2)
    template.has_resource_properties("AWS::EC2::Subnet", {"CidrBlock": "10.0.0.0/26"})


@pytest.mark.parametrize("max_azs", [0, 1])
def test_single_az_is_refused(app: cdk.App, max_azs: int) -> None:
    stack, key = _stack(app)
    with pytest.raises(ValueError, match="max_azs"):
        PrivateNetwork(stack, "Network", log_key=key, max_azs=max_azs)


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({"flow_log_retention": 90}, "PrivateNetwork.flow_log_retention"),
        ({"flow_log_removal_policy": cdk.RemovalPolicy.DESTROY},
         "PrivateNetwork.flow_log_removal_policy"),
    ],
)
def test_weakening_needs_named_opt_out(app: cdk.App, kwargs: dict[str, Any], setting: str) -> None:
    stack, key = _stack(app)
    with pytest.raises(SecureDefaultError, match=setting):
        PrivateNetwork(stack, "Denied", log_key=key, **kwargs)
    network = PrivateNetwork(stack, "Allowed", log_key=key,
                             opt_outs=[OptOut(setting, REASON)], **kwargs)
    records = [e.data for e in network.node.metadata if e.type == OPT_OUT_METADATA_KEY]
    assert records == [{"setting": setting, "reason": REASON, "findings": []}]


def test_invalid_retention_day_count(app: cdk.App) -> None:
    stack, key = _stack(app)
    with pytest.raises(ValueError, match="retention"):
        PrivateNetwork(stack, "Network", log_key=key, flow_log_retention=366)


def test_compliance_findings(app: cdk.App, nag_findings: Any) -> None:
    stack, key = _stack(app)
    PrivateNetwork(stack, "Network", log_key=key)
    assert nag_findings(app) == set()


def test_flow_log_role_is_scoped_and_deputy_guarded(app: cdk.App) -> None:
    stack, key = _stack(app)
    network = PrivateNetwork(stack, "Network", log_key=key)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::IAM::Policy", 0)
    group_id = stack.get_logical_id(network.flow_log_group.node.default_child)  # type: ignore[arg-type]
    (policy,) = template.find_resources("AWS::IAM::ManagedPolicy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Resource"] == {"Fn::GetAtt": [group_id, "Arn"]}
    assert set(statement["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents",
                                        "logs:DescribeLogStreams"}
    roles = template.find_resources(
        "AWS::IAM::Role",
        {"Properties": {"AssumeRolePolicyDocument": {"Statement": [
            {"Principal": {"Service": "vpc-flow-logs.amazonaws.com"}}]}}},
    )
    (role,) = roles.values()
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": "111111111111"}
    assert "aws:SourceArn" in trust["Condition"]["ArnLike"]


# -- shared helpers in constructs_lib.log_storage (used by the network's retention prop) ---


def test_retention_helpers_round_trip_every_offered_day_count() -> None:
    for days in (1, 7, 90, 365, 400, 731, 3653):
        assert retention_days(as_retention(days)) == days
    assert as_retention(logs.RetentionDays.ONE_YEAR) is logs.RetentionDays.ONE_YEAR
    assert retention_days(logs.RetentionDays.INFINITE) == float("inf")



def test_opt_outs_for_other_constructs_are_ignored(app: cdk.App) -> None:
    stack, key = _stack(app)
    shared = [OptOut("SecureAuroraCluster.min_capacity", REASON)]
    network = PrivateNetwork(stack, "Network", log_key=key, opt_outs=shared)
    assert not [e for e in network.node.metadata if e.type == OPT_OUT_METADATA_KEY]
    with pytest.raises(SecureDefaultError, match="Unknown opt-out"):
        PrivateNetwork(stack, "Typo", log_key=key,
                       opt_outs=[OptOut("PrivateNetwork.flow_logs_retention", REASON)])
