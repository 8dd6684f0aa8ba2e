"""DatabaseRoleSecret: an app role's own secret, rotated through the Data API by the alias."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from constructs_lib.backup import BackupProtection
from constructs_lib.database import SecureAuroraCluster
from constructs_lib.database_role import DatabaseRoleSecret
from constructs_lib.encryption_keys import EncryptionKeys
from constructs_lib.network import PrivateNetwork

ENV = cdk.Environment(account="111111111111", region="eu-west-2")


class Fixture:
    def __init__(self, app: cdk.App) -> None:
        self.stack = cdk.Stack(app, "Db", env=ENV)
        self.keys = keys = EncryptionKeys(self.stack, "Keys", alias_prefix="t")
        network = PrivateNetwork(self.stack, "Net", log_key=keys.logs)
        backups = BackupProtection(self.stack, "Backups", key=keys.backups,
                                   retention=cdk.Duration.days(35))
        self.cluster = SecureAuroraCluster(
            self.stack, "Database", network=network, key=keys.database,
            secrets_key=keys.secrets, log_key=keys.logs, backup=backups)
        self.role_secret = DatabaseRoleSecret(
            self.stack, "AppRole", cluster=self.cluster, role_name="platform_app",
            key=keys.secrets, rotation_code=lambda_.Code.from_inline("x"),
            rotation_handler="service.db.role_rotation.handler", log_key=keys.logs,
            queue_key=keys.workflow_state, environment_key=keys.functions,
            alarm_emails=["dba@example.org"], alarm_key=keys.alerts)
        self.api_role = iam.Role(self.stack, "ApiRole",
                                 assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        self.cluster.grant_data_access(self.api_role, secret=self.role_secret.secret)

    def id_of(self, construct: Any) -> str:
        return self.stack.get_logical_id(construct.node.default_child)


@pytest.fixture
def fx(app: cdk.App) -> Fixture:
    return Fixture(app)


def _policy_of(template: Template, role_id: str) -> str:
    return json.dumps([p for p in template.find_resources("AWS::IAM::Policy").values()
                       if {"Ref": role_id} in p["Properties"]["Roles"]])


def test_secret_is_cmk_encrypted_and_names_the_role(fx: Fixture) -> None:
    template = Template.from_stack(fx.stack)
    [secret] = [s for s in template.find_resources("AWS::SecretsManager::Secret").values()
                if "platform_app" in json.dumps(s)]
    props = secret["Properties"]
    assert "KmsKeyId" in props
    assert json.loads(props["GenerateSecretString"]["SecretStringTemplate"]) == {
        "username": "platform_app"}


def test_rotation_invokes_the_alias_for_this_account_only(fx: Fixture) -> None:
    template = Template.from_stack(fx.stack)
    [schedule] = template.find_resources("AWS::SecretsManager::RotationSchedule").values()
    alias_id = fx.id_of(fx.role_secret.rotation_function.alias)
    assert schedule["Properties"]["RotationLambdaARN"] == {"Ref": alias_id}
    assert schedule["Properties"]["RotationRules"] == {"ScheduleExpression": "rate(30 days)"}
    [permission] = [p for p in template.find_resources("AWS::Lambda::Permission").values()
                    if p["Properties"]["Principal"] == "secretsmanager.amazonaws.com"]
    assert permission["Properties"]["FunctionName"] == {"Ref": alias_id}
    assert permission["Properties"]["SourceAccount"] == "111111111111"


def test_rotation_uses_the_owner_secret_over_the_data_api_without_a_vpc(fx: Fixture) -> None:
    template = Template.from_stack(fx.stack)
    function = fx.role_secret.rotation_function.function
    props = template.find_resources("AWS::Lambda::Function")[fx.id_of(function)]["Properties"]
    assert "VpcConfig" not in props
    env = props["Environment"]["Variables"]
    assert set(env) == {"DB_CLUSTER_ARN", "DB_OWNER_SECRET_ARN", "DB_NAME", "DB_ROLE_NAME"}
    assert env["DB_ROLE_NAME"] == "platform_app"
    rotation_policy = _policy_of(template, fx.id_of(fx.role_secret.rotation_function.role))
    assert "rds-data:ExecuteStatement" in rotation_policy
    assert "secretsmanager:PutSecretValue" in rotation_policy


def test_the_app_reads_its_role_secret_and_never_the_owner_secret(fx: Fixture) -> None:
    template = Template.from_stack(fx.stack)
    api_policy = _policy_of(template, fx.id_of(fx.api_role))
    assert fx.id_of(fx.role_secret.secret) in api_policy
    assert "MasterUserSecret" not in api_policy
    assert "rds-data:ExecuteStatement" in api_policy


def test_no_finding_is_left_to_the_caller(fx: Fixture, nag_findings: Any) -> None:
    findings = {(rule, path) for rule, path in nag_findings(fx.stack.node.scope)
                if path.startswith("Db/AppRole/")}
    assert findings == set()


def test_role_name_must_be_a_postgres_name(fx: Fixture) -> None:
    keys = fx.keys
    with pytest.raises(ValueError, match="role_name"):
        DatabaseRoleSecret(
            fx.stack, "Bad", cluster=fx.cluster, role_name="Robert'); DROP", key=keys.secrets,
            rotation_code=lambda_.Code.from_inline("x"), rotation_handler="h.h",
            log_key=keys.logs, queue_key=keys.workflow_state, environment_key=keys.functions,
            alarm_emails=["dba@example.org"], alarm_key=keys.alerts)
