"""Collect: turn what the packs reported during synthesis into flat findings.

Inputs are all in memory: the reports the :class:`~constructs_lib.gate.attach.RecordingPlugin`
wrappers kept, the cloud assembly ``app.synth()`` returned, and the construct tree,
where :func:`~constructs_lib.acceptance.accept` recorded every acceptance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import cx_api

from constructs_lib.acceptance import acceptance_for
from constructs_lib.compliance.tree import find_by_path
from constructs_lib.gate.app_acknowledgements import TOP_LEVEL_STAGE
from constructs_lib.gate.attach import AttachedPacks

__all__ = ["ANNOTATIONS", "Finding", "StackInfo", "collect_findings", "stacks_of"]

ANNOTATIONS = "Construct Annotations"
"""Pseudo-pack of the CDK's own error and warning annotations."""
_ANNOTATION_LEVELS = {"aws:cdk:error": "error", "aws:cdk:warning": "warning"}


@dataclass(frozen=True, slots=True)
class StackInfo:
    """One synthesised stack."""

    path: str
    """Construct path, e.g. ``staging/Data``."""
    stage: str
    region: str | None
    template_path: Path
    template: Mapping[str, Any]
    messages: tuple[tuple[str, str, str, str], ...] = ()
    """The CDK's annotations on this stack: ``(metadata type, level, construct path, text)``."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule result on one resource."""

    pack: str
    rule_id: str
    resource_path: str
    stack: str
    stage: str
    level: str
    message: str
    acknowledged: bool
    reason: str | None = None
    acknowledged_at: str | None = None
    acknowledged_by: str | None = None
    """``app`` (the app's registry), ``opt-out`` or ``design`` (a construct's own)."""
    logical_id: str | None = None

    @property
    def base_rule(self) -> str:
        """Rule id without a per-finding suffix (``AwsSolutions-IAM5[Resource::*]`` -> ``IAM5``)."""
        return self.rule_id.split("[", 1)[0]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def stacks_of(assembly: cx_api.CloudAssembly) -> list[StackInfo]:
    """Every CloudFormation stack of ``assembly``, nested stages included."""
    found = []
    for artifact in assembly.stacks_recursively:
        region = artifact.environment.region
        path = artifact.hierarchical_id
        found.append(StackInfo(
            path=path,
            stage=path.split("/", 1)[0] if "/" in path else TOP_LEVEL_STAGE,
            region=None if region in ("", "unknown-region") else region,
            template_path=Path(artifact.template_full_path).resolve(),
            template=artifact.template,
            messages=tuple((m.entry.type, str(m.level.value if hasattr(m.level, "value")
                                                  else m.level).lower(),
                            m.id.lstrip("/"), str(m.entry.data))
                           for m in artifact.messages
                           if m.entry.type in _ANNOTATION_LEVELS),
        ))
    return found


def collect_findings(
    app: cdk.App, packs: AttachedPacks, stacks: Sequence[StackInfo]
) -> tuple[list[Finding], list[str]]:
    """``(findings, plugin errors)`` of one synthesis, acceptances resolved from the tree."""
    by_template = {s.template_path: s for s in stacks}
    findings: list[Finding] = []
    errors: list[str] = []
    cache: dict[str, Any] = {}
    for plugin in packs.plugins:
        for report in plugin.reports:
            if not report.success and not report.violations:
                errors.append(f"{plugin.name}: the pack failed without reporting a violation")
            for violation in report.violations:
                for resource in violation.violating_resources:
                    path, logical_id = _construct_path(resource, by_template)
                    findings.append(_finding(app, plugin.name, violation, path, logical_id,
                                             stacks=stacks, cache=cache))
    findings += _annotations(stacks)
    return findings, errors


def _construct_path(
    resource: cdk.PolicyViolatingResource, by_template: Mapping[Path, StackInfo]
) -> tuple[str, str | None]:
    logical_id = resource.resource_logical_id
    if resource.construct_path:
        return resource.construct_path, logical_id
    stack = by_template.get(Path(resource.template_path or "").resolve())
    if stack is None or logical_id is None:
        return f"?/{logical_id}", logical_id
    body = stack.template.get("Resources", {}).get(logical_id, {})
    path = body.get("Metadata", {}).get("aws:cdk:path") if isinstance(body, Mapping) else None
    return (str(path) if path else f"{stack.path}/{logical_id}"), logical_id


def _finding(
    app: cdk.App, pack: str, violation: cdk.PolicyViolation, path: str,
    logical_id: str | None, *, stacks: Sequence[StackInfo], cache: dict[str, Any],
) -> Finding:
    stage, stack = locate(path, stacks)
    construct = find_by_path(app, path)
    accepted = (acceptance_for(construct, violation.rule_name, cache=cache)
                if construct is not None else None)
    return Finding(
        pack=pack, rule_id=violation.rule_name, resource_path=path, stack=stack, stage=stage,
        level=str(violation.severity or "error"), message=violation.description,
        acknowledged=accepted is not None,
        reason=accepted.reason if accepted else None,
        acknowledged_at=accepted.at if accepted else None,
        acknowledged_by=accepted.source if accepted else None,
        logical_id=logical_id,
    )


def locate(path: str, stacks: Iterable[StackInfo]) -> tuple[str, str]:
    """``(stage, stack path)`` of a construct path."""
    stack = max((s for s in stacks if path == s.path or path.startswith(s.path + "/")),
                key=lambda s: len(s.path), default=None)
    if stack is None:
        return (path.split("/", 1)[0] if "/" in path else TOP_LEVEL_STAGE), ""
    return stack.stage, stack.path


def _annotations(stacks: Sequence[StackInfo]) -> list[Finding]:
    """The CDK's error and warning annotations, as findings of :data:`ANNOTATIONS`."""
    return [Finding(ANNOTATIONS, kind, path, stack.path, stack.stage,
                    _ANNOTATION_LEVELS[kind], text, acknowledged=False)
            for stack in stacks for kind, _level, path, text in stack.messages]
