"""``python -m constructs_lib.gate APP [--acknowledgements ACKS]``: the gate as a command.

``APP`` is ``module:function`` returning an unsynthesised ``cdk.App``; ``ACKS`` is
``module:NAME`` of the app's own tuple of
:class:`~constructs_lib.gate.AppAcknowledgement`. Context comes from ``./cdk.json``
like the cdk CLI's. Exits 0 when every stage passes, 1 when one fails.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from constructs_lib.gate.context import prepare_context_env
from constructs_lib.gate.node_runtime import use_venv_node


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m constructs_lib.gate",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("app", help="module:function returning the unsynthesised cdk.App")
    parser.add_argument("--acknowledgements", metavar="MODULE:NAME",
                        help="the app's own acknowledgements (a sequence of AppAcknowledgement)")
    parser.add_argument("--outdir", help="cloud assembly directory (default: the app's own)")
    parser.add_argument("--no-lint", action="store_true", help="skip cfn-lint")
    return parser.parse_args(argv)


def load(spec: str) -> Any:
    """The object named by ``"package.module:attribute"``."""
    module, sep, attribute = spec.partition(":")
    if not sep or not module or not attribute:
        raise SystemExit(f"expected module:attribute, got {spec!r}")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # the app is usually beside its cdk.json
    return getattr(importlib.import_module(module), attribute)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the gate; returns the process exit code."""
    args = _parse(argv)
    # Both before aws_cdk is imported: jsii starts Node on import.
    use_venv_node()
    prepare_context_env(gate=True, outdir=args.outdir)

    from constructs_lib.gate.run import run_gate  # noqa: PLC0415 - after the context

    build: Callable[[], Any] = load(args.app)
    acknowledgements = load(args.acknowledgements) if args.acknowledgements else ()
    result = run_gate(build, acknowledgements=acknowledgements, lint=not args.no_lint)
    print(result.text())
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
