"""Edge protection in us-east-1: the CloudFront-scoped WAF web ACL and its encrypted logs."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from cdk_app.config import StageConfig
from constructs_lib import DataClass, EdgeProtection, EncryptionKeys
from service.deployment_contract import PUBLIC_ROUTES

# Provider webhooks come from the provider's servers, which anonymous-IP lists may flag.
WEBHOOK_PATHS = tuple(r.key.split(" ", 1)[1] for r in PUBLIC_ROUTES if r.key.startswith("POST "))


class EdgeStack(cdk.Stack):
    """WAF for CloudFront must live in us-east-1; the API stack references it cross-region."""

    def __init__(self, scope: Construct, id_: str, *, config: StageConfig, **kwargs: Any) -> None:
        super().__init__(scope, id_, **kwargs)
        self.keys = EncryptionKeys(
            self, "Keys", alias_prefix=f"{config.resource_prefix}-edge", classes=[DataClass.LOGS]
        )
        self.protection = EdgeProtection(
            self, "Waf",
            log_key=self.keys.logs,
            rate_limit=config.edge.waf_rate_limit_per_5_minutes,
            log_retention=config.log_retention_days,
            anonymous_ip_exempt_path_prefixes=WEBHOOK_PATHS,
        )
