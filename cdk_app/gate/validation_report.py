"""Read the CDK's ``validation-report.json`` into flat findings."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from constructs_lib.compliance.namespacing import unqualify

REPORT_FILE = "validation-report.json"


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
    acknowledged_id: str | None = None
    logical_id: str | None = None
    acknowledged_by: str | None = None
    """``registry``, ``opt-out`` (a construct's recorded OptOut) or ``construct``."""

    @property
    def base_rule(self) -> str:
        """Rule id without a per-finding suffix (``AwsSolutions-IAM5[Resource::*]`` -> ``IAM5``)."""
        return self.rule_id.split("[", 1)[0]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def locate(path: str, stack_paths: Sequence[str]) -> tuple[str, str]:
    """``(stage, stack)`` of a construct path, from the known stack paths."""
    stack = max((s for s in stack_paths if path == s or path.startswith(s + "/")),
                key=len, default="")
    stage = path.split("/", 1)[0] if "/" in path else ""
    return stage, stack


def _violation_findings(
    pack: str, violation: Mapping[str, Any], stack_paths: Sequence[str], *, acknowledged: bool
) -> list[Finding]:
    findings = []
    rule_id = unqualify(str(violation.get("ruleName", "")))
    for resource in violation.get("violatingConstructs", []):
        path = str(resource.get("constructPath", ""))
        stage, stack = locate(path, stack_paths)
        cfn = resource.get("cloudFormationResource") or {}
        findings.append(Finding(
            pack=pack, rule_id=rule_id, resource_path=path, stack=stack, stage=stage,
            level=str(violation.get("severity", "error")),
            message=str(violation.get("description", "")),
            acknowledged=acknowledged,
            reason=violation.get("reason") if acknowledged else None,
            acknowledged_at=violation.get("acknowledgedAt") if acknowledged else None,
            acknowledged_id=violation.get("acknowledgedId") if acknowledged else None,
            logical_id=cfn.get("logicalId"),
        ))
    return findings


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Findings per plugin, plus plugins that failed to run."""

    findings: tuple[Finding, ...]
    plugins: tuple[str, ...]
    plugin_errors: tuple[str, ...]


def read_validation_report(outdir: Path, stack_paths: Sequence[str]) -> ValidationReport | None:
    """Parse ``<outdir>/validation-report.json``; ``None`` when the CDK wrote none."""
    path = outdir / REPORT_FILE
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    findings: list[Finding] = []
    plugins: list[str] = []
    errors: list[str] = []
    for report in data.get("pluginReports", []):
        pack = str(report.get("pluginName", "?"))
        plugins.append(pack)
        violations = report.get("violations", [])
        suppressed = report.get("suppressedViolations", [])
        for violation in violations:
            findings += _violation_findings(pack, violation, stack_paths, acknowledged=False)
        for violation in suppressed:
            findings += _violation_findings(pack, violation, stack_paths, acknowledged=True)
        if report.get("conclusion") == "failure" and not violations:
            error = (report.get("metadata") or {}).get("error")
            if error:
                errors.append(f"{pack}: {error}")
    return ValidationReport(tuple(findings), tuple(plugins), tuple(errors))
