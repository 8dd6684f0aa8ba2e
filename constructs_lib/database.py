"""Aurora PostgreSQL Serverless v2 reached only through the RDS Data API.

Secure by default: storage, snapshots and Performance Insights encrypted with the
database CMK; the master password generated, stored and rotated by RDS in Secrets
Manager under the secrets CMK (no rotation Lambda needed, no password in the
template); IAM database authentication on; TLS forced; connections logged and the
PostgreSQL log exported to a CMK-encrypted log group; 35 days of point-in-time
recovery; deletion protection and a final snapshot on removal. The cluster sits in
isolated subnets behind a security group with no rules at all: nothing in or out
over the network, the Data API (HTTPS + IAM) is the only way in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_backup
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from constructs_lib.acceptance import accept
from constructs_lib.backup import BackupProtection
from constructs_lib.log_storage import allow_cloudwatch_logs, as_retention, retention_days
from constructs_lib.network import PrivateNetwork
from constructs_lib.opt_outs import OptOut, reject_unknown_opt_outs, weaken_if

__all__ = ["DATA_API_ACTIONS", "DEFAULT_ENGINE_VERSION", "SecureAuroraCluster"]

# Newest Aurora PostgreSQL in aws-cdk-lib 2.275; 17.4+ supports Serverless v2 auto-pause
# and the Data API.
DEFAULT_ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_17_9

DATA_API_ACTIONS = (
    "rds-data:BatchExecuteStatement",
    "rds-data:BeginTransaction",
    "rds-data:CommitTransaction",
    "rds-data:ExecuteStatement",
    "rds-data:RollbackTransaction",
)

OPT_OUT_SETTINGS = (
    "SecureAuroraCluster.min_capacity",
    "SecureAuroraCluster.backup_retention",
    "SecureAuroraCluster.deletion_protection",
    "SecureAuroraCluster.removal_policy",
    "SecureAuroraCluster.log_retention",
    "SecureAuroraCluster.backup",
)

_SECURE_MIN_ACU = 0.5
_MAX_ACU = 256
_MAX_BACKUP_DAYS = 35
_MIN_LOG_RETENTION = logs.RetentionDays.ONE_YEAR
_LOG_EXPORTS = ("postgresql",)


class SecureAuroraCluster(Construct):
    """Aurora PostgreSQL Serverless v2 cluster for the Data API, secure by default.

    Example
    -------
    ::

        db = SecureAuroraCluster(
            self, "Database", network=network, key=keys.database,
            secrets_key=keys.secrets, log_key=keys.logs, max_capacity=16,
        )
        db.grant_data_access(api_function)
        env = {"DB_CLUSTER_ARN": db.cluster_arn, "DB_SECRET_ARN": db.secret_arn,
               "DB_NAME": db.database_name}

    Parameters
    ----------
    network:
        The :class:`PrivateNetwork` whose isolated subnets host the cluster.
    key:
        CMK for storage, snapshots and Performance Insights (the ``database`` key).
    secrets_key:
        CMK for the RDS-managed master user secret (the ``secrets`` key).
    log_key:
        CMK for the exported PostgreSQL log group (the ``logs`` key).
    database_name:
        Database created in the cluster.
    cluster_identifier:
        Cluster name; default derived from the construct path. It is fixed because the
        log group for exported logs is named after it.
    engine_version:
        Aurora PostgreSQL version (default :data:`DEFAULT_ENGINE_VERSION`).
    min_capacity, max_capacity:
        Serverless v2 ACU range. Below 0.5 (i.e. 0, scale to zero) needs the opt-out
        ``SecureAuroraCluster.min_capacity`` and ``auto_pause``.
    auto_pause:
        Idle time before a 0-ACU cluster pauses (5 minutes to 24 hours).
    readers:
        Number of Serverless v2 readers (the first scales with the writer, for failover).
    backup_retention:
        Point-in-time recovery window (default 35 days, the maximum; less needs an opt-out).
    preferred_backup_window, preferred_maintenance_window:
        UTC windows, ``hh24:mi-hh24:mi`` and ``ddd:hh24:mi-ddd:hh24:mi``.
    deletion_protection:
        On by default; off needs an opt-out.
    removal_policy:
        ``SNAPSHOT`` (default) or ``RETAIN``; ``DESTROY`` needs an opt-out.
    log_retention:
        Retention of the exported PostgreSQL log (default one year; less needs an opt-out).
    master_username:
        Name of the master user (its password is generated and held by RDS).
    backup:
        The :class:`BackupProtection` (locked, CMK-encrypted vault) whose plan the
        cluster joins. Required unless the opt-out ``SecureAuroraCluster.backup`` says
        why this cluster needs no backup beyond its point-in-time recovery.
    opt_outs:
        Explicit, recorded weakenings of the defaults above.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        network: PrivateNetwork,
        key: kms.IKey,
        secrets_key: kms.IKey,
        log_key: kms.IKey,
        database_name: str = "platform",
        cluster_identifier: str | None = None,
        engine_version: rds.AuroraPostgresEngineVersion = DEFAULT_ENGINE_VERSION,
        min_capacity: float = _SECURE_MIN_ACU,
        max_capacity: float = 4,
        auto_pause: cdk.Duration | None = None,
        readers: int = 0,
        backup_retention: cdk.Duration | None = None,
        preferred_backup_window: str = "01:00-02:00",
        preferred_maintenance_window: str = "Sun:03:00-Sun:04:00",
        deletion_protection: bool = True,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.SNAPSHOT,
        log_retention: logs.RetentionDays | int = _MIN_LOG_RETENTION,
        master_username: str = "platform_admin",
        backup: BackupProtection | None = None,
        opt_outs: Sequence[OptOut] = (),
    ) -> None:
        super().__init__(scope, id_)
        reject_unknown_opt_outs(opt_outs, OPT_OUT_SETTINGS)
        _check_capacity(min_capacity, max_capacity, auto_pause)
        if readers < 0:
            raise ValueError(f"readers must be >= 0, got {readers}.")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,62}", database_name):
            raise ValueError(f"database_name {database_name!r} is not a valid PostgreSQL name.")
        backup_days = _MAX_BACKUP_DAYS if backup_retention is None else backup_retention.to_days()
        if not 1 <= backup_days <= _MAX_BACKUP_DAYS:
            raise ValueError(f"backup_retention must be 1-35 days, got {backup_days}.")
        log_retention = as_retention(log_retention)

        self._record_weakenings(opt_outs, {
            "SecureAuroraCluster.min_capacity": (
                min_capacity < _SECURE_MIN_ACU,
                f"min_capacity {min_capacity} ACU (pauses; slow first request)"),
            "SecureAuroraCluster.backup_retention": (
                backup_days < _MAX_BACKUP_DAYS, f"backup_retention of {backup_days} days"),
            "SecureAuroraCluster.deletion_protection": (
                not deletion_protection, "deletion_protection=False"),
            "SecureAuroraCluster.removal_policy": (
                removal_policy == cdk.RemovalPolicy.DESTROY,
                "removal_policy DESTROY (no final snapshot)"),
            "SecureAuroraCluster.log_retention": (
                retention_days(log_retention) < retention_days(_MIN_LOG_RETENTION),
                f"log_retention {log_retention.name}"),
            "SecureAuroraCluster.backup": (
                backup is None, "No backup (AWS Backup plan) for the cluster"),
        })

        self._database_name = database_name
        self._secrets_key = secrets_key
        identifier = cluster_identifier or _default_identifier(self)
        engine = rds.DatabaseClusterEngine.aurora_postgres(version=engine_version)
        monitoring_role = self._monitoring_role()

        self._security_group, parameter_group = self._closed_network_settings(network, engine)
        # Created here (not by RDS) so that it is CMK-encrypted and has a retention.
        log_group_name = f"/aws/rds/cluster/{identifier}/postgresql"
        allow_cloudwatch_logs(log_key, self, log_group_name=log_group_name)
        self._log_group = logs.LogGroup(
            self,
            "PostgresqlLog",
            log_group_name=log_group_name,
            encryption_key=log_key,
            retention=log_retention,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self._cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            engine=engine,
            cluster_identifier=identifier,
            default_database_name=database_name,
            credentials=rds.Credentials.from_username(master_username),
            manage_master_user_password=True,
            writer=self._instance("Writer", key, scale_with_writer=None),
            readers=[self._instance(f"Reader{i + 1}", key, scale_with_writer=i == 0)
                     for i in range(readers)],
            serverless_v2_min_capacity=min_capacity,
            serverless_v2_max_capacity=max_capacity,
            serverless_v2_auto_pause_duration=auto_pause,
            enable_data_api=True,
            iam_authentication=True,
            storage_encrypted=True,
            storage_encryption_key=key,
            vpc=network.vpc,
            vpc_subnets=network.isolated_subnets,
            security_groups=[self._security_group],
            parameter_group=parameter_group,
            backup=rds.BackupProps(retention=cdk.Duration.days(backup_days),
                                   preferred_window=preferred_backup_window),
            preferred_maintenance_window=preferred_maintenance_window,
            delete_automated_backups=False,
            copy_tags_to_snapshot=True,
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
            cloudwatch_logs_exports=list(_LOG_EXPORTS),
            enable_performance_insights=True,
            performance_insight_encryption_key=key,
            performance_insight_retention=rds.PerformanceInsightRetention.DEFAULT,
            database_insights_mode=rds.DatabaseInsightsMode.STANDARD,
            monitoring_interval=cdk.Duration.seconds(60),
            monitoring_role=monitoring_role,
        )
        self._cluster.node.add_dependency(self._log_group)
        self._allow_enhanced_monitoring(monitoring_role)
        if backup is not None:
            self._join_backup_plan(backup)
        cfn = self._cluster.node.default_child
        assert isinstance(cfn, rds.CfnDBCluster)
        cfn.master_user_secret = rds.CfnDBCluster.MasterUserSecretProperty(
            kms_key_id=secrets_key.key_arn
        )
        self._cfn = cfn

    def _record_weakenings(
        self, opt_outs: Sequence[OptOut], weakenings: Mapping[str, tuple[bool, str]],
    ) -> None:
        """Require (and record) the opt-out of every setting that weakens a default."""
        for setting, (weakens, weakened) in weakenings.items():
            weaken_if(self, weakens, setting=setting, opt_outs=opt_outs, weakened=weakened)

    def _closed_network_settings(
        self, network: PrivateNetwork, engine: rds.IClusterEngine,
    ) -> tuple[ec2.SecurityGroup, rds.ParameterGroup]:
        """A security group admitting nothing, and parameters forcing TLS and logging."""
        security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=network.vpc,
            description="Aurora cluster: no ingress, no egress (reached via the RDS Data API)",
            allow_all_outbound=False,
            disable_inline_rules=True,
        )
        parameter_group = rds.ParameterGroup(
            self,
            "Parameters",
            engine=engine,
            description="Force TLS; log connections, disconnections and DDL",
            parameters={
                "rds.force_ssl": "1",
                "log_connections": "1",
                "log_disconnections": "1",
                "log_statement": "ddl",
            },
        )
        return security_group, parameter_group

    @staticmethod
    def _instance(
        id_: str, key: kms.IKey, *, scale_with_writer: bool | None
    ) -> rds.IClusterInstance:
        # Performance Insights repeated per instance (same key and retention as the
        # cluster) so CDK does not warn about an instance-level override.
        return rds.ClusterInstance.serverless_v2(
            id_,
            scale_with_writer=scale_with_writer,
            publicly_accessible=False,
            auto_minor_version_upgrade=True,
            enable_performance_insights=True,
            performance_insight_encryption_key=key,
            performance_insight_retention=rds.PerformanceInsightRetention.DEFAULT,
        )

    def _monitoring_role(self) -> iam.Role:
        """Enhanced-monitoring role, confused-deputy guarded; its policy comes later."""
        stack = cdk.Stack.of(self)
        return iam.Role(
            self,
            "MonitoringRole",
            description="RDS enhanced monitoring: write OS metrics to RDSOSMetrics",
            assumed_by=iam.ServicePrincipal("monitoring.rds.amazonaws.com").with_conditions(
                {"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
        )

    def _allow_enhanced_monitoring(self, role: iam.Role) -> None:
        """Let ``role`` write exactly this cluster's instances' streams of ``RDSOSMetrics``.

        Replaces the AWS-managed ``AmazonRDSEnhancedMonitoringRole`` (any log group
        named ``RDS*``). RDS names each instance's stream after its resource id
        (``DbiResourceId``), so the policy lists those streams and needs no wildcard;
        it is created after the instances (it references them), so it is a separate
        policy rather than part of the role the instances depend on.
        """
        stack = cdk.Stack.of(self)
        group = stack.format_arn(service="logs", resource="log-group",
                                 resource_name="RDSOSMetrics",
                                 arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
        instances = [c for c in self._cluster.node.find_all() if isinstance(c, rds.CfnDBInstance)]
        iam.ManagedPolicy(
            self,
            "MonitoringPolicy",
            description="Write RDS enhanced-monitoring metrics of this cluster's instances",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="MetricsLogGroup",
                    actions=["logs:CreateLogGroup", "logs:PutRetentionPolicy"],
                    resources=[group],
                ),
                iam.PolicyStatement(
                    sid="MetricsLogStreams",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents",
                             "logs:DescribeLogStreams", "logs:GetLogEvents"],
                    resources=[f"{group}:log-stream:{i.attr_dbi_resource_id}" for i in instances],
                ),
            ],
        )

    def _join_backup_plan(self, backup: BackupProtection) -> None:
        backup.protect(f"{cdk.Names.unique_id(self)}Cluster",
                       [aws_backup.BackupResource.from_rds_database_cluster(self._cluster)])
        for instance in self._cluster.node.find_all():
            if isinstance(instance, rds.CfnDBInstance):
                accept(instance, ("NIST.800.53.R5-RDSInBackupPlan",
                                  "HIPAA.Security-RDSInBackupPlan"),
                       "The Aurora cluster is in an AWS Backup plan (locked, CMK-encrypted "
                       "vault); AWS Backup protects Aurora only at cluster level and cannot "
                       "select its instances, which is what this rule looks for.")

    # -- access -------------------------------------------------------------------------

    def grant_data_access(
        self, grantee: iam.IGrantable, *, secret: secretsmanager.ISecret | None = None,
    ) -> list[iam.Grant]:
        """Let ``grantee`` run SQL on this cluster through the Data API, and nothing more.

        Grants exactly :data:`DATA_API_ACTIONS` on this cluster, ``GetSecretValue`` and
        ``DescribeSecret`` on one secret -- ``secret`` (e.g. a least-privilege
        :class:`~constructs_lib.database_role.DatabaseRoleSecret`) or else the master
        user secret -- and ``kms:Decrypt`` on the secrets key only when called through
        Secrets Manager.
        """
        stack = cdk.Stack.of(self)
        secret_arn = secret.secret_arn if secret is not None else self.secret_arn
        return [
            iam.Grant.add_to_principal(grantee=grantee, actions=list(DATA_API_ACTIONS),
                                       resource_arns=[self.cluster_arn]),
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                resource_arns=[secret_arn],
            ),
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["kms:Decrypt"],
                resource_arns=[self._secrets_key.key_arn],
                conditions={"StringEquals": {
                    "kms:ViaService": f"secretsmanager.{stack.region}.amazonaws.com"}},
            ),
        ]

    # -- read-only attributes -----------------------------------------------------------

    @property
    def cluster(self) -> rds.DatabaseCluster:
        """The Aurora cluster."""
        return self._cluster

    @property
    def cluster_arn(self) -> str:
        """ARN of the cluster (``DB_CLUSTER_ARN``)."""
        return self._cluster.cluster_arn

    @property
    def secret_arn(self) -> str:
        """ARN of the RDS-managed master user secret (``DB_SECRET_ARN``)."""
        return self._cfn.attr_master_user_secret_secret_arn

    @property
    def database_name(self) -> str:
        """Name of the application database (``DB_NAME``)."""
        return self._database_name

    @property
    def security_group(self) -> ec2.ISecurityGroup:
        """The cluster's security group (no rules)."""
        return self._security_group

    @property
    def log_group(self) -> logs.ILogGroup:
        """The encrypted log group receiving the exported PostgreSQL log."""
        return self._log_group


def _check_capacity(min_acu: float, max_acu: float, auto_pause: cdk.Duration | None) -> None:
    for name, value in (("min_capacity", min_acu), ("max_capacity", max_acu)):
        if value < 0 or value > _MAX_ACU or (value * 2) != int(value * 2):
            raise ValueError(f"{name} must be 0-256 ACU in 0.5 steps, got {value}.")
    if max_acu < 1 or max_acu < min_acu:
        raise ValueError(f"max_capacity must be >= 1 and >= min_capacity, got {max_acu}.")
    if min_acu == 0 and auto_pause is None:
        raise ValueError("min_capacity 0 needs auto_pause (the idle time before pausing).")
    if auto_pause is not None:
        if min_acu != 0:
            raise ValueError("auto_pause only applies with min_capacity 0.")
        if not 300 <= auto_pause.to_seconds() <= 86_400:
            raise ValueError("auto_pause must be between 5 minutes and 24 hours.")


def _default_identifier(scope: Construct) -> str:
    raw = cdk.Names.unique_resource_name(scope, max_length=55, separator="-").lower()
    name = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", raw)).strip("-")
    return name if name[:1].isalpha() else f"db-{name}"
