"""A pack of pure rules run as a CDK policy validation plugin.

Register with ``Validations.of(stage).add_plugins(RulePackPlugin.bank_grade())``.
The plugin reads each synthesised template, runs the pack's rules, and reports
every non-compliant resource. It applies no acknowledgements itself: those made
with :func:`constructs_lib.acceptance.accept` are namespace-qualified, so the CDK
applies them (``cdk synth``) and the gate reads them from the tree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from constructs import IConstruct

from constructs_lib.compliance.cfn import LinkedTemplate, resources
from constructs_lib.compliance.engine import evaluate
from constructs_lib.compliance.model import Compliance, Rule
from constructs_lib.compliance.packs import bank_grade
from constructs_lib.compliance.tree import find_by_path, logical_ids

PLUGIN_VERSION = "1.0.0"


@jsii.implements(cdk.IPolicyValidationPlugin)
class RulePackPlugin:
    """Runs a pack of pure template rules during ``app.synth()``."""

    def __init__(self, name: str, rules: Sequence[Rule]) -> None:
        self._name = name
        self._rules = tuple(rules)

    @classmethod
    def bank_grade(cls) -> RulePackPlugin:
        """The project's BankGrade pack."""
        return cls(bank_grade.PACK_NAME, bank_grade.RULES)

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        return PLUGIN_VERSION

    @property
    def rule_ids(self) -> list[str]:
        return [rule.id for rule in self._rules]

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self._rules

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        """Evaluate every template handed over by the CDK and report violations."""
        grouped: dict[str, list[cdk.PolicyViolatingResource]] = {}
        info = {rule.id: rule for rule in self._rules}
        errors: dict[str, str] = {}
        stacks = list(context.stack_templates)
        templates = {s.template_path: json.loads(Path(s.template_path).read_text())
                     for s in stacks}
        names = _stack_names(list(templates))
        peers = {names[path]: doc for path, doc in templates.items() if path in names}
        for stack in stacks:
            linked = LinkedTemplate(templates[stack.template_path], peers)
            violations = self._validate_stack(context.app_construct, stack, linked)
            for rule_id, violating, error in violations:
                grouped.setdefault(rule_id, []).append(violating)
                if error:
                    errors[rule_id] = error
        report_violations = [
            cdk.PolicyViolation(
                rule_name=rule_id,
                description=info[rule_id].info + (f" ({errors[rule_id]})"
                                                  if rule_id in errors else ""),
                fix=info[rule_id].explanation,
                severity=info[rule_id].level,
                violating_resources=violating,
            )
            for rule_id, violating in grouped.items()
        ]
        success = not any(info[v.rule_name].level == "error" for v in report_violations)
        return cdk.PolicyValidationPluginReport(
            success=success, violations=report_violations, plugin_version=PLUGIN_VERSION,
        )

    def _validate_stack(
        self, app: IConstruct, stack: cdk.PolicyValidationStack, template: LinkedTemplate
    ) -> list[tuple[str, cdk.PolicyViolatingResource, str | None]]:
        violations: list[tuple[str, cdk.PolicyViolatingResource, str | None]] = []
        by_logical_id: dict[str, IConstruct] | None = None
        for result in evaluate(self._rules, template):
            if result.compliance is not Compliance.NON_COMPLIANT:
                continue
            construct_path: str | None = None
            if result.logical_id not in resources(template):
                if by_logical_id is None:
                    by_logical_id = logical_ids(find_by_path(app, stack.stack_construct_path))
                found = by_logical_id.get(result.logical_id)
                construct_path = found.node.path if found is not None else None
            violating = _violating(result.logical_id, template, stack.template_path,
                                   construct_path)
            violations.append((result.rule.id, violating, result.error))
        return violations


def _violating(
    logical_id: str, template: Mapping[str, Any], template_path: str, construct_path: str | None
) -> cdk.PolicyViolatingResource:
    """Point at a resource by logical id; at an output/parameter by its construct path.

    The CDK maps logical ids back to constructs only for resources, so outputs
    and parameters are reported with the construct path found here.
    """
    if logical_id in resources(template) or construct_path is None:
        return cdk.PolicyViolatingResource(
            locations=["Properties"], resource_logical_id=logical_id,
            template_path=template_path)
    section = "Outputs" if logical_id in template.get("Outputs", {}) else "Parameters"
    return cdk.PolicyViolatingResource(
        locations=[f"{section}/{logical_id}"], construct_path=construct_path,
        template_path=template_path)


def _stack_names(template_paths: Sequence[str]) -> dict[str, str]:
    """``{template path: CloudFormation stack name}`` from the assembly manifests."""
    names: dict[str, str] = {}
    for directory in {Path(p).parent for p in template_paths}:
        manifest = directory / "manifest.json"
        if not manifest.exists():
            continue
        for artifact_id, artifact in json.loads(manifest.read_text()).get(
                "artifacts", {}).items():
            props = artifact.get("properties", {})
            if artifact.get("type") == "aws:cloudformation:stack" and "templateFile" in props:
                path = str(directory / props["templateFile"])
                names[path] = props.get("stackName", artifact_id)
    wanted = {str(Path(p)): p for p in template_paths}
    return {wanted[p]: name for p, name in names.items() if p in wanted}
