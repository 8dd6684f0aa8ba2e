"""``python -m cdk_app.cost``: print the idle and per-million-request cost of each stage.

Usage::

    python -m cdk_app.cost                 # read cdk.out, synthesising it if absent
    python -m cdk_app.cost --synth         # synthesise first (what `make cost` does)
    python -m cdk_app.cost --stage prod --json

Synthesis goes through ``python -m cdk_app --outdir <cdk-out>``, the same app and
packs as ``cdk synth``; this module itself never imports the CDK.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from cdk_app.cost.assembly import AssemblyError, read_assembly
from cdk_app.cost.prices import (
    DEFAULT_PRICE_TABLE,
    DEFAULT_USAGE_MODEL,
    load_price_table,
    load_usage_model,
)
from cdk_app.cost.report import build_report, render


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cdk_app.cost",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--cdk-out", type=Path, default=Path("cdk.out"),
                        help="cloud assembly to read (default: cdk.out)")
    parser.add_argument("--synth", action="store_true",
                        help="synthesise into --cdk-out first, even if it exists")
    parser.add_argument("--stage", action="append", dest="stages", metavar="NAME",
                        help="only this stage (repeatable)")
    parser.add_argument("--prices", type=Path, default=DEFAULT_PRICE_TABLE)
    parser.add_argument("--usage", type=Path, default=DEFAULT_USAGE_MODEL)
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    return parser.parse_args(argv)


def synthesise(cdk_out: Path) -> None:
    """Synthesise every stage into ``cdk_out`` through ``python -m cdk_app``."""
    subprocess.run(  # noqa: S603 - our own interpreter and module, no shell
        [sys.executable, "-m", "cdk_app", "--outdir", str(cdk_out)],
        check=True, stdout=subprocess.DEVNULL,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parse(argv)
    if args.synth or not (args.cdk_out / "manifest.json").is_file():
        synthesise(args.cdk_out)
    prices, usage = load_price_table(args.prices), load_usage_model(args.usage)
    try:
        stages = read_assembly(args.cdk_out)
    except AssemblyError as error:
        print(f"cost: {error}", file=sys.stderr)
        return 2
    if args.stages:
        unknown = sorted(set(args.stages) - {stage.name for stage in stages})
        if unknown:
            print(f"cost: no stage {', '.join(unknown)} in {args.cdk_out}", file=sys.stderr)
            return 2
        stages = [stage for stage in stages if stage.name in args.stages]
    reports = [build_report(stage, prices, usage) for stage in stages]
    if args.json:
        print(json.dumps([report.as_dict() for report in reports], indent=2))
    else:
        print(render(reports, prices, usage))
    return 0


if __name__ == "__main__":
    sys.exit(main())
