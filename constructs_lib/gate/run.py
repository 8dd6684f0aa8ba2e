"""The compliance gate: attach -> synthesise -> collect -> report, in that order.

1. **attach** -- apply the app's own acknowledgements and wrap every pack in a
   recorder (:func:`~constructs_lib.gate.attach.attach_packs`);
2. **synthesise** -- ``app.synth()``, with failing validation turned into a report
   rather than an exception (:data:`~constructs_lib.gate.context.GATE_CONTEXT`);
3. **collect** -- findings from the recorded pack reports and the tree's
   acceptances, cfn-lint over the synthesised templates;
4. **report** -- one :class:`~constructs_lib.gate.report.StageReport` per stage,
   written as ``compliance-<stage>.json`` next to the assembly.

Nothing written in step 4 (or by the CDK) is read back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import cx_api

from constructs_lib.gate.app_acknowledgements import (
    AppAcknowledgement,
    AppliedAcknowledgements,
    apply_app_acknowledgements,
)
from constructs_lib.gate.attach import attach_packs
from constructs_lib.gate.findings import Finding, StackInfo, collect_findings, stacks_of
from constructs_lib.gate.lint import LintMatch, lint_stacks
from constructs_lib.gate.report import (
    StageReport,
    StaleAcknowledgement,
    failure_text,
    summary_table,
)

__all__ = ["AppBuilder", "GateResult", "run_gate"]

AppBuilder = Callable[[], cdk.App]


@dataclass(frozen=True, slots=True)
class GateResult:
    """Outcome of one gate run."""

    stages: tuple[StageReport, ...]
    outdir: Path
    errors: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.errors and all(s.passed for s in self.stages)

    def stage(self, name: str) -> StageReport:
        return next(s for s in self.stages if s.stage == name)

    def text(self) -> str:
        """Per-stage summary tables and, for failing stages, what to fix."""
        out = [f"ERROR {error}" for error in self.errors]
        for report in self.stages:
            status = "PASSED" if report.passed else "FAILED"
            out.append(f"\n== Compliance gate, stage {report.stage}: {status}")
            out.append(summary_table(report))
            details = failure_text(report)
            if details:
                out.append(details)
        verdict = "PASSED" if self.passed else "FAILED"
        out.append(f"\nCompliance gate {verdict}. Reports: {self.outdir}/compliance-<stage>.json")
        return "\n".join(out)


def run_gate(
    build: AppBuilder,
    *,
    acknowledgements: Sequence[AppAcknowledgement] = (),
    lint: bool = True,
) -> GateResult:
    """Build the app, attach every pack, synthesise, collect and write the reports.

    Parameters
    ----------
    build:
        Returns the unsynthesised app (stacks and/or stages as children). Its
        ``outdir`` is where the assembly and the reports go.
    acknowledgements:
        The app's own accepted findings (its one registry); default none.
    lint:
        Run cfn-lint on every synthesised template.
    """
    try:
        app = build()
    except Exception as exc:  # a construct refusing its props, a bad config, ...
        return GateResult((), Path("cdk.out"), (f"building the app failed: {exc}",))
    applied = apply_app_acknowledgements(app, acknowledgements)
    packs = attach_packs(app)
    outdir = Path(app.outdir)
    try:
        assembly = app.synth()
    except Exception as exc:
        if "ValidationFailed" not in str(exc):  # e.g. a construct raising during synthesis
            return GateResult((), outdir, (f"synthesis failed: {str(exc).strip()[:2000]}",))
        # An app built without the gate's context (CDK_CONTEXT_JSON, e.g. in a test
        # process whose Node started earlier) throws after validating; the assembly is
        # complete on disk by then and the findings are already recorded.
        assembly = cx_api.CloudAssembly(str(outdir))
    stacks = stacks_of(assembly)
    findings, errors = collect_findings(app, packs, stacks)
    lint_matches = lint_stacks(stacks) if lint else []
    stale = _stale(applied, findings)
    stages = _stage_reports(stacks, findings, lint_matches, stale)
    outdir.mkdir(parents=True, exist_ok=True)
    for stage in stages:
        (outdir / f"compliance-{stage.stage}.json").write_text(
            json.dumps(stage.as_dict(), indent=2) + "\n")
    return GateResult(tuple(stages), outdir, tuple(errors))


def _stage_reports(
    stacks: Sequence[StackInfo], findings: Sequence[Finding],
    lint_matches: Sequence[LintMatch], stale: Sequence[StaleAcknowledgement],
) -> list[StageReport]:
    names = list(dict.fromkeys(s.stage for s in stacks))
    return [
        StageReport(
            stage=name,
            findings=[f for f in findings if f.stage == name],
            lint=[m for m in lint_matches if m.stage == name],
            stale=[s for s in stale if s.stage == name],
        )
        for name in names
    ]


def _stale(applied: AppliedAcknowledgements, findings: Sequence[Finding],
           ) -> list[StaleAcknowledgement]:
    """App entries whose scope matched nothing, or that acknowledged no finding."""
    used = {(f.rule_id, f.acknowledged_at) for f in findings if f.acknowledged_by == "app"}
    stale = [StaleAcknowledgement(e.rule_id, e.scope, stage, "its scope matches no construct")
             for e, stage in applied.unmatched]
    hits: dict[tuple[AppAcknowledgement, str], list[bool]] = {}
    for a in applied.applied:
        hits.setdefault((a.entry, a.stage), []).append((a.rule_id, a.construct_path) in used)
    stale += [StaleAcknowledgement(e.rule_id, e.scope, stage,
                                   f"applied to {len(h)} construct(s) but no finding was "
                                   "acknowledged")
              for (e, stage), h in hits.items() if not any(h)]
    return stale
