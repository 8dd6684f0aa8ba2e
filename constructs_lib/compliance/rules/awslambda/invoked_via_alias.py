"""Lambda functions are only invoked through an alias or a version.

Invoking the unqualified function (or ``$LATEST``) bypasses the CodeDeploy
traffic shifting and alarm rollback that operate on the ``live`` alias.

Invokers checked: Lambda permissions, event source mappings, event invoke
configs and URLs, API Gateway (v1 and v2) integrations and authorizers, Step
Functions definitions, EventBridge rules and schedules, SNS subscriptions, S3
notifications, log subscription filters, Cognito triggers, pipes, custom
resources, CodeDeploy traffic hooks on aliases, and IAM statements granting
``lambda:Invoke*``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from constructs_lib.compliance.cfn import (
    Opaque,
    Part,
    ResourceRef,
    Text,
    as_list,
    flatten,
    properties,
)
from constructs_lib.compliance.iam import action_covers, policy_statements
from constructs_lib.compliance.model import Compliance, Resource, Template

FUNCTION = "AWS::Lambda::Function"
QUALIFIED_TARGETS = frozenset({"AWS::Lambda::Alias", "AWS::Lambda::Version"})

# Unqualified: ...:function:name followed by nothing, "/" (API GW URIs) or "$LATEST".
_ARN = re.compile(r"arn:[^:\s]*:lambda:[^:\s]*:[^:\s]*:function:([^:/\s\"]+)(?::([^:/\s\"]+))?")
_QUALIFIER_AFTER_REF = re.compile(r"^:([A-Za-z0-9$_-]+)")


def _qualifier_ok(qualifier: str | None) -> bool:
    return bool(qualifier) and qualifier != "$LATEST"


def _scan(parts: list[Part], *, identifier: bool) -> Compliance:
    """Judge the Lambda references in one flattened value.

    ``identifier`` marks fields that name the function being invoked (e.g.
    ``FunctionName``): any value there is a function, so literal names and
    unresolvable parts count. Elsewhere (URIs, definitions) only recognisable
    Lambda references count; unresolvable parts still count against the value.
    """
    found = False
    for index, part in enumerate(parts):
        following = parts[index + 1] if index + 1 < len(parts) else None
        if isinstance(part, Opaque):
            return Compliance.NON_COMPLIANT
        if isinstance(part, ResourceRef):
            if part.resource_type in QUALIFIED_TARGETS:
                found = True
                continue
            if part.resource_type != FUNCTION:
                continue
            found = True
            after = following.text if isinstance(following, Text) else ""
            match = _QUALIFIER_AFTER_REF.match(after)
            if not (match and _qualifier_ok(match.group(1))):
                return Compliance.NON_COMPLIANT
        elif isinstance(part, Text):
            for match in _ARN.finditer(part.text):
                found = True
                if not _qualifier_ok(match.group(2)):
                    return Compliance.NON_COMPLIANT
    if identifier and not found:
        # A bare function name ("fn" or "fn:alias") or a partial ARN.
        text = "".join(p.text for p in parts if isinstance(p, Text))
        name, _, qualifier = text.rpartition(":") if ":" in text else (text, "", "")
        if not text or not name or not _qualifier_ok(qualifier or None):
            return Compliance.NON_COMPLIANT
        found = True
    return Compliance.COMPLIANT if found else Compliance.NOT_APPLICABLE


_ARN_QUALIFIER_INDEX = 7  # arn:aws:lambda:region:account:function:name:QUALIFIER


def _qualifier_of_qualified_arn(qualifier: Any, template: Template) -> bool:
    """``Fn::Select [7, Fn::Split [":", <alias or version ARN>]]``, as CDK renders it."""
    if not (isinstance(qualifier, Mapping) and set(qualifier) == {"Fn::Select"}):
        return False
    selection = qualifier["Fn::Select"]
    if not (isinstance(selection, list) and len(selection) == 2
            and selection[0] in (_ARN_QUALIFIER_INDEX, str(_ARN_QUALIFIER_INDEX))):
        return False
    split = selection[1]
    if not (isinstance(split, Mapping) and set(split) == {"Fn::Split"}):
        return False
    args = split["Fn::Split"]
    if not (isinstance(args, list) and len(args) == 2 and args[0] == ":"):
        return False
    parts = flatten(args[1], template)
    return (len(parts) == 1 and isinstance(parts[0], ResourceRef)
            and parts[0].resource_type in QUALIFIED_TARGETS)


def _identifier_with_qualifier(
    value: Any, qualifier: Any, template: Template
) -> Compliance:
    if isinstance(qualifier, str):
        return Compliance.COMPLIANT if _qualifier_ok(qualifier) else Compliance.NON_COMPLIANT
    if qualifier is not None:
        if _qualifier_of_qualified_arn(qualifier, template):
            return Compliance.COMPLIANT
        parts = flatten(qualifier, template)
        if not parts or any(isinstance(p, Opaque) for p in parts):
            return Compliance.NON_COMPLIANT
        return Compliance.COMPLIANT
    return _scan(flatten(value, template), identifier=True)


def _values(value: Any) -> Iterator[Any]:
    """Candidate string expressions inside a nested structure (lists/objects)."""
    if isinstance(value, Mapping) and len(value) == 1 and next(iter(value)).startswith(
        ("Ref", "Fn::")
    ):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _values(item)
    else:
        yield value


def _worst(results: list[Compliance]) -> Compliance:
    if Compliance.NON_COMPLIANT in results:
        return Compliance.NON_COMPLIANT
    if Compliance.COMPLIANT in results:
        return Compliance.COMPLIANT
    return Compliance.NOT_APPLICABLE


def _embedded(values: list[Any], template: Template) -> Compliance:
    return _worst([
        _scan(flatten(v, template), identifier=False) for value in values for v in _values(value)
    ])


def check(logical_id: str, resource: Resource, template: Template) -> Compliance:
    """Judge every way ``resource`` can invoke a Lambda function."""
    rtype = resource.get("Type")
    props = properties(resource)
    if rtype in ("AWS::Lambda::Permission", "AWS::Lambda::EventSourceMapping"):
        return _scan(flatten(props.get("FunctionName"), template), identifier=True)
    if rtype == "AWS::Lambda::EventInvokeConfig":
        return _identifier_with_qualifier(props.get("FunctionName"), props.get("Qualifier"),
                                          template)
    if rtype == "AWS::Lambda::Url":
        return _identifier_with_qualifier(props.get("TargetFunctionArn"), props.get("Qualifier"),
                                          template)
    if rtype == "AWS::Lambda::Alias":
        update = resource.get("UpdatePolicy", {}).get("CodeDeployLambdaAliasUpdate", {})
        hooks = [update[k] for k in ("BeforeAllowTrafficHook", "AfterAllowTrafficHook")
                 if k in update]
        return _worst([_scan(flatten(h, template), identifier=True) for h in hooks])
    embedded = _EMBEDDED.get(str(rtype))
    if embedded is not None:
        return _embedded([_dig(props, path) for path in embedded], template)
    if str(rtype).startswith("Custom::") or rtype == "AWS::CloudFormation::CustomResource":
        return _scan(flatten(props.get("ServiceToken"), template), identifier=False)
    statements = [
        s for s in policy_statements(resource)
        if s.allows and any(action_covers(a, "lambda:InvokeFunction") for a in s.actions)
    ]
    if statements:
        return _embedded([s.resources for s in statements], template)
    return Compliance.NOT_APPLICABLE


def _dig(value: Any, path: str) -> Any:
    """Follow a dotted path; ``[]`` maps over lists."""
    current: list[Any] = [value]
    for key in path.split("."):
        nxt: list[Any] = []
        for item in current:
            if key == "[]":
                nxt.extend(as_list(item))
            elif isinstance(item, Mapping) and key in item:
                nxt.append(item[key])
        current = nxt
    return current


_EMBEDDED: dict[str, tuple[str, ...]] = {
    "AWS::ApiGatewayV2::Integration": ("IntegrationUri",),
    "AWS::ApiGatewayV2::Authorizer": ("AuthorizerUri",),
    "AWS::ApiGateway::Method": ("Integration.Uri",),
    "AWS::ApiGateway::Authorizer": ("AuthorizerUri",),
    "AWS::StepFunctions::StateMachine": ("DefinitionString", "Definition",
                                         "DefinitionSubstitutions"),
    "AWS::Events::Rule": ("Targets.[].Arn",),
    "AWS::Scheduler::Schedule": ("Target.Arn",),
    "AWS::SNS::Subscription": ("Endpoint",),
    "AWS::SNS::Topic": ("Subscription.[].Endpoint",),
    "AWS::S3::Bucket": ("NotificationConfiguration.LambdaConfigurations.[].Function",),
    "AWS::Logs::SubscriptionFilter": ("DestinationArn",),
    "AWS::Cognito::UserPool": ("LambdaConfig",),
    "AWS::Pipes::Pipe": ("Target", "Enrichment"),
}
