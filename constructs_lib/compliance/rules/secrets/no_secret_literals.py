"""No secret-looking literal anywhere in a resource.

Values resolved at deploy time (``{{resolve:...}}`` dynamic references, ``Ref``,
``Fn::GetAtt``) are fine: the template then only holds a pointer. Literal text
is flagged when it has a well-known secret shape anywhere (PEM private keys,
AWS access key ids, provider tokens, JWTs, URLs with a password), or when it is
the value of a secret-sounding name (``*_PASSWORD``, ``ApiKey``, ``X-Origin-Verify``
...) and looks like a secret.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from constructs_lib.compliance.cfn import flatten, is_dynamic_reference, properties, render
from constructs_lib.compliance.model import Compliance, Resource, Template

_SHAPES = (
    re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA)[0-9A-Z]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\b[rs]k_live_[A-Za-z0-9]{16,}"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    # scheme://user:password@host, unless the password is a deploy-time reference.
    re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@{}]+:(?!\{\{resolve:)[^/\s@{}]+@"),
)

# Names whose literal value is a secret whatever it looks like.
_STRONG = re.compile(r"(?:^|_)(password|passwd|passphrase|pwd|secret|private_key|"
                     r"client_secret|secret_string|secret_key)(?:_|$)")
# Names whose value is a secret when it looks random enough.
_WEAK = re.compile(r"(?:^|_)(token|api_?key|apikey|auth|authorization|credentials?|verify|"
                   r"signing|signature|hmac|bearer|access_key|private|cookie)(?:_|$)")
# Names that hold pointers or settings, not secret material.
_POINTER_SUFFIX = re.compile(r"_(arn|name|id|ids|length|type|description|policy|template|"
                             r"version|region|prefix|path|parameter|param|header|enabled|"
                             r"rotation|days|seconds|field|location|kms_key_id|key_id)s?$")

_NAME_KEYS = ("Name", "HeaderName", "Key", "ParameterKey", "OptionName")
_VALUE_KEYS = ("Value", "HeaderValue", "ParameterValue")


def _normalise(name: str) -> str:
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def has_secret_shape(text: str) -> bool:
    """Whether ``text`` contains a well-known secret format."""
    return any(p.search(text) for p in _SHAPES)


def _looks_like_pointer(text: str) -> bool:
    return text.startswith(("arn:", "alias/", "/", "https://", "http://")) or " " in text.strip()


def secret_for_name(name: str, value: str) -> bool:
    """Whether ``value``, stored under ``name``, is a secret literal."""
    normalised = _normalise(name)
    if (not value or is_dynamic_reference(value) or _POINTER_SUFFIX.search(normalised)
            or _looks_like_pointer(value)):
        return False
    if _STRONG.search(normalised):
        return len(value) >= 4
    if _WEAK.search(normalised):
        return len(value) >= 16 and entropy(value) >= 3.5
    return False


def _named_values(value: Any, template: Template, name: str = "") -> Iterator[tuple[str, Any]]:
    """``(name, value)`` pairs: object keys, and ``{Name: .., Value: ..}`` records.

    ``Fn::Join`` / ``Fn::Sub`` are rendered whole (references as placeholders), so
    a dynamic reference assembled from pieces is still recognised as one.
    """
    if isinstance(value, Mapping):
        if len(value) == 1 and next(iter(value)) in ("Ref", "Fn::GetAtt", "Fn::ImportValue"):
            return
        if len(value) == 1 and next(iter(value)) in ("Fn::Join", "Fn::Sub"):
            yield name, render(flatten(value, template))
            return
        name_key = next((k for k in _NAME_KEYS if isinstance(value.get(k), str)), None)
        value_key = next((k for k in _VALUE_KEYS if k in value), None)
        if name_key and value_key:
            yield from _named_values(value[value_key], template, str(value[name_key]))
        for key, item in value.items():
            if key == value_key and name_key:
                continue
            inherit = isinstance(key, str) and key.startswith("Fn::")
            yield from _named_values(item, template, name if inherit else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _named_values(item, template, name)
    else:
        yield name, value


# Outputs and parameters reach the rules as pseudo-resources (see compliance.engine);
# the value is named by the output's / parameter's logical id.
_NAMED_BY_LOGICAL_ID = {"AWS::CloudFormation::Output": "Value",
                        "AWS::CloudFormation::Parameter": "Default"}


def check(logical_id: str, resource: Resource, template: Template) -> Compliance:
    """Flag secret-looking literals in the resource's properties."""
    props = properties(resource)
    if not props:
        return Compliance.NOT_APPLICABLE
    value_key = _NAMED_BY_LOGICAL_ID.get(str(resource.get("Type")))
    if value_key is not None:
        props = {logical_id: props.get(value_key)}
    for name, value in _named_values(props, template):
        if not isinstance(value, str):
            continue
        if has_secret_shape(value) or secret_for_name(name, value):
            return Compliance.NON_COMPLIANT
    return Compliance.COMPLIANT
