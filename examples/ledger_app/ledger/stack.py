"""The ledger service: keys, an isolated database with backups, users, one API function."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib import (
    BackupProtection,
    EncryptionKeys,
    FamilyUserPool,
    PlatformHttpApi,
    PrivateNetwork,
    SecureAuroraCluster,
    ServiceFunction,
)

HANDLER_DIR = Path(__file__).resolve().parent.parent / "handler"


class LedgerStack(cdk.Stack):
    """Everything the ledger service needs, with the library's defaults."""

    def __init__(self, scope: Construct, id_: str, *, alert_emails: Sequence[str],
                 **kwargs: Any) -> None:
        super().__init__(scope, id_, **kwargs)
        # --8<-- [start:data]
        keys = EncryptionKeys(self, "LedgerKeys", alias_prefix="ledger")
        network = PrivateNetwork(self, "LedgerNetwork", log_key=keys.logs)
        backups = BackupProtection(self, "LedgerBackups", key=keys.backups,
                                   retention=cdk.Duration.days(35))
        database = SecureAuroraCluster(
            self, "LedgerDatabase",
            network=network, key=keys.database, secrets_key=keys.secrets,
            log_key=keys.logs, backup=backups,
        )
        # --8<-- [end:data]
        # --8<-- [start:api]
        users = FamilyUserPool(self, "LedgerUsers")
        function = ServiceFunction(
            self, "LedgerApi",
            code=lambda_.Code.from_asset(str(HANDLER_DIR)),
            handler="ledger_handler.handler",
            memory_size=512,
            reserved_concurrent_executions=20,
            timeout=cdk.Duration.seconds(10),
            p99_duration_threshold=cdk.Duration.seconds(1),
            deployment_config=codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES,
            log_key=keys.logs,
            queue_key=keys.workflow_state,
            environment_key=keys.functions,
            alarm_emails=alert_emails,
            alarm_key=keys.alerts,
            environment={
                "LEDGER_CLUSTER_ARN": database.cluster_arn,
                "LEDGER_SECRET_ARN": database.secret_arn,
                "LEDGER_DATABASE": database.database_name,
            },
        )
        database.grant_data_access(function.role)
        PlatformHttpApi(
            self, "LedgerHttpApi",
            handler=function.alias,
            user_pool=users.user_pool,
            user_pool_client=users.client,
            log_key=keys.logs,
            throttle_rate_limit=50,
            throttle_burst_limit=100,
            public_routes={"GET /ping": "Liveness probe for the load tester; returns no data."},
        )
        # --8<-- [end:api]
