"""The example consumer (examples/ledger_app) passes the library's gate with no acknowledgements.

It is run the way another team's CI runs it: ``python -m constructs_lib.gate`` in the
app's own directory, with the app's own ``cdk.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LEDGER = ROOT / "examples" / "ledger_app"

pytestmark = pytest.mark.synth


def test_the_ledger_app_passes_every_pack_with_defaults_alone(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("CDK_CONTEXT_JSON", "CDK_OUTDIR")}
    proc = subprocess.run(
        [sys.executable, "-m", "constructs_lib.gate", "ledger.app:build_app",
         "--outdir", str(tmp_path)],
        cwd=LEDGER, env=env, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    report = json.loads((tmp_path / "compliance-app.json").read_text())
    assert report["passed"] is True
    assert report["failed"] == [] and report["errors"] == []
    assert {"AwsSolutions", "NIST.800.53.R5", "PCI.DSS.321", "HIPAA.Security", "Serverless",
            "BankGrade"} <= set(report["packs"])
    # Every accepted finding is a construct's own design decision: none is the app's.
    sources = {f["acknowledged_by"] for f in report["acknowledged"]}
    assert sources == {"design"}
    assert all(f["resource_path"].startswith("LedgerService/") for f in report["acknowledged"])
