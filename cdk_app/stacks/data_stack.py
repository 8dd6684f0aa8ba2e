"""Long-lived data: keys, the isolated network, Aurora and its backups, key store, secrets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from constructs import Construct

from cdk_app.config import StageConfig
from cdk_app.service_asset import service_code
from constructs_lib import (
    AppSecrets,
    AuditAnchorBucket,
    BackupProtection,
    CryptoShreddingKeyStore,
    DatabaseRoleSecret,
    DataClass,
    DirectKeyUse,
    EncryptionKeys,
    OptOut,
    PrivateNetwork,
    SecureAuroraCluster,
)
from service import deployment_contract as contract

TOKENS_KEY_USER_TAG = "ffp:tokens-key-user"
"""IAM tag on the roles that may use the tokens key directly (value: the resource prefix)."""


class DataStack(cdk.Stack):
    """Keys, network, database and secrets: the resources that outlive every deploy."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: StageConfig,
        opt_outs: Sequence[OptOut],
        log_stacks: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, termination_protection=config.database.deletion_protection,
                         **kwargs)
        db_config = config.database
        # Direct use of the tokens key: roles tagged TOKENS_KEY_USER_TAG=<prefix> (the API
        # and workers, tagged in their own stacks), per-family encryption context only.
        self.keys = EncryptionKeys(
            self, "Keys", alias_prefix=config.resource_prefix,
            extra_via_services={DataClass.TOKENS: ("dynamodb",)},
            direct_use=DirectKeyUse(
                principal_tag=TOKENS_KEY_USER_TAG, principal_tag_value=config.resource_prefix,
                context_keys=contract.TOKEN_ENCRYPTION_CONTEXT_KEYS),
            # The logs key serves this stack's log groups and those of ``log_stacks``.
            log_group_prefixes=[f"{name}-" for name in log_stacks],
            opt_outs=opt_outs,
        )
        self.network = PrivateNetwork(
            self, "Network",
            log_key=self.keys.logs,
            max_azs=config.network.max_azs,
            flow_log_retention=config.network.flow_log_retention_days,
            opt_outs=opt_outs,
        )
        self.backups = BackupProtection(
            self, "Backups",
            key=self.keys.backups,
            retention=cdk.Duration.days(db_config.backup_retention_days),
            compliance_lock_after=(cdk.Duration.days(db_config.backup_compliance_lock_days)
                                   if db_config.backup_compliance_lock_days else None),
        )
        self.database = SecureAuroraCluster(
            self, "Database",
            network=self.network,
            key=self.keys.database,
            secrets_key=self.keys.secrets,
            log_key=self.keys.logs,
            min_capacity=db_config.min_capacity_acu,
            max_capacity=db_config.max_capacity_acu,
            auto_pause=(cdk.Duration.minutes(db_config.auto_pause_minutes)
                        if db_config.auto_pause_minutes else None),
            backup_retention=cdk.Duration.days(db_config.backup_retention_days),
            deletion_protection=db_config.deletion_protection,
            removal_policy=(cdk.RemovalPolicy.SNAPSHOT if db_config.retain_on_delete
                            else cdk.RemovalPolicy.DESTROY),
            log_retention=config.log_retention_days,
            backup=self.backups,
            opt_outs=opt_outs,
        )
        # The API runs as a least-privilege role; only this rotation and migrations use
        # the owner (master) secret.
        self.app_role = DatabaseRoleSecret(
            self, "AppRole",
            cluster=self.database, role_name=contract.DB_APP_ROLE, key=self.keys.secrets,
            rotation_code=service_code(), rotation_handler=contract.DB_ROLE_ROTATION_HANDLER,
            log_key=self.keys.logs, queue_key=self.keys.workflow_state,
            environment_key=self.keys.functions,
            alarm_emails=[config.alarm_email], alarm_key=self.keys.alerts,
            environment_names={"cluster_arn": contract.DB_CLUSTER_ARN,
                               "owner_secret_arn": contract.DB_OWNER_SECRET_ARN,
                               "database_name": contract.DB_NAME,
                               "role_name": contract.DB_ROLE_NAME},
        )
        # Wrapped per-family data keys live outside Aurora (and its backups) so that
        # deleting a family's key shreds its consent tokens for good.
        self.family_keys = CryptoShreddingKeyStore(self, "FamilyKeys", key=self.keys.tokens)
        # Audit chain heads, copied outside the database every few minutes (write once).
        self.audit_anchors = AuditAnchorBucket(
            self, "AuditAnchors", key=self.keys.artifacts,
            retention=cdk.Duration.days(config.audit.anchor_retention_days),
        )
        self.secrets = AppSecrets(
            self, "Secrets",
            key=self.keys.secrets,
            name_prefix=config.resource_prefix,
            opt_outs=opt_outs,
        )
