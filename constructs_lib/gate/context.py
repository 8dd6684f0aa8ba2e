"""Give a directly-run app the same context the cdk CLI would.

The cdk CLI hands ``cdk.json`` context (feature flags) and path metadata to the
app through ``CDK_CONTEXT_JSON``. An app synthesised by the gate (or run by hand)
must see the same flags, so :func:`prepare_context_env` sets that variable when the CLI did
not. It must run before ``aws_cdk`` is imported: jsii starts Node on import and
Node reads the variable from its own environment.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CONTEXT_ENV = "CDK_CONTEXT_JSON"
# The CLI passes large contexts through a file named by this variable instead.
CONTEXT_OVERFLOW_ENV = "CONTEXT_OVERFLOW_LOCATION_ENV"
OUTDIR_ENV = "CDK_OUTDIR"

# Let the gate report violations itself instead of the CDK throwing on them.
GATE_CONTEXT: Mapping[str, Any] = {"@aws-cdk/core:failSynthOnValidationErrors": False,
                                 "aws:cdk:enable-path-metadata": True}


def cdk_json_context(root: Path | None = None) -> dict[str, Any]:
    """The ``context`` block of ``<root>/cdk.json`` (default: the working directory's)
    plus the CLI's default path metadata."""
    context: dict[str, Any] = {"aws:cdk:enable-path-metadata": True}
    cdk_json = (root or Path.cwd()) / "cdk.json"
    if cdk_json.exists():
        context.update(json.loads(cdk_json.read_text()).get("context", {}))
    return context


def prepare_context_env(
    *, gate: bool, environ: dict[str, str] | None = None, root: Path | None = None,
    outdir: str | None = None,
) -> None:
    """Set ``CDK_CONTEXT_JSON`` like the CLI does (gate: never throw on violations).

    ``outdir`` sets ``CDK_OUTDIR``, which ``cdk.App()`` uses as its assembly directory.
    """
    env = os.environ if environ is None else environ
    if outdir:
        env[OUTDIR_ENV] = str(outdir)
    if env.get(CONTEXT_OVERFLOW_ENV) and not gate:
        return  # the CLI handed its context over in a file; leave it alone
    context: dict[str, Any] = (json.loads(env[CONTEXT_ENV]) if env.get(CONTEXT_ENV)
                               else cdk_json_context(root))
    if gate:
        context.update(GATE_CONTEXT)
    env[CONTEXT_ENV] = json.dumps(context)
