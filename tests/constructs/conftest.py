"""Fixtures for construct tests: an app writing to a private dir, and a cdk-nag runner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import cdk_nag
import pytest

# (rule id, construct path) pairs reported by the packs.
Findings = set[tuple[str, str]]


@pytest.fixture
def app(tmp_path: Path) -> cdk.App:
    """A CDK app whose cloud assembly goes to this test's own temporary directory."""
    return cdk.App(outdir=str(tmp_path / "cdk.out"))


@pytest.fixture
def nag_findings() -> Callable[[cdk.App], Findings]:
    """Run the AwsSolutions, NIST 800-53 R5, HIPAA and PCI packs on ``app``; return findings."""
    def run(app: cdk.App) -> Findings:
        cdk.Validations.of(app).add_plugins(
            cdk_nag.AwsSolutionsChecks(app),
            cdk_nag.NIST80053R5Checks(app),
            cdk_nag.HIPAASecurityChecks(app),
            cdk_nag.PCIDSS321Checks(app),
        )
        try:
            assembly = app.synth()
            outdir = Path(assembly.directory)
        except RuntimeError as error:
            if "ValidationFailed" not in str(error):
                raise
            outdir = Path(app.outdir)
        report = outdir / "validation-report.json"
        if not report.exists():
            return set()
        data = json.loads(report.read_text())
        return {
            (violation["ruleName"], construct["constructPath"])
            for plugin in data["pluginReports"]
            for violation in plugin["violations"]
            for construct in violation["violatingConstructs"]
        }

    return run
