"""The compliance gate: synthesise with every pack attached and judge the result."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import aws_cdk as cdk

from cdk_app.gate.assembly import stacks_in
from cdk_app.gate.lint import LintMatch, lint_stacks
from cdk_app.gate.report import StageReport, StaleAcknowledgement, failure_text, summary_table
from cdk_app.gate.validation_report import (
    REPORT_FILE,
    Finding,
    locate,
    read_validation_report,
)
from constructs_lib.compliance.acknowledged import find_by_path
from constructs_lib.compliance.acknowledgements import (
    ACKNOWLEDGEMENTS,
    AckApplication,
    AckEntry,
    apply_acknowledgements,
)
from constructs_lib.compliance.namespacing import qualified_acknowledgements, unqualify
from constructs_lib.compliance.packs import PACK_NAMES, new_packs
from constructs_lib.compliance.plugin import RulePackPlugin
from constructs_lib.opt_outs import OPT_OUT_METADATA_KEY

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
        out: list[str] = []
        for error in self.errors:
            out.append(f"ERROR {error}")
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


def _is_validation_failure(exc: Exception, outdir: Path) -> bool:
    message = str(exc)
    return (outdir / REPORT_FILE).exists() and (
        "ValidationFailed" in message or "Validation failed" in message)


def _plugin_acknowledged(plugin: RulePackPlugin, stack_paths: Sequence[str]) -> list[Finding]:
    """Acknowledgements the plugin applied itself (un-qualified ids, outside the gate)."""
    found = []
    for stack in (s for run in plugin.runs for s in run.stacks):
        for (rule_id, logical_id), (reason, at) in stack.acknowledged.items():
            path = stack.construct_paths.get(logical_id, f"{stack.stack_path}/{logical_id}")
            stage, stack_path = locate(path, stack_paths)
            rule = next(r for r in plugin.rules if r.id == rule_id)
            found.append(Finding(plugin.name, rule_id, path, stack_path, stage, rule.level,
                                 rule.info, True, reason, at, rule_id, logical_id))
    return found


def _opt_out_findings(app: cdk.App, path: str, cache: dict[str, set[str]]) -> set[str]:
    """Rule ids the OptOuts recorded on the construct at ``path`` acknowledge."""
    if path not in cache:
        construct = find_by_path(app, path)
        ids: set[str] = set()
        for entry in construct.node.metadata if construct is not None else []:
            if entry.type == OPT_OUT_METADATA_KEY and isinstance(entry.data, Mapping):
                ids.update(str(i) for i in entry.data.get("findings", []))
        cache[path] = ids
    return cache[path]


def _attribute(
    app: cdk.App, findings: list[Finding], application: AckApplication
) -> list[Finding]:
    """Say where each acknowledgement came from: registry, opt-out or construct code."""
    from_registry = {(a.qualified_id, a.construct_path) for a in application.applied}
    cache: dict[str, set[str]] = {}
    out = []
    for f in findings:
        if not (f.acknowledged and f.acknowledged_at is not None):
            out.append(f)
            continue
        if (f.acknowledged_id, f.acknowledged_at) in from_registry:
            source = "registry"
        elif unqualify(f.acknowledged_id or f.rule_id) in _opt_out_findings(
                app, f.acknowledged_at, cache):
            source = "opt-out"
        else:
            source = "construct"
        out.append(replace(f, acknowledged_by=source))
    return out


def _stale(application: AckApplication, findings: Sequence[Finding]) -> list[StaleAcknowledgement]:
    used = {(f.acknowledged_id, f.acknowledged_at) for f in findings if f.acknowledged}
    stale = [StaleAcknowledgement(e.rule_id, e.scope, stage, "its scope matches no construct")
             for e, stage in application.unmatched]
    by_entry: dict[tuple[AckEntry, str], list[bool]] = {}
    for applied in application.applied:
        hit = (applied.qualified_id, applied.construct_path) in used
        by_entry.setdefault((applied.entry, applied.stage), []).append(hit)
    stale += [StaleAcknowledgement(e.rule_id, e.scope, stage,
                                   f"applied to {len(hits)} construct(s) but no finding was "
                                   "acknowledged")
              for (e, stage), hits in by_entry.items() if not any(hits)]
    return stale


def run_gate(
    build: AppBuilder,
    *,
    acknowledgements: Sequence[AckEntry] = ACKNOWLEDGEMENTS,
    lint: bool = True,
) -> GateResult:
    """Build the app, attach every pack to every stage, synthesise and judge.

    Parameters
    ----------
    build:
        Returns the unsynthesised app (stages as children).
    acknowledgements:
        The registry to apply (the project's by default).
    lint:
        Run cfn-lint on every synthesised template.
    """
    errors: list[str] = []
    packs = new_packs()
    bank_grade = next(p for p in packs if isinstance(p, RulePackPlugin))
    with qualified_acknowledgements(PACK_NAMES):
        try:
            app = build()
        except Exception as exc:  # a construct refusing its props, a bad config, ...
            return GateResult((), Path("cdk.out"), (f"building the app failed: {exc}",))
        stage_names = [c.node.id for c in app.node.children if cdk.Stage.is_stage(c)]
        application = apply_acknowledgements(app, acknowledgements)
        for child in app.node.children:
            if cdk.Stage.is_stage(child):
                # One instance per pack on every stage: the CDK then runs each pack once.
                cdk.Validations.of(child).add_plugins(*packs)
        outdir = Path(app.outdir)
        (outdir / REPORT_FILE).unlink(missing_ok=True)  # never judge a previous run's report
        try:
            app.synth()
        except Exception as exc:  # cdk-nag violations interrupt synthesis in some app modes
            if not _is_validation_failure(exc, outdir):
                errors.append(f"synthesis failed: {str(exc).strip()[:2000]}")
    stacks = stacks_in(outdir)
    stack_paths = [s.path for s in stacks]
    report = read_validation_report(outdir, stack_paths)
    findings: list[Finding] = list(report.findings) if report else []
    if report is None and not errors:
        errors.append("the CDK wrote no validation-report.json: were the packs attached?")
    if report:
        errors += report.plugin_errors
    seen = {(f.pack, f.rule_id, f.resource_path) for f in findings}
    findings += [f for f in _plugin_acknowledged(bank_grade, stack_paths)
                 if (f.pack, f.rule_id, f.resource_path) not in seen]
    findings = _attribute(app, findings, application)
    lint_matches: list[LintMatch] = []
    if lint:
        lint_matches = lint_stacks(stacks)
    stale = _stale(application, findings)
    stages = []
    for name in stage_names:
        stage = StageReport(
            stage=name,
            findings=[f for f in findings if f.stage == name],
            lint=[m for m in lint_matches if m.stage == name],
            stale=[s for s in stale if s.stage == name],
        )
        stages.append(stage)
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / f"compliance-{name}.json").write_text(
            json.dumps(stage.as_dict(), indent=2, sort_keys=False) + "\n")
    return GateResult(tuple(stages), outdir, tuple(errors))
