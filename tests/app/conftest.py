"""The whole app under the gate, synthesised once per test session.

Every xdist worker asks for the same cache directory, keyed by a hash of the
sources that shape the templates; the first one runs ``python -m cdk_app --gate``
(a subprocess, exactly what ``make synth`` runs) under a file lock, the others
wait for it and read its reports.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "test-cdk-out"
SOURCES = ("cdk_app", "constructs_lib", "service", "examples")
SOURCE_FILES = ("cdk.json", "pyproject.toml")
STAGES = ("staging", "prod")


@dataclass(frozen=True)
class GateRun:
    """The gate's exit code, printed summary and per-stage JSON reports."""

    returncode: int
    output: str
    outdir: Path

    def template(self, stage: str, stack: str) -> dict[str, Any]:
        """The synthesised template of ``<stage>/<stack>``."""
        hash_suffix = "[0-9A-F]" * 8  # CDK's 8-hex suffix; "Edge" must not match "EdgeLogs"
        [path] = (self.outdir / f"assembly-{stage}").glob(
            f"{stage}{stack}{hash_suffix}.template.json")
        return json.loads(path.read_text())

    def report(self, stage: str) -> dict[str, Any]:
        path = self.outdir / f"compliance-{stage}.json"
        assert path.exists(), f"no report for {stage}:\n{self.output[-4000:]}"
        return json.loads(path.read_text())


def _source_hash() -> str:
    digest = hashlib.sha256()
    files = [ROOT / f for f in SOURCE_FILES]
    for folder in SOURCES:
        files += sorted(p for p in (ROOT / folder).rglob("*")
                        if p.is_file() and p.suffix in (".py", ".json", ".sql", ".lock", ".txt")
                        and "__pycache__" not in p.parts)
    for path in files:
        if path.exists():
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def gate_run() -> GateRun:
    outdir = CACHE / _source_hash()
    done = outdir / "gate-result.json"
    CACHE.mkdir(parents=True, exist_ok=True)
    with FileLock(str(outdir) + ".lock"):
        if done.exists():
            result = json.loads(done.read_text())
            return GateRun(result["returncode"], result["output"], outdir)
        env = dict(os.environ)
        env.pop("CDK_CONTEXT_JSON", None)
        proc = subprocess.run(
            [sys.executable, "-m", "cdk_app", "--gate", "--outdir", str(outdir)],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )
        run = GateRun(proc.returncode, proc.stdout + proc.stderr, outdir)
        if proc.returncode == 0:  # only a pass is reused; a failure is re-run next session
            done.write_text(json.dumps({"returncode": run.returncode, "output": run.output}))
        return run
