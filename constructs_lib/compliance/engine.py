"""Run pack rules over a template: pure, no CDK involved."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from constructs_lib.compliance.cfn import resources
from constructs_lib.compliance.model import Compliance, Rule, Template


@dataclass(frozen=True, slots=True)
class RuleResult:
    """The outcome of one rule on one resource."""

    rule: Rule
    logical_id: str
    compliance: Compliance
    error: str | None = None


def evaluate(rules: Iterable[Rule], template: Template) -> list[RuleResult]:
    """Evaluate every rule on every resource of ``template``.

    A rule that raises is recorded as non-compliant with the error, so a rule
    bug can never pass a resource silently.
    """
    rule_list = list(rules)
    results: list[RuleResult] = []
    for logical_id, resource in resources(template).items():
        if not isinstance(resource, Mapping):
            continue
        for rule in rule_list:
            try:
                outcome = rule.check(logical_id, resource, template)
            except Exception as exc:  # a rule bug is reported as a finding, never a pass
                results.append(RuleResult(rule, logical_id, Compliance.NON_COMPLIANT,
                                          f"rule raised {type(exc).__name__}: {exc}"))
                continue
            results.append(RuleResult(rule, logical_id, outcome))
    return results
