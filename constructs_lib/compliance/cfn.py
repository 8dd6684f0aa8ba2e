"""Reading CloudFormation values the way the BankGrade rules need it.

Intrinsic functions are flattened into a sequence of *parts*: literal text and
references. A part that cannot be resolved (a ``Ref`` to a parameter or to a
resource no template contains, an ``Fn::ImportValue`` / ``Fn::GetStackOutput``
that no sibling stack provides, any other intrinsic) is an :class:`Opaque` part;
rules count those against the resource.

Cross-stack references are followed when the template is a
:class:`LinkedTemplate` that knows its sibling templates (the other stacks of
the same synthesis) by stack name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from constructs_lib.compliance.model import Template

PSEUDO_PARAMETERS = frozenset({
    "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
    "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
})

_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


@dataclass(frozen=True, slots=True)
class Text:
    """Known text."""

    text: str


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """A ``Ref`` (``attribute is None``) or ``Fn::GetAtt`` to a template resource.

    ``home`` is the template that defines the resource when it is a sibling
    stack's (reached through a cross-stack reference), else ``None``.
    """

    logical_id: str
    resource_type: str
    attribute: str | None = None
    home: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)


class LinkedTemplate(dict[str, Any]):
    """A template that can follow references into its sibling stacks.

    Parameters
    ----------
    template:
        The template document.
    peers:
        ``{stack name: template}`` of every stack synthesised with it.
    """

    def __init__(self, template: Mapping[str, Any], peers: Mapping[str, Mapping[str, Any]]):
        super().__init__(template)
        self.peers = peers


def definition(ref: ResourceRef, template: Template) -> Mapping[str, Any]:
    """The resource ``ref`` points at (in its home template)."""
    found = resources(ref.home if ref.home is not None else template).get(ref.logical_id)
    return found if isinstance(found, Mapping) else {}


@dataclass(frozen=True, slots=True)
class Pseudo:
    """A pseudo parameter such as ``AWS::Region`` (known to be harmless)."""

    name: str


@dataclass(frozen=True, slots=True)
class Opaque:
    """A value the template alone cannot resolve."""

    description: str


Part = Text | ResourceRef | Pseudo | Opaque


def resources(template: Template) -> Mapping[str, Any]:
    """The ``Resources`` section (empty when missing)."""
    res = template.get("Resources", {})
    return res if isinstance(res, Mapping) else {}


def resource_type(template: Template, logical_id: str) -> str | None:
    """Type of resource ``logical_id`` in ``template``, or ``None`` if absent."""
    res = resources(template).get(logical_id)
    if isinstance(res, Mapping):
        value = res.get("Type")
        return value if isinstance(value, str) else None
    return None


def properties(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    """The resource's ``Properties`` (empty when missing)."""
    props = resource.get("Properties", {})
    return props if isinstance(props, Mapping) else {}


def is_dynamic_reference(text: str) -> bool:
    """``{{resolve:...}}`` values are resolved by CloudFormation at deploy time."""
    return text.strip().startswith("{{resolve:")


def _ref(template: Template, name: str, attribute: str | None) -> Part:
    if name in PSEUDO_PARAMETERS:
        return Pseudo(name)
    rtype = resource_type(template, name)
    if rtype is None:
        kind = "parameter" if name in template.get("Parameters", {}) else "unknown name"
        return Opaque(f"Ref to {kind} {name!r}")
    home = template if getattr(template, "_is_peer", False) else None
    return ResourceRef(name, rtype, attribute, home)


class _Peer(dict[str, Any]):
    """A sibling template being read through a cross-stack reference."""

    _is_peer = True

    def __init__(self, template: Mapping[str, Any], peers: Mapping[str, Mapping[str, Any]]):
        super().__init__(template)
        self.peers = peers


def _peers(template: Template) -> Mapping[str, Mapping[str, Any]]:
    peers = getattr(template, "peers", None)
    return peers if isinstance(peers, Mapping) else {}


def _output(template: Template, stack: Any, output: Any) -> list[Part]:
    if not (isinstance(stack, str) and isinstance(output, str)):
        return [Opaque("Fn::GetStackOutput with computed names")]
    peers = _peers(template)
    peer = peers.get(stack)
    value = (peer or {}).get("Outputs", {}).get(output, {}).get("Value")
    if peer is None or value is None:
        return [Opaque(f"output {output!r} of stack {stack!r} is not in this synthesis")]
    return _flatten(value, _Peer(peer, peers))


def _import(template: Template, name: Any) -> list[Part]:
    if not isinstance(name, str):
        return [Opaque("Fn::ImportValue with a computed name")]
    peers = _peers(template)
    for peer in peers.values():
        for output in peer.get("Outputs", {}).values():
            if isinstance(output, Mapping) and output.get("Export", {}).get("Name") == name:
                return _flatten(output.get("Value"), _Peer(peer, peers))
    return [Opaque(f"export {name!r} is not in this synthesis")]


def _getatt(template: Template, value: Any) -> Part:
    if isinstance(value, str) and "." in value:
        name, attribute = value.split(".", 1)
    elif isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
        name, attribute = value[0], value[1]
    else:
        return Opaque("malformed Fn::GetAtt")
    if not isinstance(attribute, str):
        return Opaque("Fn::GetAtt with a computed attribute")
    part = _ref(template, name, attribute)
    return part if not isinstance(part, Pseudo) else Opaque("Fn::GetAtt on a pseudo parameter")


def _sub(template: Template, value: Any) -> list[Part]:
    variables: Mapping[str, Any] = {}
    if isinstance(value, str):
        text = value
    elif isinstance(value, list) and value and isinstance(value[0], str):
        text = value[0]
        variables = value[1] if len(value) > 1 and isinstance(value[1], Mapping) else {}
    else:
        return [Opaque("malformed Fn::Sub")]
    parts: list[Part] = []
    pos = 0
    for match in _SUB_VAR.finditer(text):
        parts.append(Text(text[pos:match.start()]))
        name = match.group(1).strip()
        if name in variables:
            parts.extend(_flatten(variables[name], template))
        elif "." in name:
            parts.append(_getatt(template, name))
        else:
            parts.append(_ref(template, name, None))
        pos = match.end()
    parts.append(Text(text[pos:]))
    return parts


def flatten(value: Any, template: Template) -> list[Part]:
    """Flatten a string-valued CloudFormation expression into parts.

    Adjacent literal texts are merged and empty ones dropped, so the part after
    a reference is the text that really follows it.
    """
    merged: list[Part] = []
    for part in _flatten(value, template):
        if isinstance(part, Text):
            if not part.text:
                continue
            if merged and isinstance(merged[-1], Text):
                merged[-1] = Text(merged[-1].text + part.text)
                continue
        merged.append(part)
    return merged


def _flatten(value: Any, template: Template) -> list[Part]:
    if isinstance(value, str):
        return [Text(value)]
    if isinstance(value, bool | int | float):
        return [Text(str(value))]
    if isinstance(value, Mapping) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Ref" and isinstance(arg, str):
            return [_ref(template, arg, None)]
        if fn == "Fn::GetAtt":
            return [_getatt(template, arg)]
        if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
            delimiter, items = arg
            if isinstance(delimiter, str) and isinstance(items, list):
                parts: list[Part] = []
                for index, item in enumerate(items):
                    if index:
                        parts.append(Text(delimiter))
                    parts.extend(_flatten(item, template))
                return parts
        if fn == "Fn::Sub":
            return _sub(template, arg)
        if fn == "Fn::GetStackOutput" and isinstance(arg, Mapping):
            return _output(template, arg.get("StackName"), arg.get("OutputName"))
        if fn == "Fn::ImportValue":
            return _import(template, arg)
        return [Opaque(f"{fn} cannot be resolved from the template")]
    return [Opaque(f"unsupported value {type(value).__name__}")]


def render(parts: list[Part]) -> str:
    """Join parts into text, with placeholders for references, for pattern checks."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, Text):
            out.append(part.text)
        elif isinstance(part, Pseudo):
            out.append("${" + part.name.replace("::", "_") + "}")
        elif isinstance(part, ResourceRef):
            suffix = f".{part.attribute}" if part.attribute else ""
            out.append("${" + part.logical_id + suffix + "}")
        else:
            out.append("${?}")
    return "".join(out)


def is_opaque(parts: list[Part]) -> bool:
    """Whether any part cannot be resolved from the template."""
    return any(isinstance(p, Opaque) for p in parts)


def walk_strings(value: Any) -> Iterator[str]:
    """Every literal string inside a (possibly nested) value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from walk_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk_strings(item)


def as_list(value: Any) -> list[Any]:
    """IAM-style "string or list of strings" as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
