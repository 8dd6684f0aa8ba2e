"""Shared vocabulary of the BankGrade rules: results, rule records, template type."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

Template = Mapping[str, Any]
"""A synthesised CloudFormation template (the parsed JSON document)."""

Resource = Mapping[str, Any]
"""One entry of a template's ``Resources`` section."""


class Compliance(Enum):
    """Outcome of one rule on one resource."""

    COMPLIANT = "compliant"
    NON_COMPLIANT = "non_compliant"
    NOT_APPLICABLE = "not_applicable"


RuleCheck = Callable[[str, Resource, Template], Compliance]
"""``check(logical_id, resource, template) -> Compliance``; must be pure."""

Level = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule as listed in a pack.

    Parameters
    ----------
    id:
        Full rule id, e.g. ``"BankGrade-LambdaInvokedViaAlias"``; the id used to
        acknowledge a finding.
    check:
        The pure rule function.
    info:
        What is wrong when the rule fails (one sentence, shown per finding).
    explanation:
        Why it matters and how to fix it.
    level:
        Severity of a finding; both levels fail the gate unless acknowledged.
    """

    id: str
    check: RuleCheck
    info: str
    explanation: str
    level: Level = "error"
