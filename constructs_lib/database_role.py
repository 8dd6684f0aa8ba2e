"""``DatabaseRoleSecret``: a least-privilege database role's credentials, rotated via the Data API.

The service should not run as the cluster's owner/master user. This construct holds a
separate Secrets Manager secret (``{"username": <role>, "password": ...}``, encrypted
with the secrets key) for an application role and rotates it every ``rotate_every``
with a function of the caller's (``rotation_code``/``rotation_handler``) that changes
the role's password through the RDS Data API, authenticated with the owner secret.
The rotation function therefore needs no VPC and no route out: it talks only to the
Data API and Secrets Manager over their HTTPS endpoints.

Grant the application :meth:`grant_read` (this secret only) and
``cluster.grant_data_access(app_role, secret=role_secret.secret)``; only the rotation
function (and migrations) read the owner secret.

The rotation function's environment: ``DB_CLUSTER_ARN``, ``DB_OWNER_SECRET_ARN``,
``DB_NAME`` and ``DB_ROLE_NAME`` (names configurable through ``environment_names``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import aws_cdk as cdk
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.acceptance import accept
from constructs_lib.database import SecureAuroraCluster
from constructs_lib.function import ServiceFunction

__all__ = ["DEFAULT_ENVIRONMENT_NAMES", "DatabaseRoleSecret"]

DEFAULT_ENVIRONMENT_NAMES: Mapping[str, str] = MappingProxyType({
    "cluster_arn": "DB_CLUSTER_ARN",
    "owner_secret_arn": "DB_OWNER_SECRET_ARN",
    "database_name": "DB_NAME",
    "role_name": "DB_ROLE_NAME",
})
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class DatabaseRoleSecret(Construct):
    """A CMK-encrypted secret for one database role, rotated through the Data API.

    Parameters
    ----------
    cluster:
        The :class:`SecureAuroraCluster` the role lives in.
    role_name:
        The PostgreSQL role (lower case, created by the app's migrations).
    key:
        CMK of the secret (``EncryptionKeys.secrets``).
    rotation_code, rotation_handler:
        The rotation function's code and handler (Secrets Manager's four-step
        rotation protocol; it sets the new password with ``ALTER ROLE`` over the Data
        API as the owner).
    log_key, queue_key, environment_key:
        Keys for the rotation function's logs, DLQ and environment.
    alarm_topic, alarm_emails, alarm_key:
        Where the rotation function's alarms go (see :class:`ServiceFunction`).
    rotate_every:
        Rotation interval; default 30 days.
    environment_names:
        Names of the rotation function's environment variables (keys of
        :data:`DEFAULT_ENVIRONMENT_NAMES`).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster: SecureAuroraCluster,
        role_name: str,
        key: kms.IKey,
        rotation_code: lambda_.Code,
        rotation_handler: str,
        log_key: kms.IKey,
        queue_key: kms.IKey,
        environment_key: kms.IKey,
        alarm_topic: sns.ITopic | None = None,
        alarm_emails: Sequence[str] = (),
        alarm_key: kms.IKey | None = None,
        rotate_every: cdk.Duration | None = None,
        environment_names: Mapping[str, str] = DEFAULT_ENVIRONMENT_NAMES,
    ) -> None:
        super().__init__(scope, id_)
        if not _ROLE_NAME.fullmatch(role_name):
            raise ValueError(f"role_name {role_name!r} is not a lower-case PostgreSQL name.")
        names = {**DEFAULT_ENVIRONMENT_NAMES, **environment_names}
        self._secret = secretsmanager.Secret(
            self, "Secret",
            description=f"Credentials of database role {role_name} (rotated via the Data API)",
            encryption_key=key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"username": role_name}),
                generate_string_key="password",
                exclude_punctuation=True,
                password_length=40,
            ),
        )
        self._rotation = ServiceFunction(
            self, "Rotation",
            code=rotation_code,
            handler=rotation_handler,
            memory_size=256,
            timeout=cdk.Duration.seconds(60),
            p99_duration_threshold=cdk.Duration.seconds(30),
            deployment_config=codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
            reserved_concurrent_executions=1,
            log_key=log_key, queue_key=queue_key, environment_key=environment_key,
            alarm_topic=alarm_topic, alarm_emails=alarm_emails, alarm_key=alarm_key,
            environment={
                names["cluster_arn"]: cluster.cluster_arn,
                names["owner_secret_arn"]: cluster.secret_arn,
                names["database_name"]: cluster.database_name,
                names["role_name"]: role_name,
            },
            description=f"Rotates the password of database role {role_name}",
        )
        cluster.grant_data_access(self._rotation.role)  # as the owner (master secret)
        self._grant_rotation_steps(key)
        self._schedule(rotate_every or cdk.Duration.days(30))

    def _schedule(self, every: cdk.Duration) -> None:
        """Secrets Manager invokes the alias, never ``$LATEST``, for this account only.

        The L1 schedule, because ``Secret.add_rotation_schedule`` would also put a
        wildcard statement into the function's default policy.
        """
        stack = cdk.Stack.of(self)
        alias = self._rotation.alias
        permission = lambda_.CfnPermission(
            self, "InvokeBySecretsManager",
            action="lambda:InvokeFunction",
            function_name=alias.function_arn,
            principal="secretsmanager.amazonaws.com",
            source_account=stack.account,
        )
        schedule = secretsmanager.CfnRotationSchedule(
            self, "Schedule",
            secret_id=self._secret.secret_arn,
            rotation_lambda_arn=alias.function_arn,
            rotation_rules=secretsmanager.CfnRotationSchedule.RotationRulesProperty(
                schedule_expression=f"rate({int(every.to_days())} days)"),
        )
        schedule.add_resource_dependency(permission)

    def _grant_rotation_steps(self, key: kms.IKey) -> None:
        """What the four rotation steps need on this secret, and nothing else."""
        stack = cdk.Stack.of(self)
        role = self._rotation.role
        iam.Grant.add_to_principal(
            grantee=role,
            actions=["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
                     "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"],
            resource_arns=[self._secret.secret_arn],
        )
        # GetRandomPassword has no resource; a policy of its own keeps the wildcard (and
        # its acceptance) to that one action.
        password_policy = iam.ManagedPolicy(
            self, "RandomPasswordPolicy",
            description="Generate a new password during rotation",
            statements=[iam.PolicyStatement(actions=["secretsmanager:GetRandomPassword"],
                                            resources=["*"])],
            roles=[role],
        )
        accept(password_policy, ("AwsSolutions-IAM5[Resource::*]",),
               "secretsmanager:GetRandomPassword supports no resource-level permission; this "
               "policy holds only that action, which reads and changes nothing.")
        iam.Grant.add_to_principal(
            grantee=role, actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resource_arns=[key.key_arn],
            conditions={"StringEquals": {
                "kms:ViaService": f"secretsmanager.{stack.region}.amazonaws.com"}},
        )

    @property
    def secret(self) -> secretsmanager.ISecret:
        """The role's secret: what the application reads (``DB_SECRET_ARN``)."""
        return self._secret

    @property
    def rotation_function(self) -> ServiceFunction:
        """The function Secrets Manager invokes (through its ``live`` alias)."""
        return self._rotation

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read this secret (and decrypt it through Secrets Manager only)."""
        stack = cdk.Stack.of(self)
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
            resource_arns=[self._secret.secret_arn],
        )
        key = self._secret.encryption_key
        if key is not None:
            iam.Grant.add_to_principal(
                grantee=grantee, actions=["kms:Decrypt"], resource_arns=[key.key_arn],
                conditions={"StringEquals": {
                    "kms:ViaService": f"secretsmanager.{stack.region}.amazonaws.com"}})
        return grant
