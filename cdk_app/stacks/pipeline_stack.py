"""The delivery pipeline: repository → checks + gate + synth → self-update → stages in order.

Deploys the stages named in ``config/pipeline.json`` in order, each through its
account's CDK bootstrap roles (``make bootstrap`` trusts this stack's account). The
first stage is smoke-tested right after it deploys (``devtools/smoke.py``: health,
OpenAPI, one authenticated call as the smoke-test user whose credentials live in this
account's Secrets Manager); later stages wait for a manual approval first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cdk_app.config import PipelineConfig
from cdk_app.stage import PlatformStage
from constructs_lib import DataClass, EncryptionKeys
from constructs_lib.delivery_pipeline import DeliveryPipeline, SmokeTest

# What the synth step runs: exactly what CI runs (.ci/run), then the gated synthesis.
INSTALL_COMMANDS = ("make install",)
SYNTH_COMMANDS = ("make check", "make test PYTEST_WORKERS=2", "make synth")
SMOKE_COMMANDS = ("make install", ".venv/bin/python -m devtools.smoke")
SMOKE_USER_TEMPLATE = '{"username": "smoke-test@platform.invalid"}'


class PipelineStack(cdk.Stack):
    """The self-updating pipeline that deploys every stage of ``stages`` in config order."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: PipelineConfig,
        stages: Mapping[str, PlatformStage],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        self.keys = EncryptionKeys(
            self, "Keys", alias_prefix=config.pipeline_name,
            classes=[DataClass.LOGS, DataClass.SECRETS],
        )
        self.smoke_user = secretsmanager.Secret(
            self, "SmokeUser",
            secret_name=config.smoke_user_secret_name,
            description="Smoke-test user of the first stage's user pool: set the password "
                        "on that Cognito user (docs/operations.md, first deploy).",
            encryption_key=self.keys.secrets,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=SMOKE_USER_TEMPLATE, generate_string_key="password",
                password_length=32, exclude_characters="\"'\\`"),
        )
        self.delivery = DeliveryPipeline(
            self, "Delivery",
            connection_arn=config.connection_arn,
            repository=config.repository,
            branch=config.branch,
            install_commands=INSTALL_COMMANDS,
            synth_commands=SYNTH_COMMANDS,
            log_key=self.keys.logs,
            pipeline_name=config.pipeline_name,
        )
        for name in config.stages:
            stage = stages[name]
            smoke = (self._smoke_test(stage, config),) if name in config.smoke_test_stages else ()
            approval = (f"Promote to {name}: the earlier stages deployed and passed their "
                        "smoke test.") if name in config.approval_before else None
            self.delivery.add_stage_deployment(stage, approval=approval, smoke_tests=smoke)
        self.delivery.build()

    def _smoke_test(self, stage: PlatformStage, config: PipelineConfig) -> SmokeTest:
        api = stage.api
        return SmokeTest(
            name=f"SmokeTest-{stage.stage_name}",
            commands=SMOKE_COMMANDS,
            env_from_outputs={"API_URL": api.api_url_output,
                              "USER_POOL_ID": api.user_pool_id_output,
                              "USER_POOL_CLIENT_ID": api.user_pool_client_id_output},
            env={"SMOKE_USER_SECRET_ID": self.smoke_user.secret_arn},
            policy=[
                iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"],
                                    resources=[self.smoke_user.secret_arn]),
                iam.PolicyStatement(
                    actions=["kms:Decrypt"], resources=[self.keys.secrets.key_arn],
                    conditions={"StringEquals": {
                        "kms:ViaService": f"secretsmanager.{config.region}.amazonaws.com"}}),
            ],
        )
