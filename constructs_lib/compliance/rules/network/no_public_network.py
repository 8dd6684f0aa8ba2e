"""The data network has no path to or from the internet.

NAT gateways, internet gateways (and egress-only ones) and their attachments,
subnets that map public IPs on launch, and routes to an internet or NAT gateway
(including subnets associated with such a route table) are non-compliant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from constructs_lib.compliance.cfn import (
    Opaque,
    ResourceRef,
    flatten,
    properties,
    render,
    resources,
)
from constructs_lib.compliance.model import Compliance, Resource, Template

_GATEWAYS = frozenset({
    "AWS::EC2::NatGateway", "AWS::EC2::InternetGateway", "AWS::EC2::EgressOnlyInternetGateway",
})
_ROUTE_TARGETS = ("GatewayId", "NatGatewayId", "EgressOnlyInternetGatewayId")


def _points_to_internet(value: Any, key: str, template: Template) -> bool:
    parts = flatten(value, template)
    if any(isinstance(p, Opaque) for p in parts):
        return True
    for part in parts:
        if isinstance(part, ResourceRef) and part.resource_type in _GATEWAYS:
            return True
    text = render(parts)
    if key == "GatewayId":
        return text.startswith("igw-")
    return True  # any NAT / egress-only gateway id


def _route_is_public(route: Mapping[str, Any], template: Template) -> bool:
    props = properties(route)
    return any(k in props and _points_to_internet(props[k], k, template) for k in _ROUTE_TARGETS)


def _same_ref(value: Any, logical_id: str) -> bool:
    return isinstance(value, Mapping) and value.get("Ref") == logical_id


def _subnet_is_public(logical_id: str, template: Template) -> bool:
    all_resources = resources(template)
    tables = {
        properties(r).get("RouteTableId", {}).get("Ref")
        for r in all_resources.values()
        if isinstance(r, Mapping) and r.get("Type") == "AWS::EC2::SubnetRouteTableAssociation"
        and _same_ref(properties(r).get("SubnetId"), logical_id)
    }
    return any(
        isinstance(r, Mapping) and r.get("Type") == "AWS::EC2::Route"
        and properties(r).get("RouteTableId", {}).get("Ref") in tables
        and _route_is_public(r, template)
        for r in all_resources.values()
    )


def check(logical_id: str, resource: Resource, template: Template) -> Compliance:
    """Judge network resources for internet exposure."""
    rtype = resource.get("Type")
    props = properties(resource)
    if rtype in _GATEWAYS:
        return Compliance.NON_COMPLIANT
    if rtype == "AWS::EC2::VPCGatewayAttachment":
        internet = "InternetGatewayId" in props
        return Compliance.NON_COMPLIANT if internet else Compliance.COMPLIANT
    if rtype == "AWS::EC2::Route":
        return Compliance.NON_COMPLIANT if _route_is_public(resource, template) else (
            Compliance.COMPLIANT)
    if rtype == "AWS::EC2::Subnet":
        if props.get("MapPublicIpOnLaunch") in (True, "true"):
            return Compliance.NON_COMPLIANT
        return (Compliance.NON_COMPLIANT if _subnet_is_public(logical_id, template)
                else Compliance.COMPLIANT)
    return Compliance.NOT_APPLICABLE
