"""``python -m cdk_app``: synthesise for the cdk CLI, or run the compliance gate.

Usage::

    python -m cdk_app                      # synthesise (what cdk.json's "app" runs)
    python -m cdk_app --gate               # synthesise every stage into cdk.out + gate
    python -m cdk_app --gate --stage prod  # one stage only
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cdk_app.gate.context import prepare_context_env
from cdk_app.node_runtime import use_venv_node


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cdk_app", description=__doc__.split("\n")[0])
    parser.add_argument("--gate", action="store_true",
                        help="run the compliance gate after synthesis (non-zero exit on failure)")
    parser.add_argument("--stage", action="append", dest="stages", metavar="NAME",
                        help="only this stage (repeatable); default: every config file")
    parser.add_argument("--outdir", default=None,
                        help="cloud assembly directory (default: cdk.out or the CLI's choice)")
    parser.add_argument("--no-lint", action="store_true", help="skip cfn-lint (gate only)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parse(argv)
    # Both must happen before aws_cdk is imported (jsii starts Node on import).
    use_venv_node()
    prepare_context_env(gate=args.gate)

    import aws_cdk as cdk  # noqa: PLC0415 - see above

    from constructs_lib.compliance.acknowledgements import (  # noqa: PLC0415
        apply_acknowledgements,
    )
    from constructs_lib.compliance.namespacing import (  # noqa: PLC0415
        qualified_acknowledgements,
    )
    from constructs_lib.compliance.packs import PACK_NAMES, new_packs  # noqa: PLC0415

    outdir = args.outdir or ("cdk.out" if args.gate else None)

    def build() -> cdk.App:
        from cdk_app.app import build_app  # noqa: PLC0415 - import errors land in the report

        return build_app(outdir=outdir, stage_names=args.stages)

    if args.gate:
        from cdk_app.gate.run import run_gate  # noqa: PLC0415

        result = run_gate(build, lint=not args.no_lint)
        print(result.text())
        return 0 if result.passed else 1

    # Plain synthesis (cdk CLI): the same packs and acknowledgements, so `cdk deploy`
    # is gated by the CDK itself.
    packs = new_packs()
    with qualified_acknowledgements(PACK_NAMES):
        app = build()
        apply_acknowledgements(app)
        for child in app.node.children:
            if cdk.Stage.is_stage(child):
                cdk.Validations.of(child).add_plugins(*packs)
        app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
