"""The one way to accept a compliance finding: :func:`accept`, and how the gate reads it back.

A construct that accepts a finding by design (on a resource it creates), an
:class:`~constructs_lib.opt_outs.OptOut` that weakens a default, and an app's own
registry (:mod:`constructs_lib.gate.app_acknowledgements`) all call :func:`accept`.
It records the acceptance twice, from one call:

* ``Validations.of(scope).acknowledge(...)`` with the rule id qualified by its pack's
  namespace (``"AwsSolutions::AwsSolutions-L1"``), so a plain ``cdk synth`` with the
  packs attached is gated by the CDK itself, and the CDK's ``validation-report.json``
  lists the finding as suppressed with its reason;
* construct metadata (``bank-grade:acceptance``: rule ids, reason and *source*), so
  the gate can say who accepted what without guessing.

An acceptance covers the scope and everything below it, like cdk-nag's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import aws_cdk as cdk
from constructs import IConstruct

from constructs_lib.compliance.namespacing import qualify, unqualify
from constructs_lib.compliance.packs import PACK_NAMES

__all__ = ["ACCEPTANCE_METADATA_KEY", "Acceptance", "Source", "accept", "acceptance_for",
           "wildcard_finding_ids"]

ACCEPTANCE_METADATA_KEY = "bank-grade:acceptance"
MIN_REASON_LENGTH = 20

Source = Literal["design", "opt-out", "app"]
"""Who accepted: a construct's design, an explicit OptOut, or the app's own registry."""


@dataclass(frozen=True, slots=True)
class Acceptance:
    """An accepted finding, as found on a construct or one of its ancestors."""

    rule_id: str
    reason: str
    source: Source
    at: str
    """Construct path the acceptance was recorded on."""


def accept(scope: IConstruct, rule_ids: Iterable[str], reason: str, *,
           source: Source = "design") -> tuple[str, ...]:
    """Accept findings of ``rule_ids`` on ``scope`` and below, with ``reason``.

    Parameters
    ----------
    scope:
        The narrowest construct covering the accepted resources.
    rule_ids:
        Rule ids as the packs report them (``"AwsSolutions-IAM5[Resource::*]"``,
        ``"BankGrade-NoPublicNetwork"``); they are qualified with their pack's namespace.
    reason:
        Why it is acceptable, for a reviewer (at least 20 characters).
    source:
        ``"design"`` (a construct's own decision), ``"opt-out"`` or ``"app"``.

    Returns
    -------
    tuple of str
        The qualified ids recorded.

    Raises
    ------
    ValueError
        On a short reason, or a rule id of no known pack.
    """
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(f"Accepting {list(rule_ids)} needs a reason a reviewer can judge.")
    qualified = tuple(_qualified(rule_id) for rule_id in rule_ids)
    if not qualified:
        return ()
    cdk.Validations.of(scope).acknowledge(
        *(cdk.Acknowledgment(id=rule_id, reason=reason) for rule_id in qualified)
    )
    scope.node.add_metadata(ACCEPTANCE_METADATA_KEY,
                            {"rules": list(qualified), "reason": reason, "source": source})
    return qualified


_Recorded = list[Mapping[str, Any]]


def acceptance_for(
    construct: IConstruct, rule_id: str, *, cache: dict[str, _Recorded] | None = None,
) -> Acceptance | None:
    """The acceptance of ``rule_id`` on ``construct`` or its nearest ancestor, if any.

    ``cache`` (construct path -> its acceptance records) saves re-reading the
    metadata of shared ancestors when many findings are looked up in one tree.
    """
    wanted = _qualified(rule_id)
    current: IConstruct | None = construct
    while current is not None:
        path = current.node.path
        records = cache.get(path) if cache is not None else None
        if records is None:
            records = [entry.data for entry in current.node.metadata
                       if entry.type == ACCEPTANCE_METADATA_KEY and isinstance(entry.data, Mapping)]
            if cache is not None:
                cache[path] = records
        for data in records:
            if wanted in data["rules"]:
                return Acceptance(unqualify(wanted), str(data["reason"]), data["source"], path)
        current = current.node.scope
    return None


def _qualified(rule_id: str) -> str:
    qualified = qualify(rule_id, PACK_NAMES)
    if qualified == rule_id and "::" not in rule_id.split("[", 1)[0]:
        raise ValueError(f"{rule_id!r} is not a rule id of the packs {list(PACK_NAMES)}.")
    return qualified


def _render(value: object) -> str:
    """A resolved CloudFormation value as cdk-nag renders it in finding ids."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return str(separator).join(_render(part) for part in parts)
        if "Ref" in value:
            return f"<{value['Ref']}>"
        if "Fn::GetAtt" in value:
            return f"<{'.'.join(str(p) for p in value['Fn::GetAtt'])}>"
    return json.dumps(value, separators=(",", ":"))


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def wildcard_finding_ids(document: dict[str, object]) -> set[str]:
    """The ``AwsSolutions-IAM5[...]`` ids a resolved policy document draws.

    For constructs that accept, by exact id, the wildcards of grants CDK generates for
    them: a later grant with another wildcard draws an id that is not covered.
    """
    ids: set[str] = set()
    for statement in _as_list(document.get("Statement", [])):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        ids |= {f"AwsSolutions-IAM5[Action::{a}]" for a in _as_list(statement.get("Action", []))
                if isinstance(a, str) and "*" in a}
        ids |= {f"AwsSolutions-IAM5[Resource::{r}]"
                for r in map(_render, _as_list(statement.get("Resource", []))) if "*" in r}
    return ids
