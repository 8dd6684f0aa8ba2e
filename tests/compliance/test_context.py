"""The CLI-equivalent context handed to a directly-run app."""

from __future__ import annotations

import json
from pathlib import Path

from constructs_lib.gate.context import CONTEXT_ENV, OUTDIR_ENV, prepare_context_env

ROOT = Path(__file__).resolve().parents[2]


def test_direct_run_gets_cdk_json_flags_and_path_metadata() -> None:
    env: dict[str, str] = {}
    prepare_context_env(gate=False, environ=env, root=ROOT)
    context = json.loads(env[CONTEXT_ENV])
    assert context["aws:cdk:enable-path-metadata"] is True
    assert context["@aws-cdk/core:validateAgainstDefaultRules"] is True
    assert "@aws-cdk/core:failSynthOnValidationErrors" not in context


def test_gate_keeps_the_cli_context_and_never_throws_on_violations() -> None:
    env = {CONTEXT_ENV: json.dumps({"from-cli": 1})}
    prepare_context_env(gate=True, environ=env)
    assert json.loads(env[CONTEXT_ENV]) == {
        "from-cli": 1, "@aws-cdk/core:failSynthOnValidationErrors": False,
        "aws:cdk:enable-path-metadata": True}


def test_outdir_is_handed_to_the_app_through_cdk_outdir() -> None:
    env: dict[str, str] = {}
    prepare_context_env(gate=True, environ=env, root=ROOT, outdir="/tmp/x")
    assert env[OUTDIR_ENV] == "/tmp/x"
