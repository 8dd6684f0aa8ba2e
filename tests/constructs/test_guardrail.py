"""BedrockGuardrail: PII and UK bank-number filters, denied topics, a CMK, a pinned version."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template

from constructs_lib.guardrail import BedrockGuardrail, DeniedTopic
from tests.constructs.conftest import Findings

ENV = cdk.Environment(account="111111111111", region="eu-west-2")


def _stack(app: cdk.App) -> tuple[cdk.Stack, BedrockGuardrail, iam.Role]:
    stack = cdk.Stack(app, "Chat", env=ENV)
    guardrail = BedrockGuardrail(stack, "Guardrail", name="ffp-test-assistant")
    role = iam.Role(stack, "Api", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    guardrail.grant_apply(role)
    return stack, guardrail, role


def test_filters_pii_uk_bank_numbers_and_denied_topics_under_a_customer_key(
    app: cdk.App,
) -> None:
    stack, _, _ = _stack(app)
    template = Template.from_stack(stack)
    (props,) = [r["Properties"] for r in
                template.find_resources("AWS::Bedrock::Guardrail").values()]
    pii = {e["Type"]: e["Action"] for e in
           props["SensitiveInformationPolicyConfig"]["PiiEntitiesConfig"]}
    for entity in ("NAME", "ADDRESS", "EMAIL", "PHONE", "CREDIT_DEBIT_CARD_NUMBER",
                   "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "US_BANK_ACCOUNT_NUMBER"):
        assert pii[entity] == "ANONYMIZE", entity
    assert pii["PASSWORD"] == "BLOCK"
    regexes = {r["Name"]: r["Pattern"] for r in
               props["SensitiveInformationPolicyConfig"]["RegexesConfig"]}
    assert set(regexes) == {"uk-sort-code", "uk-account-number"}
    topics = props["TopicPolicyConfig"]["TopicsConfig"]
    assert {t["Name"] for t in topics} >= {"Investment advice"}
    assert all(t["Type"] == "DENY" for t in topics)
    assert "KmsKeyArn" in props
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.resource_count_is("AWS::Bedrock::GuardrailVersion", 1)


def test_grant_apply_is_the_guardrail_and_its_key_only(app: cdk.App) -> None:
    stack, _, _ = _stack(app)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": [
        Match.object_like({"Action": "bedrock:ApplyGuardrail",
                           "Resource": {"Fn::GetAtt": [Match.any_value(), "GuardrailArn"]}}),
        Match.object_like({"Action": "kms:Decrypt",
                           "Resource": {"Fn::GetAtt": [Match.any_value(), "Arn"]}}),
    ]}})


def test_needs_a_denied_topic(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Empty", env=ENV)
    with pytest.raises(ValueError, match="denied topic"):
        BedrockGuardrail(stack, "Guardrail", name="x", denied_topics=())
    assert DeniedTopic("a", "b").examples == ()


def test_its_own_resources_pass_the_packs(
    app: cdk.App, nag_findings: Callable[[cdk.App], Findings]
) -> None:
    _stack(app)
    findings = nag_findings(app)
    assert [f for f in findings if "/Guardrail/" in f[1]] == []
