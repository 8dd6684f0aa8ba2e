"""The deployed functions can start: their environment satisfies ``Settings.from_env``.

The synthesised environment of the API function and of the audit anchor function is
read from the template; every CloudFormation token stands in as an opaque ARN-shaped
string (what Lambda would see after deployment) and literal values are checked to be
names, not secrets.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from constructs_lib.function import find_secret_like_environment
from service import deployment_contract as contract
from service.settings import Settings

from .conftest import STAGES, GateRun

pytestmark = pytest.mark.synth

_FUNCTIONS = {"api": "Flask", "anchor": "audit chain's last link",
              "worker": "Bank sync workflow worker"}


def _function(template: dict[str, Any], which: str) -> dict[str, Any]:
    [function] = [r for r in template["Resources"].values()
                  if r["Type"] == "AWS::Lambda::Function"
                  and _FUNCTIONS[which] in r["Properties"].get("Description", "")]
    return function


def _as_deployed(variables: dict[str, Any]) -> dict[str, str]:
    """Literal values as they are; each token as a stand-in ARN naming what it refers to."""
    return {name: value if isinstance(value, str)
            else f"arn:aws:deployed:eu-west-2:111111111111:{json.dumps(value, sort_keys=True)}"
            for name, value in variables.items()}


def _policies_of(template: dict[str, Any], function: dict[str, Any]) -> str:
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return json.dumps([r for r in template["Resources"].values()
                       if r["Type"] == "AWS::IAM::Policy"
                       and {"Ref": role} in r["Properties"].get("Roles", [])])


@pytest.mark.parametrize("which", sorted(_FUNCTIONS))
@pytest.mark.parametrize("stage", STAGES)
def test_the_function_environment_satisfies_lambda_settings(
    gate_run: GateRun, stage: str, which: str
) -> None:
    variables = _function(gate_run.template(stage, "Api"), which)["Properties"][
        "Environment"]["Variables"]
    settings = Settings.from_env(_as_deployed(variables))  # raises when a name is missing
    assert settings.is_lambda and not settings.dev_issuer
    literals = {k: v for k, v in variables.items() if isinstance(v, str)}
    assert find_secret_like_environment(literals) == {}
    assert "resolve:secretsmanager" not in json.dumps(variables)
    assert "AuditKey" in json.dumps(variables[contract.AUDIT_KEY_SECRET_ARN])
    assert "AuditAnchorsBucket" in json.dumps(variables[contract.AUDIT_ANCHOR_BUCKET])
    assert settings.audit_anchor_interval_minutes >= 1


@pytest.mark.parametrize("stage", STAGES)
def test_only_the_api_reads_the_audit_key_and_only_the_anchor_writes_anchors(
    gate_run: GateRun, stage: str
) -> None:
    template = gate_run.template(stage, "Api")
    api = _policies_of(template, _function(template, "api"))
    anchor = _policies_of(template, _function(template, "anchor"))
    worker = _policies_of(template, _function(template, "worker"))
    assert "AuditKey" in api and "AuditKey" not in anchor and "AuditKey" not in worker
    assert "AuditAnchorsBucket" not in worker
    assert "AuditAnchorsBucket" not in api  # the API never touches the anchors
    anchor_statements = [s for p in json.loads(anchor)
                         for s in p["Properties"]["PolicyDocument"]["Statement"]]
    s3_actions = {a for s in anchor_statements
                  for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
                  if a.startswith("s3:")}
    assert s3_actions == {"s3:PutObject"}


@pytest.mark.parametrize("stage", STAGES)
def test_the_anchor_runs_on_the_configured_schedule(gate_run: GateRun, stage: str) -> None:
    from cdk_app.config import load_stage_config  # noqa: PLC0415

    minutes = load_stage_config(stage).audit.anchor_interval_minutes
    template = gate_run.template(stage, "Api")
    [schedule] = [r for r in template["Resources"].values()
                  if r["Type"] == "AWS::Scheduler::Schedule"
                  and "audit" in r["Properties"].get("Description", "")]
    assert schedule["Properties"]["ScheduleExpression"] == f"rate({minutes} minutes)"
    assert "Alias" in json.dumps(schedule["Properties"]["Target"]["Arn"])  # via the alias
