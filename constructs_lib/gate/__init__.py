"""The compliance gate: what a team puts in its CI.

Public API::

    from constructs_lib.gate import AppAcknowledgement, attach_packs, run_gate

    result = run_gate(build_app, acknowledgements=MY_ACKNOWLEDGEMENTS)
    print(result.text()); raise SystemExit(0 if result.passed else 1)

or, from a shell (synthesises, runs cfn-lint, writes ``compliance-<stage>.json``)::

    python -m constructs_lib.gate my_app.app:build_app [--acknowledgements my_app.acks:ACKS]

:func:`attach_packs` alone puts every pack on an app for a plain ``cdk synth``.

Names are resolved lazily, so ``python -m constructs_lib.gate`` can set up the CDK
context before ``aws_cdk`` (and with it Node) starts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from constructs_lib.gate.app_acknowledgements import (
        AppAcknowledgement,
        apply_app_acknowledgements,
    )
    from constructs_lib.gate.attach import attach_packs
    from constructs_lib.gate.findings import Finding
    from constructs_lib.gate.report import StageReport
    from constructs_lib.gate.run import GateResult, run_gate

_EXPORTS = {
    "AppAcknowledgement": "constructs_lib.gate.app_acknowledgements",
    "apply_app_acknowledgements": "constructs_lib.gate.app_acknowledgements",
    "attach_packs": "constructs_lib.gate.attach",
    "Finding": "constructs_lib.gate.findings",
    "GateResult": "constructs_lib.gate.run",
    "StageReport": "constructs_lib.gate.report",
    "run_gate": "constructs_lib.gate.run",
}

__all__ = [
    "AppAcknowledgement",
    "Finding",
    "GateResult",
    "StageReport",
    "apply_app_acknowledgements",
    "attach_packs",
    "run_gate",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'constructs_lib.gate' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
