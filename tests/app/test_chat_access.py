"""The API role's Bedrock access: exactly the configured profile, its models, the guardrail."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cdk_app.config import load_stage_config
from tests.app.conftest import STAGES, GateRun


def _statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [st for resource in template["Resources"].values()
            if resource["Type"] == "AWS::IAM::Policy"
            for st in resource["Properties"]["PolicyDocument"]["Statement"]]


@pytest.mark.parametrize("stage", STAGES)
def test_invoke_model_is_the_inference_profile_and_its_models_through_it_only(
    gate_run: GateRun, stage: str
) -> None:
    config = load_stage_config(stage)
    chat = config.chat
    template = gate_run.template(stage, "Api")
    statements = _statements(template)
    invoke = [st for st in statements if "bedrock:InvokeModel" in json.dumps(st["Action"])]
    assert len(invoke) == 2
    profile, models = sorted(invoke, key=lambda st: "Condition" in st)
    assert profile["Action"] == "bedrock:InvokeModel"
    profile_arn = (f"arn:aws:bedrock:{config.region}:{config.account}:inference-profile/"
                   f"{chat.inference_profile}")
    assert profile["Resource"] == profile_arn
    assert sorted(models["Resource"]) == sorted(
        f"arn:aws:bedrock:{region}::foundation-model/{chat.foundation_model}"
        for region in chat.destination_regions)
    assert models["Condition"] == {
        "StringEquals": {"bedrock:InferenceProfileArn": profile_arn}}
    assert not [st for st in statements if "bedrock:*" in json.dumps(st["Action"])]
    apply = [st for st in statements if st["Action"] == "bedrock:ApplyGuardrail"]
    assert len(apply) == 1 and "GuardrailArn" in json.dumps(apply[0]["Resource"])
    [guardrail] = [r for r in template["Resources"].values()
                   if r["Type"] == "AWS::Bedrock::Guardrail"]
    assert "KmsKeyArn" in guardrail["Properties"]
    env = [r["Properties"]["Environment"]["Variables"] for r in template["Resources"].values()
           if r["Type"] == "AWS::Lambda::Function"
           and r["Properties"].get("Handler") == "service.lambda_handler.handler"]
    assert env and {"CHAT_GUARDRAIL_ID", "CHAT_GUARDRAIL_VERSION",
                    "AI_SETTINGS_PARAMETER_NAME"} <= set(env[0])
