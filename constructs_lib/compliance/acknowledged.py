"""Reading ``Validations.of(...).acknowledge(...)`` records from the construct tree.

Semantics match cdk-nag 3: a finding for rule id ``R`` on a resource is
acknowledged when the resource or any ancestor carries ``aws:cdk:acknowledged-rules``
metadata with key ``R`` (aws-cdk-lib stores un-namespaced ids as ``Annotation::R``;
the prefix is ignored, case-insensitively).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import aws_cdk as cdk
from constructs import IConstruct

METADATA_KEY = "aws:cdk:acknowledged-rules"
_ANNOTATION_PREFIX = re.compile(r"^annotation::", re.IGNORECASE)


def acknowledgements_on(construct: IConstruct) -> dict[str, str]:
    """``{rule id: reason}`` recorded directly on ``construct`` (prefix stripped)."""
    found: dict[str, str] = {}
    for entry in construct.node.metadata:
        if entry.type == METADATA_KEY and isinstance(entry.data, Mapping):
            for key, reason in entry.data.items():
                found[_ANNOTATION_PREFIX.sub("", str(key))] = str(reason)
    return found


def acknowledgement_for(construct: IConstruct, rule_id: str) -> tuple[str, str] | None:
    """``(reason, path acknowledged at)`` for ``rule_id`` on ``construct`` or an ancestor."""
    current: IConstruct | None = construct
    while current is not None:
        reason = acknowledgements_on(current).get(rule_id)
        if reason is not None:
            return reason, current.node.path
        current = current.node.scope
    return None


def find_by_path(root: IConstruct, path: str) -> IConstruct | None:
    """The construct at ``path`` (``/``-separated, relative to ``root``)."""
    node: IConstruct | None = root
    prefix = root.node.path
    relative = path[len(prefix):] if prefix and path.startswith(prefix) else path
    for segment in [s for s in relative.split("/") if s]:
        if node is None:
            return None
        node = node.node.try_find_child(segment)
    return node


def logical_ids(stack: cdk.Stack) -> dict[str, IConstruct]:
    """``{logical id: CfnElement}`` for every element of ``stack`` (not nested stacks)."""
    found: dict[str, IConstruct] = {}
    stack_path = stack.node.path
    for child in stack.node.find_all():
        if cdk.CfnElement.is_cfn_element(child) and cdk.Stack.of(child).node.path == stack_path:
            element: cdk.CfnElement = child  # type: ignore[assignment]
            found[str(stack.resolve(element.logical_id))] = child
    return found
