"""The deployed app follows the service's contract: its env names and its public routes."""

from __future__ import annotations

import json

import pytest

from service import deployment_contract as contract

from .conftest import STAGES, GateRun

pytestmark = pytest.mark.synth

_NAMES = {value for name, value in vars(contract).items()
          if name.isupper() and isinstance(value, str)}


def _function_environment(gate_run: GateRun, stage: str) -> set[str]:
    template = gate_run.template(stage, "Api")
    [api] = [r for r in template["Resources"].values()
             if r["Type"] == "AWS::Lambda::Function"
             and "Flask" in r["Properties"].get("Description", "")]
    return set(api["Properties"]["Environment"]["Variables"])


@pytest.mark.parametrize("stage", STAGES)
def test_the_api_function_gets_only_names_the_contract_declares(
    gate_run: GateRun, stage: str
) -> None:
    assert _function_environment(gate_run, stage) <= _NAMES
    assert contract.DB_SECRET_ARN in _function_environment(gate_run, stage)


@pytest.mark.parametrize("stage", STAGES)
def test_public_routes_are_exactly_the_contracts(gate_run: GateRun, stage: str) -> None:
    template = gate_run.template(stage, "Api")
    public = {r["Properties"]["RouteKey"] for r in template["Resources"].values()
              if r["Type"] == "AWS::ApiGatewayV2::Route"
              and r["Properties"].get("AuthorizationType") == "NONE"}
    assert public == {route.key for route in contract.PUBLIC_ROUTES}
    assert not any("{proxy+}" in key for key in public)  # no catch-all is public


def test_every_public_route_has_a_reason() -> None:
    for route in contract.PUBLIC_ROUTES:
        assert len(route.reason) >= 20, route.key


@pytest.mark.parametrize("stage", STAGES)
def test_only_the_tagged_api_and_worker_roles_may_use_the_tokens_key_directly(
    gate_run: GateRun, stage: str
) -> None:
    data = gate_run.template(stage, "Data")
    [tokens] = [r for r in data["Resources"].values() if r["Type"] == "AWS::KMS::Key"
                and "tokens" in r["Properties"]["Description"]]
    statements = {s["Sid"]: s for s in tokens["Properties"]["KeyPolicy"]["Statement"]}
    assert "DirectUseByAccountPrincipalsWithIamPermission" not in statements
    direct = statements["DirectUseByTaggedPrincipalsWithContext"]["Condition"]
    [(tag, value)] = [(k.split("/", 1)[1], v) for k, v in direct["StringEquals"].items()
                      if k.startswith("aws:PrincipalTag/")]
    assert direct["ForAllValues:StringEquals"]["kms:EncryptionContextKeys"] == list(
        contract.TOKEN_ENCRYPTION_CONTEXT_KEYS)
    api = gate_run.template(stage, "Api")
    tagged = [r for r in api["Resources"].values() if r["Type"] == "AWS::IAM::Role"
              and {"Key": tag, "Value": value} in r["Properties"].get("Tags", [])]
    functions = {r["Properties"]["Role"]["Fn::GetAtt"][0]: r["Properties"]["Description"]
                 for r in api["Resources"].values() if r["Type"] == "AWS::Lambda::Function"}
    tagged_ids = {k for k, r in api["Resources"].items() if r["Type"] == "AWS::IAM::Role"
                  and {"Key": tag, "Value": value} in r["Properties"].get("Tags", [])}
    assert len(tagged) == 2
    assert sorted(functions[k].split(" (")[0] for k in tagged_ids) == [
        "Bank sync workflow worker", "Family finance platform API"]


@pytest.mark.parametrize("stage", STAGES)
def test_the_api_runs_as_the_app_role_not_the_owner(gate_run: GateRun, stage: str) -> None:
    api = gate_run.template(stage, "Api")
    [function] = [r for r in api["Resources"].values()
                  if r["Type"] == "AWS::Lambda::Function"
                  and "Flask" in r["Properties"].get("Description", "")]
    env = function["Properties"]["Environment"]["Variables"]
    assert contract.DB_OWNER_SECRET_ARN not in env
    assert "AppRole" in json.dumps(env[contract.DB_SECRET_ARN])  # the app role's secret
    # The API's own role; the migration hook's role is the one that may read the owner secret.
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    mine = [r for r in api["Resources"].values() if r["Type"] == "AWS::IAM::Policy"
            and {"Ref": role} in r["Properties"].get("Roles", [])]
    others = [r for r in api["Resources"].values() if r["Type"] == "AWS::IAM::Policy"
              and {"Ref": role} not in r["Properties"].get("Roles", [])]
    assert mine and "MasterUserSecret" not in json.dumps(mine)
    assert "MasterUserSecret" in json.dumps(others)  # the hook: so this test can tell them apart
