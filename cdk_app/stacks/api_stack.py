"""What changes with every release: user pool, the API function and its alias, HTTP API, CDN."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from constructs import Construct

from cdk_app.config import FunctionConfig, StageConfig
from cdk_app.service_asset import service_code
from cdk_app.stacks.audit_anchoring import AuditAnchoring
from cdk_app.stacks.bank_sync import BankSyncWorkflows
from cdk_app.stacks.chat_access import ChatAccess
from cdk_app.stacks.data_stack import TOKENS_KEY_USER_TAG, DataStack
from cdk_app.stacks.edge_stack import EdgeStack
from cdk_app.stacks.service_functions import service_function
from constructs_lib import (
    AlarmNotifications,
    AppSecret,
    EdgeDistribution,
    FamilyUserPool,
    OptOut,
    PlatformHttpApi,
    ServiceFunction,
)
from constructs_lib.deployment_hook import DeploymentHookFunction
from service import deployment_contract as contract

# The secrets the API reads at cold start; the others belong to later workers.
_API_SECRETS = (AppSecret.ORIGIN_VERIFY, AppSecret.BANK_CLIENT, AppSecret.AI_SETTINGS,
                AppSecret.AUDIT_KEY)


class ApiStack(cdk.Stack):
    """The platform API: Cognito, the Flask Lambda behind alias ``live``, HTTP API, CloudFront."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: StageConfig,
        data: DataStack,
        edge: EdgeStack,
        opt_outs: Sequence[OptOut],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        self.users = FamilyUserPool(
            self, "Users",
            self_sign_up=config.user_pool.self_sign_up,
            user_pool_name=f"{config.resource_prefix}-families",
            opt_outs=opt_outs,
        )
        self.alerts = AlarmNotifications(self, "Alerts", key=data.keys.alerts,
                                         emails=[config.alarm_email])
        self.api_function = self._api_function(config.api_function, config, data, opt_outs)
        self.bank_sync = BankSyncWorkflows(self, "BankSync", config=config, data=data,
                                           alarm_topic=self.alerts.topic,
                                           migrations=self.migrations.function,
                                           runtime_environment=self._runtime_environment(
                                               config, data),
                                           opt_outs=opt_outs)
        self.bank_sync.grant_start_sync(self.api_function, config)
        self.audit_anchoring = AuditAnchoring(
            self, "AuditAnchoring", config=config, data=data,
            environment=self._runtime_environment(config, data), alarm_topic=self.alerts.topic,
            migrations=self.migrations.function, opt_outs=opt_outs)
        self.http_api = PlatformHttpApi(
            self, "HttpApi",
            handler=self.api_function.alias,
            user_pool=self.users.user_pool,
            user_pool_client=self.users.client,
            log_key=data.keys.logs,
            throttle_rate_limit=config.http_api.throttle_rate_per_second,
            throttle_burst_limit=config.http_api.throttle_burst,
            log_retention=config.log_retention_days,
            api_name=f"{config.resource_prefix}-api",
            public_routes={route.key: route.reason for route in contract.PUBLIC_ROUTES},
            custom_domain=self._origin_domain(config),
            opt_outs=opt_outs,
        )
        certificate = (
            acm.Certificate.from_certificate_arn(
                self, "EdgeCertificate", config.edge.certificate_arn
            )
            if config.edge.certificate_arn else None
        )
        self.cdn = EdgeDistribution(
            self, "Cdn",
            api_domain=self.http_api.endpoint_domain,
            origin_verify_secret=data.secrets.origin_verify_secret,
            web_acl_id=edge.protection.web_acl_arn,
            domain_names=config.edge.domain_names,
            certificate=certificate,
            price_class=cloudfront.PriceClass(config.edge.price_class),
            comment=f"{config.resource_prefix} platform API",
            opt_outs=opt_outs,
        )
        # The pipeline's smoke test reads these three.
        self.api_url_output = cdk.CfnOutput(self, "ApiUrl",
                                            value=f"https://{self.cdn.domain_name}")
        if self.http_api.domain is not None:  # the origin's DNS record points here
            cdk.CfnOutput(self, "OriginDomainTarget",
                          value=self.http_api.domain.regional_domain_name)
        self.user_pool_id_output = cdk.CfnOutput(self, "UserPoolId",
                                                 value=self.users.user_pool.user_pool_id)
        self.user_pool_client_id_output = cdk.CfnOutput(
            self, "UserPoolClientId", value=self.users.client.user_pool_client_id)
        # What `make rollback` needs (devtools/rollback.py): names and ARNs only.
        group = self.api_function.deployment_group
        for output_id, value in {
            "DeploymentApplication": group.application.application_name,
            "DeploymentGroup": group.deployment_group_name,
            "DatabaseClusterArn": data.database.cluster_arn,
            "DatabaseOwnerSecretArn": data.database.secret_arn,
            "DatabaseName": data.database.database_name,
        }.items():
            cdk.CfnOutput(self, output_id, value=value)

    def _origin_domain(self, config: StageConfig) -> tuple[str, acm.ICertificate] | None:
        """The HTTP API's regional domain, when the stage configures one."""
        http = config.http_api
        if not (http.domain_name and http.certificate_arn):
            return None
        certificate = acm.Certificate.from_certificate_arn(self, "OriginCertificate",
                                                           http.certificate_arn)
        return http.domain_name, certificate

    def _runtime_environment(self, config: StageConfig, data: DataStack) -> dict[str, str]:
        """What ``Settings.from_env`` requires in Lambda mode: names, ids and ARNs only."""
        return {
            contract.SERVICE_RUNTIME: "lambda",
            contract.DB_CLUSTER_ARN: data.database.cluster_arn,
            contract.DB_SECRET_ARN: data.app_role.secret.secret_arn,
            contract.DB_NAME: data.database.database_name,
            contract.TOKEN_KMS_KEY_ARN: data.keys.tokens.key_arn,
            contract.COGNITO_USER_POOL_ID: self.users.user_pool.user_pool_id,
            contract.COGNITO_CLIENT_ID: self.users.client.user_pool_client_id,
            contract.COGNITO_REGION: config.region,
            contract.LOG_LEVEL: "INFO",
            contract.POWERTOOLS_SERVICE_NAME: "family-finance-api",
            contract.FAMILY_KEYS_TABLE_NAME: data.family_keys.table_name,
            contract.AUDIT_KEY_SECRET_ARN: data.secrets.audit_key_secret.secret_arn,
            contract.AUDIT_ANCHOR_BUCKET: data.audit_anchors.bucket_name,
            contract.AUDIT_ANCHOR_INTERVAL_MINUTES: str(config.audit.anchor_interval_minutes),
        }

    def _api_function(
        self, fn_config: FunctionConfig, config: StageConfig, data: DataStack,
        opt_outs: Sequence[OptOut],
    ) -> ServiceFunction:
        secrets = data.secrets
        environment = {
            **self._runtime_environment(config, data),
            contract.ORIGIN_VERIFY_SECRET_ARN: secrets.origin_verify_secret.secret_arn,
            contract.BANK_CLIENT_SECRET_ARN: secrets.bank_client_secret.secret_arn,
            contract.AI_SETTINGS_PARAMETER_NAME: secrets.ai_settings_parameter.parameter_name,
        }
        self.chat = ChatAccess(self, "Chat", config=config, secrets=secrets)
        environment.update(self.chat.environment)
        self.migrations = self._migration_hook(data, config, opt_outs)
        function = service_function(
            self, "ApiFunction", handler=contract.API_HANDLER, sizing=fn_config, config=config,
            data=data, alarm_topic=self.alerts.topic, environment=environment,
            description="Family finance platform API (Flask via serverless-wsgi)",
            pre_traffic_hook=self.migrations.function, opt_outs=opt_outs,
        )
        # As the least-privilege app role: its secret only, never the owner's.
        data.database.grant_data_access(function.role, secret=data.app_role.secret)
        data.keys.tokens.grant(function.role, "kms:GenerateDataKey", "kms:Decrypt")
        cdk.Tags.of(function.role).add(TOKENS_KEY_USER_TAG, config.resource_prefix)
        data.family_keys.grant_key_access(function.role)
        for which in _API_SECRETS:
            data.secrets.grant_read(which, function.role)
        self.chat.grant(function.role)
        return function

    def _migration_hook(self, data: DataStack, config: StageConfig,
                        opt_outs: Sequence[OptOut]) -> DeploymentHookFunction:
        """Migrations before traffic: the owner role, through the Data API, on one cluster.

        The same function is the ``BeforeAllowTraffic`` hook of every deployment group
        that needs the schema (the API's now, the worker's when it exists).
        """
        hook = DeploymentHookFunction(
            self, "Migrations",
            code=service_code(),
            handler=contract.MIGRATION_HOOK_HANDLER,
            log_key=data.keys.logs,
            environment_key=data.keys.functions,
            environment={
                contract.DB_CLUSTER_ARN: data.database.cluster_arn,
                # The owner (RDS master) secret: only this function may change the schema.
                contract.DB_OWNER_SECRET_ARN: data.database.secret_arn,
                contract.DB_NAME: data.database.database_name,
                contract.LOG_LEVEL: "INFO",
            },
            log_retention=config.log_retention_days,
            description="Applies pending migrations before CodeDeploy shifts an alias",
            opt_outs=opt_outs,
        )
        data.database.grant_data_access(hook.role)
        return hook
