"""Wall time of `make synth`'s work on a warm venv: synthesise every stage + the compliance gate.

Each run is a fresh process (`python -m cdk_app --gate --outdir <tmp>`), as `make synth` runs it.
Baseline, measured in the same run: a fresh process that only imports aws_cdk (jsii/Node start),
the floor under any CDK synthesis. Prints the median of N runs and the ratio.

Usage: python bench/bench_synth.py [runs=3]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _timed(cmd: list[str]) -> float:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def main(runs: int) -> None:
    baseline = [
        _timed([sys.executable, "-c",
                "from constructs_lib.gate.node_runtime import use_venv_node; use_venv_node(); "
                "import aws_cdk; aws_cdk.App()"])
        for _ in range(runs)
    ]
    gate = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as outdir:
            gate.append(_timed([sys.executable, "-m", "cdk_app", "--gate", "--outdir", outdir]))
    b, g = statistics.median(baseline), statistics.median(gate)
    print(f"runs: {runs}")
    print(f"import aws_cdk + App() (baseline): median {b:6.2f} s  runs {_fmt(baseline)}")
    print(f"synth all stages + gate          : median {g:6.2f} s  runs {_fmt(gate)}")
    print(f"ratio gate / baseline            : {g / b:5.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
