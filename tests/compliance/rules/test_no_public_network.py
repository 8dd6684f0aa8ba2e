from __future__ import annotations

from constructs_lib.compliance.model import Compliance
from constructs_lib.compliance.rules.network.no_public_network import check

from .helpers import judge, res, template


def _isolated() -> dict:
    return template(
        Vpc=res("AWS::EC2::VPC", CidrBlock="10.0.0.0/16"),
        Subnet=res("AWS::EC2::Subnet", VpcId={"Ref": "Vpc"}, MapPublicIpOnLaunch=False),
        Table=res("AWS::EC2::RouteTable", VpcId={"Ref": "Vpc"}),
        Assoc=res("AWS::EC2::SubnetRouteTableAssociation", SubnetId={"Ref": "Subnet"},
                  RouteTableId={"Ref": "Table"}),
        Endpoint=res("AWS::EC2::VPCEndpoint", VpcId={"Ref": "Vpc"}),
        Route=res("AWS::EC2::Route", RouteTableId={"Ref": "Table"},
                  DestinationCidrBlock="10.1.0.0/16", VpcPeeringConnectionId="pcx-1"),
    )


def test_isolated_network_is_compliant() -> None:
    tpl = _isolated()
    assert judge(check, tpl, "Subnet") is Compliance.COMPLIANT
    assert judge(check, tpl, "Route") is Compliance.COMPLIANT
    assert judge(check, tpl, "Vpc") is Compliance.NOT_APPLICABLE


def test_gateways_and_public_subnets_are_non_compliant() -> None:
    tpl = _isolated()
    tpl["Resources"].update(
        Igw=res("AWS::EC2::InternetGateway"),
        Attach=res("AWS::EC2::VPCGatewayAttachment", VpcId={"Ref": "Vpc"},
                   InternetGatewayId={"Ref": "Igw"}),
        Nat=res("AWS::EC2::NatGateway", SubnetId={"Ref": "Subnet"}),
        Default=res("AWS::EC2::Route", RouteTableId={"Ref": "Table"},
                    DestinationCidrBlock="0.0.0.0/0", GatewayId={"Ref": "Igw"}),
        Mapped=res("AWS::EC2::Subnet", VpcId={"Ref": "Vpc"}, MapPublicIpOnLaunch=True),
    )
    for logical_id in ("Igw", "Attach", "Nat", "Default", "Mapped", "Subnet"):
        assert judge(check, tpl, logical_id) is Compliance.NON_COMPLIANT, logical_id


def test_route_to_literal_internet_gateway_is_non_compliant() -> None:
    tpl = _isolated()
    tpl["Resources"]["Route"]["Properties"] = {"RouteTableId": {"Ref": "Table"},
                                               "GatewayId": "igw-0abc"}
    assert judge(check, tpl, "Route") is Compliance.NON_COMPLIANT
