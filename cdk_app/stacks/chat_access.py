"""The API function's access to the money assistant's model: guardrail and least privilege.

``bedrock:InvokeModel`` on exactly the configured inference profile, and on its
foundation model in the profile's destination Regions only when called through that
profile (``bedrock:InferenceProfileArn``); ``bedrock:ApplyGuardrail`` on the guardrail
and ``kms:Decrypt`` on its key; the OpenAI-compatible key's secret (read only when the
AI settings choose that provider).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_app.config import StageConfig
from constructs_lib import AppSecret, AppSecrets, BedrockGuardrail
from service import deployment_contract as contract


class ChatAccess(Construct):
    """The guardrail, the function environment it needs and the grants."""

    def __init__(self, scope: Construct, id_: str, *, config: StageConfig,
                 secrets: AppSecrets) -> None:
        super().__init__(scope, id_)
        self._config = config
        self._secrets = secrets
        self.guardrail = BedrockGuardrail(self, "Guardrail",
                                          name=f"{config.resource_prefix}-assistant")
        self.environment = {
            contract.CHAT_GUARDRAIL_ID: self.guardrail.guardrail_id,
            contract.CHAT_GUARDRAIL_VERSION: self.guardrail.version,
            contract.CHAT_API_KEY_SECRET_ARN: secrets.chat_api_key_secret.secret_arn,
        }

    def grant(self, role: iam.IRole) -> None:
        """Give ``role`` what one chat turn needs, and nothing else of Bedrock."""
        stack = cdk.Stack.of(self)
        chat = self._config.chat
        profile_arn = (f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:"
                       f"inference-profile/{chat.inference_profile}")
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["bedrock:InvokeModel"], resources=[profile_arn]))
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["bedrock:InvokeModel"],
            resources=[f"arn:{stack.partition}:bedrock:{region}::foundation-model/"
                       f"{chat.foundation_model}" for region in chat.destination_regions],
            conditions={"StringEquals": {"bedrock:InferenceProfileArn": profile_arn}}))
        self.guardrail.grant_apply(role)
        self._secrets.grant_read(AppSecret.CHAT_API_KEY, role)
