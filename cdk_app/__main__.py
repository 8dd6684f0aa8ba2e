"""``python -m cdk_app``: synthesise for the cdk CLI, or run the library's compliance gate.

Usage::

    python -m cdk_app                      # synthesise (what cdk.json's "app" runs)
    python -m cdk_app --gate               # = python -m constructs_lib.gate cdk_app.app:build_app
                                           #     --acknowledgements cdk_app.acknowledgements:...
    python -m cdk_app --gate --outdir DIR  # assembly and reports in DIR
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from constructs_lib.gate.context import prepare_context_env
from constructs_lib.gate.node_runtime import use_venv_node

APP = "cdk_app.app:build_app"
ACKNOWLEDGEMENTS = "cdk_app.acknowledgements:ACKNOWLEDGEMENTS"


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cdk_app",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--gate", action="store_true",
                        help="run the compliance gate after synthesis (non-zero exit on failure)")
    parser.add_argument("--outdir", default=None, help="cloud assembly directory")
    parser.add_argument("--no-lint", action="store_true", help="skip cfn-lint (gate only)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parse(argv)
    if args.gate:
        from constructs_lib.gate.__main__ import main as gate  # noqa: PLC0415

        extra = (["--outdir", args.outdir] if args.outdir else []) + (
            ["--no-lint"] if args.no_lint else [])
        return gate([APP, "--acknowledgements", ACKNOWLEDGEMENTS, *extra])

    # Plain synthesis (cdk CLI): the same packs and acknowledgements, so `cdk deploy`
    # is gated by the CDK itself. Both calls below must precede importing aws_cdk.
    use_venv_node()
    prepare_context_env(gate=False, outdir=args.outdir)

    from cdk_app.acknowledgements import ACKNOWLEDGEMENTS as APP_ACKS  # noqa: PLC0415
    from cdk_app.app import build_app  # noqa: PLC0415
    from constructs_lib.gate import apply_app_acknowledgements, attach_packs  # noqa: PLC0415

    app = build_app()
    apply_app_acknowledgements(app, APP_ACKS)
    attach_packs(app)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
