"""Finding constructs in the tree: by path, and a stack's elements by logical id."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


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


def logical_ids(stack: IConstruct | None) -> dict[str, IConstruct]:
    """``{logical id: CfnElement}`` for every element of ``stack`` (not nested stacks)."""
    if not isinstance(stack, cdk.Stack):
        return {}
    found: dict[str, IConstruct] = {}
    for child in stack.node.find_all():
        if (cdk.CfnElement.is_cfn_element(child)
                and cdk.Stack.of(child).node.path == stack.node.path):
            element: cdk.CfnElement = child  # type: ignore[assignment]
            found[str(stack.resolve(element.logical_id))] = child
    return found
