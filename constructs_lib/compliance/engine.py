"""Run pack rules over a template: pure, no CDK involved."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from constructs_lib.compliance.cfn import resources
from constructs_lib.compliance.model import Compliance, Rule, Template

OUTPUT_TYPE = "AWS::CloudFormation::Output"
PARAMETER_TYPE = "AWS::CloudFormation::Parameter"


@dataclass(frozen=True, slots=True)
class RuleResult:
    """The outcome of one rule on one resource."""

    rule: Rule
    logical_id: str
    compliance: Compliance
    error: str | None = None


def entries(template: Template) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Resources, then outputs and parameters as pseudo-resources.

    Outputs (``Properties``: the output) and parameters (``Properties``: the
    parameter declaration, including its ``Default``) are typed
    :data:`OUTPUT_TYPE` / :data:`PARAMETER_TYPE`, so rules about values anywhere
    in a template (secrets) see them and type-specific rules ignore them.
    """
    for logical_id, resource in resources(template).items():
        if isinstance(resource, Mapping):
            yield logical_id, resource
    for section, rtype in (("Outputs", OUTPUT_TYPE), ("Parameters", PARAMETER_TYPE)):
        items = template.get(section, {})
        for logical_id, body in (items.items() if isinstance(items, Mapping) else []):
            if isinstance(body, Mapping):
                yield logical_id, {"Type": rtype, "Properties": body}


def evaluate(rules: Iterable[Rule], template: Template) -> list[RuleResult]:
    """Evaluate every rule on every entry of ``template`` (see :func:`entries`).

    A rule that raises is recorded as non-compliant with the error, so a rule
    bug can never pass a resource silently.
    """
    rule_list = list(rules)
    results: list[RuleResult] = []
    for logical_id, resource in entries(template):
        for rule in rule_list:
            try:
                outcome = rule.check(logical_id, resource, template)
            except Exception as exc:  # a rule bug is reported as a finding, never a pass
                results.append(RuleResult(rule, logical_id, Compliance.NON_COMPLIANT,
                                          f"rule raised {type(exc).__name__}: {exc}"))
                continue
            results.append(RuleResult(rule, logical_id, outcome))
    return results
