"""The compliance gate (see :func:`cdk_app.gate.run.run_gate`).

Import :mod:`cdk_app.gate.run` only after :func:`cdk_app.node_runtime.use_venv_node`
(it imports ``aws_cdk``); :mod:`cdk_app.gate.context` is safe to import first.
"""
