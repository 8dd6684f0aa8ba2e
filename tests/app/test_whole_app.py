"""Both stages of the real app pass the compliance gate."""

from __future__ import annotations

import pytest

from .conftest import STAGES, GateRun

pytestmark = pytest.mark.synth


def test_gate_passes_for_every_stage(gate_run: GateRun) -> None:
    assert gate_run.returncode == 0, gate_run.output[-6000:]
    for stage in STAGES:
        assert gate_run.report(stage)["passed"] is True


@pytest.mark.parametrize("stage", STAGES)
def test_no_unacknowledged_findings(gate_run: GateRun, stage: str) -> None:
    report = gate_run.report(stage)
    failed = [f"{f['rule_id']} {f['resource_path']}" for f in report["failed"]]
    assert failed == []
    assert report["errors"] == []


@pytest.mark.parametrize("stage", STAGES)
def test_no_cfn_lint_errors(gate_run: GateRun, stage: str) -> None:
    assert gate_run.report(stage)["cfn_lint"]["errors"] == []


@pytest.mark.parametrize("stage", STAGES)
def test_every_acknowledgement_has_a_reason_and_every_pack_ran(
    gate_run: GateRun, stage: str
) -> None:
    report = gate_run.report(stage)
    assert all(f["reason"] for f in report["acknowledged"])
    assert {"AwsSolutions", "NIST.800.53.R5", "PCI.DSS.321", "HIPAA.Security", "Serverless",
            "BankGrade"} <= set(report["packs"])


@pytest.mark.parametrize("stage", STAGES)
def test_registry_has_no_stale_entries(gate_run: GateRun, stage: str) -> None:
    assert gate_run.report(stage)["stale_acknowledgements"] == []
