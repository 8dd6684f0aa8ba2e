"""Per-stage compliance report: counts per pack, failures, JSON and text forms."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from constructs_lib.compliance.packs import PACK_NAMES
from constructs_lib.gate.findings import ANNOTATIONS, Finding
from constructs_lib.gate.lint import LintMatch
from constructs_lib.gate.rule_counts import rules_in_pack

ANNOTATIONS_PLUGIN = ANNOTATIONS
# Construct annotations include our own opt-out warnings, which are intentional.
_FAILING_LEVELS = {ANNOTATIONS_PLUGIN: frozenset({"error", "fatal"})}
_DEFAULT_FAILING = frozenset({"error", "fatal", "warning"})


def fails(finding: Finding) -> bool:
    """Whether ``finding`` fails the gate: unacknowledged at a failing level."""
    levels = _FAILING_LEVELS.get(finding.pack, _DEFAULT_FAILING)
    return not finding.acknowledged and finding.level.lower() in levels


@dataclass(frozen=True, slots=True)
class StaleAcknowledgement:
    """A registry entry (or an application of it) that acknowledged nothing."""

    rule_id: str
    scope: str
    stage: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"rule_id": self.rule_id, "scope": self.scope, "stage": self.stage,
                "detail": self.detail}


@dataclass(slots=True)
class StageReport:
    """Everything the gate found for one stage."""

    stage: str
    findings: list[Finding] = field(default_factory=list)
    lint: list[LintMatch] = field(default_factory=list)
    stale: list[StaleAcknowledgement] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if fails(f)]

    @property
    def lint_errors(self) -> list[LintMatch]:
        return [m for m in self.lint if m.level == "error"]

    @property
    def passed(self) -> bool:
        return not (self.failures or self.lint_errors or self.errors)

    def packs(self) -> list[str]:
        extra = sorted({f.pack for f in self.findings} - set(PACK_NAMES))
        return [*PACK_NAMES, *extra]

    def pack_summary(self, pack: str) -> dict[str, Any]:
        findings = [f for f in self.findings if f.pack == pack]
        failed_rules = {f.base_rule for f in findings if fails(f)}
        acked_rules = {f.base_rule for f in findings if f.acknowledged} - failed_rules
        noted_rules = {f.base_rule for f in findings} - failed_rules - acked_rules
        evaluated = rules_in_pack(pack)
        return {
            "rules_evaluated": evaluated,
            "rules_passed": (evaluated - len(failed_rules | acked_rules | noted_rules)
                             if evaluated is not None else None),
            "rules_acknowledged": len(acked_rules),
            "rules_failed": len(failed_rules),
            "rules_noted": len(noted_rules),
            "findings_total": len(findings),
            "findings_acknowledged": sum(f.acknowledged for f in findings),
            "acknowledged_by": {
                source: sum(f.acknowledged_by == source for f in findings)
                for source in ("app", "opt-out", "design")
            },
            "findings_failed": sum(fails(f) for f in findings),
        }

    def as_dict(self) -> dict[str, Any]:
        acknowledged = [f for f in self.findings if f.acknowledged]
        return {
            "stage": self.stage,
            "passed": self.passed,
            "packs": {pack: self.pack_summary(pack) for pack in self.packs()},
            "failed": [f.as_dict() for f in self.failures],
            "acknowledged": [f.as_dict() for f in acknowledged],
            "noted": [f.as_dict() for f in self.findings if not f.acknowledged and not fails(f)],
            "acknowledgement_reasons": _reasons(acknowledged),
            "stale_acknowledgements": [s.as_dict() for s in self.stale],
            "cfn_lint": {
                "errors": [m.as_dict() for m in self.lint_errors],
                "warnings": len([m for m in self.lint if m.level == "warning"]),
                "warning_list": [m.as_dict() for m in self.lint if m.level == "warning"],
            },
            "errors": list(self.errors),
        }


def _reasons(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """Acknowledged findings grouped by (rule, reason, where and by what acknowledged)."""
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    for f in findings:
        key = (f.rule_id, f.reason or "", f.acknowledged_at or "", f.acknowledged_by or "")
        groups.setdefault(key, []).append(f.resource_path)
    return [{"rule_id": r, "reason": why, "acknowledged_at": at, "acknowledged_by": by,
             "resources": sorted(paths)}
            for (r, why, at, by), paths in sorted(groups.items())]


def summary_table(report: StageReport) -> str:
    """Packs x rules evaluated/passed/acknowledged/failed, plus finding counts."""
    header = ("pack", "rules", "passed", "ack'd", "failed", "findings", "ack'd", "failed")
    rows: list[Sequence[str]] = [header]
    for pack in report.packs():
        s = report.pack_summary(pack)
        evaluated = "-" if s["rules_evaluated"] is None else str(s["rules_evaluated"])
        passed = "-" if s["rules_passed"] is None else str(s["rules_passed"])
        rows.append((pack, evaluated, passed, str(s["rules_acknowledged"]),
                     str(s["rules_failed"]), str(s["findings_total"]),
                     str(s["findings_acknowledged"]), str(s["findings_failed"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                       enumerate(zip(row, widths, strict=True))) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    warnings = len(report.lint) - len(report.lint_errors)
    lines.append(f"cfn-lint: {len(report.lint_errors)} errors, {warnings} warnings/infos")
    if report.stale:
        lines.append(f"stale acknowledgements: {len(report.stale)}")
    return "\n".join(lines)


def failure_text(report: StageReport) -> str:
    """A readable list of what fails the stage and how to deal with it."""
    out: list[str] = []
    for error in report.errors:
        out.append(f"  ERROR {error}")
    for f in sorted(report.failures, key=lambda f: (f.pack, f.rule_id, f.resource_path)):
        out.append(f"  [{f.level}] {f.rule_id}  {f.resource_path}\n      {f.message}")
    if report.failures:
        example = report.failures[0]
        relative = example.resource_path.removeprefix(f"{report.stage}/")
        out.append(
            "  Fix the resource, or if the app accepts it, add an entry with a reason a reviewer\n"
            "  can judge to the app's acknowledgements (the tuple passed to run_gate), e.g.\n"
            f'    AppAcknowledgement(rule_id="{example.rule_id}", path="{relative}", '
            'reason="...")\n'
            "  (an OptOut(finding_ids=...) on the construct when it weakens a library default)."
        )
    for m in report.lint_errors:
        out.append(f"  [cfn-lint {m.rule}] {m.stack} {m.location}: {m.message}")
    for s in report.stale:
        out.append(f"  (warning) stale acknowledgement {s.rule_id} [{s.scope}]: {s.detail}")
    return "\n".join(out)
