"""A pack of pure rules run as a CDK policy validation plugin.

Register with ``Validations.of(stage).add_plugins(RulePackPlugin.bank_grade())``.
The plugin reads each synthesised template, runs the pack's rules, and reports
non-compliant resources. Like the cdk-nag packs it honours
``Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, ...))`` on the
resource or any ancestor; acknowledged findings are kept (with their reason) in
:attr:`RulePackPlugin.last_run` for the compliance report.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from constructs import IConstruct

from constructs_lib.compliance.acknowledged import (
    acknowledgement_for,
    find_by_path,
    logical_ids,
)
from constructs_lib.compliance.cfn import LinkedTemplate, resources
from constructs_lib.compliance.engine import RuleResult, evaluate
from constructs_lib.compliance.model import Compliance, Rule
from constructs_lib.compliance.packs import bank_grade

PLUGIN_VERSION = "1.0.0"


@dataclass(frozen=True, slots=True)
class StackRun:
    """Results of one plugin run on one stack template."""

    stack_path: str
    template_path: str
    results: tuple[RuleResult, ...]
    construct_paths: Mapping[str, str]
    acknowledged: Mapping[tuple[str, str], tuple[str, str]]
    """``{(rule id, logical id): (reason, acknowledged at)}`` for acknowledged findings."""


@dataclass(slots=True)
class PluginRun:
    """Everything the last :meth:`RulePackPlugin.validate` call saw."""

    stacks: list[StackRun] = field(default_factory=list)


@jsii.implements(cdk.IPolicyValidationPlugin)
class RulePackPlugin:
    """Runs a pack of pure template rules during ``app.synth()``."""

    def __init__(self, name: str, rules: Sequence[Rule]) -> None:
        self._name = name
        self._rules = tuple(rules)
        self.runs: list[PluginRun] = []
        """One entry per :meth:`validate` call (the CDK may call once per stage)."""

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
    def last_run(self) -> PluginRun:
        """The most recent :meth:`validate` call's results."""
        return self.runs[-1] if self.runs else PluginRun()

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self._rules

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        """Evaluate every template handed over by the CDK and report violations."""
        run = PluginRun()
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
            stack_run, violations = self._validate_stack(context.app_construct, stack, linked)
            run.stacks.append(stack_run)
            for rule_id, violating, error in violations:
                grouped.setdefault(rule_id, []).append(violating)
                if error:
                    errors[rule_id] = error
        self.runs.append(run)
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
    ) -> tuple[StackRun, list[tuple[str, cdk.PolicyViolatingResource, str | None]]]:
        results = evaluate(self._rules, template)
        paths = _construct_paths(template)
        stack_construct = find_by_path(app, stack.stack_construct_path)
        by_logical_id: dict[str, IConstruct] | None = None
        acknowledged: dict[tuple[str, str], tuple[str, str]] = {}
        violations: list[tuple[str, cdk.PolicyViolatingResource, str | None]] = []
        for result in results:
            if result.compliance is not Compliance.NON_COMPLIANT:
                continue
            construct: IConstruct | None = None
            if result.logical_id in paths:
                construct = find_by_path(app, paths[result.logical_id])
            elif isinstance(stack_construct, cdk.Stack):
                if by_logical_id is None:
                    by_logical_id = logical_ids(stack_construct)
                construct = by_logical_id.get(result.logical_id)
                if construct is not None:
                    paths[result.logical_id] = construct.node.path
            ack = acknowledgement_for(construct, result.rule.id) if construct else None
            if ack is not None:
                acknowledged[(result.rule.id, result.logical_id)] = ack
                continue
            violating = _violating(result.logical_id, template, stack.template_path,
                                   construct.node.path if construct else None)
            violations.append((result.rule.id, violating, result.error))
        run = StackRun(stack.stack_construct_path, stack.template_path, tuple(results),
                       dict(paths), acknowledged)
        return run, violations


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


def _construct_paths(template: Mapping[str, Any]) -> dict[str, str]:
    """``{logical id: construct path}`` from ``aws:cdk:path`` metadata, when synthesised."""
    paths: dict[str, str] = {}
    for logical_id, resource in resources(template).items():
        metadata = resource.get("Metadata", {}) if isinstance(resource, Mapping) else {}
        path = metadata.get("aws:cdk:path") if isinstance(metadata, Mapping) else None
        if isinstance(path, str):
            paths[logical_id] = path
    return paths
