"""SecureAuroraCluster: encrypted, isolated, Data-API-only Aurora PostgreSQL."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Annotations, Match, Template

from constructs_lib.backup import BackupProtection
from constructs_lib.database import DATA_API_ACTIONS, SecureAuroraCluster
from constructs_lib.network import PrivateNetwork
from constructs_lib.opt_outs import OPT_OUT_METADATA_KEY, OptOut, SecureDefaultError

ENV = cdk.Environment(account="111111111111", region="eu-west-2")
REASON = "Disposable test stack holding only synthetic data."


class Fixture:
    def __init__(self, app: cdk.App) -> None:
        self.stack = cdk.Stack(app, "Db", env=ENV)
        self.db_key = kms.Key(self.stack, "DbKey", enable_key_rotation=True)
        self.secrets_key = kms.Key(self.stack, "SecretsKey", enable_key_rotation=True)
        self.log_key = kms.Key(self.stack, "LogKey", enable_key_rotation=True)
        self.network = PrivateNetwork(self.stack, "Net", log_key=self.log_key)
        self.backups = BackupProtection(self.stack, "Backups", key=self.db_key,
                                        retention=cdk.Duration.days(35))

    def cluster(self, id_: str = "Database", **kwargs: Any) -> SecureAuroraCluster:
        kwargs.setdefault("backup", self.backups)
        return SecureAuroraCluster(self.stack, id_, network=self.network, key=self.db_key,
                                   secrets_key=self.secrets_key, log_key=self.log_key, **kwargs)

    def arn(self, key: kms.Key) -> dict[str, Any]:
        return {"Fn::GetAtt": [self.stack.get_logical_id(key.node.default_child), "Arn"]}  # type: ignore[arg-type]

    def template(self) -> Template:
        return Template.from_stack(self.stack)


@pytest.fixture
def fx(app: cdk.App) -> Fixture:
    return Fixture(app)


def _cluster_resource(template: Template) -> dict[str, Any]:
    (cluster,) = template.find_resources("AWS::RDS::DBCluster").values()
    return cluster


def test_secure_cluster_properties(fx: Fixture) -> None:
    db = fx.cluster()
    cluster = _cluster_resource(fx.template())
    props = cluster["Properties"]
    assert props["Engine"] == "aurora-postgresql"
    assert int(props["EngineVersion"].split(".")[0]) >= 16
    assert props["EnableHttpEndpoint"] is True
    assert props["StorageEncrypted"] is True
    assert props["KmsKeyId"] == fx.arn(fx.db_key)
    assert props["PerformanceInsightsKmsKeyId"] == fx.arn(fx.db_key)
    assert props["EnableIAMDatabaseAuthentication"] is True
    assert props["DeletionProtection"] is True
    assert props["BackupRetentionPeriod"] == 35
    assert props["DeleteAutomatedBackups"] is False
    assert props["EnableCloudwatchLogsExports"] == ["postgresql"]
    assert props["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 4}
    assert props["DatabaseName"] == "platform" == db.database_name
    assert cluster["DeletionPolicy"] == "Snapshot"
    assert cluster["UpdateReplacePolicy"] == "Snapshot"


def test_master_password_is_rds_managed_under_the_secrets_key(fx: Fixture) -> None:
    db = fx.cluster()
    template = fx.template()
    props = _cluster_resource(template)["Properties"]
    assert props["ManageMasterUserPassword"] is True
    assert props["MasterUserSecret"] == {"KmsKeyId": fx.arn(fx.secrets_key)}
    assert "MasterUserPassword" not in props
    template.resource_count_is("AWS::SecretsManager::Secret", 0)
    cluster_id = fx.stack.get_logical_id(db.cluster.node.default_child)  # type: ignore[arg-type]
    assert fx.stack.resolve(db.secret_arn) == {
        "Fn::GetAtt": [cluster_id, "MasterUserSecret.SecretArn"]}


def test_instances_are_private_serverless_and_monitored(fx: Fixture) -> None:
    fx.cluster(readers=2)
    instances = fx.template().find_resources("AWS::RDS::DBInstance")
    assert len(instances) == 3
    for instance in instances.values():
        props = instance["Properties"]
        assert props["DBInstanceClass"] == "db.serverless"
        assert props["PubliclyAccessible"] is False
        assert props["MonitoringInterval"] == 60
        assert props["AutoMinorVersionUpgrade"] is True
        assert props["EnablePerformanceInsights"] is True
        assert props["PerformanceInsightsKMSKeyId"] == fx.arn(fx.db_key)


def test_secure_defaults_synthesise_without_warnings(fx: Fixture) -> None:
    fx.cluster(readers=1)
    assert Annotations.from_stack(fx.stack).find_warning("*", Match.any_value()) == []


def test_security_group_admits_nothing(fx: Fixture) -> None:
    db = fx.cluster()
    template = fx.template()
    sg_id = fx.stack.get_logical_id(db.security_group.node.default_child)  # type: ignore[arg-type]
    sg = template.find_resources("AWS::EC2::SecurityGroup")[sg_id]
    assert "SecurityGroupIngress" not in sg["Properties"]
    template.resource_count_is("AWS::EC2::SecurityGroupIngress", 0)
    # The only egress rule is CDK's placeholder that replaces EC2's default allow-all.
    egress = template.find_resources("AWS::EC2::SecurityGroupEgress")
    assert [e["Properties"]["CidrIp"] for e in egress.values()] == ["255.255.255.255/32"]
    assert _cluster_resource(template)["Properties"]["VpcSecurityGroupIds"] == [
        {"Fn::GetAtt": [sg_id, "GroupId"]}]


def test_cluster_is_in_the_isolated_subnets(fx: Fixture) -> None:
    fx.cluster()
    template = fx.template()
    (group,) = template.find_resources("AWS::RDS::DBSubnetGroup").values()
    isolated = {fx.stack.resolve(s.subnet_id)["Ref"]
                for s in fx.network.vpc.isolated_subnets}
    assert {ref["Ref"] for ref in group["Properties"]["SubnetIds"]} == isolated


def test_parameter_group_forces_tls_and_logs_connections(fx: Fixture) -> None:
    fx.cluster()
    fx.template().has_resource_properties("AWS::RDS::DBClusterParameterGroup", {
        "Family": "aurora-postgresql17",
        "Parameters": {"rds.force_ssl": "1", "log_connections": "1", "log_disconnections": "1"},
    })


def test_exported_log_goes_to_encrypted_group_created_first(fx: Fixture) -> None:
    fx.cluster(cluster_identifier="ffp-test-db")
    template = fx.template()
    name = "/aws/rds/cluster/ffp-test-db/postgresql"
    groups = template.find_resources("AWS::Logs::LogGroup",
                                     {"Properties": {"LogGroupName": name}})
    ((group_id, group),) = groups.items()
    assert group["Properties"]["KmsKeyId"] == fx.arn(fx.log_key)
    assert group["Properties"]["RetentionInDays"] == 365
    assert group_id in _cluster_resource(template)["DependsOn"]


def test_default_identifier_is_a_valid_cluster_name(fx: Fixture) -> None:
    fx.cluster("My_Database")
    name = _cluster_resource(fx.template())["Properties"]["DBClusterIdentifier"]
    assert name[0].isalpha() and name == name.lower() and "--" not in name
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-") and len(name) <= 63


def test_grant_data_access_is_exact(fx: Fixture) -> None:
    db = fx.cluster()
    role = iam.Role(fx.stack, "Fn", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    db.grant_data_access(role)
    template = fx.template()
    (policy,) = template.find_resources("AWS::IAM::Policy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert len(statements) == 3
    data_api, secret, key = statements
    assert sorted(data_api["Action"]) == sorted(DATA_API_ACTIONS)
    assert fx.stack.resolve(data_api["Resource"]) == fx.stack.resolve(db.cluster_arn)
    assert sorted(secret["Action"]) == ["secretsmanager:DescribeSecret",
                                        "secretsmanager:GetSecretValue"]
    assert secret["Resource"] == fx.stack.resolve(db.secret_arn)
    assert key["Action"] == "kms:Decrypt"
    assert key["Resource"] == fx.arn(fx.secrets_key)
    assert key["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.eu-west-2.amazonaws.com"}}
    for statement in statements:
        assert "*" not in str(statement["Resource"])


def test_scale_to_zero_needs_opt_out_and_auto_pause(fx: Fixture) -> None:
    with pytest.raises(SecureDefaultError, match=r"SecureAuroraCluster\.min_capacity"):
        fx.cluster("Denied", min_capacity=0, auto_pause=cdk.Duration.minutes(30))
    with pytest.raises(ValueError, match="auto_pause"):
        fx.cluster("NoPause", min_capacity=0,
                   opt_outs=[OptOut("SecureAuroraCluster.min_capacity", REASON)])
    db = fx.cluster("Allowed", min_capacity=0, auto_pause=cdk.Duration.minutes(30),
                    opt_outs=[OptOut("SecureAuroraCluster.min_capacity", REASON)])
    props = _cluster_resource(fx.template())["Properties"]
    assert props["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": 0, "MaxCapacity": 4, "SecondsUntilAutoPause": 1800}
    records = [e.data["setting"] for e in db.node.metadata if e.type == OPT_OUT_METADATA_KEY]
    assert records == ["SecureAuroraCluster.min_capacity"]


@pytest.mark.parametrize(
    ("kwargs", "setting", "cfn_check"),
    [
        ({"backup_retention": cdk.Duration.days(7)}, "SecureAuroraCluster.backup_retention",
         lambda c: c["Properties"]["BackupRetentionPeriod"] == 7),
        ({"deletion_protection": False}, "SecureAuroraCluster.deletion_protection",
         lambda c: c["Properties"]["DeletionProtection"] is False),
        ({"removal_policy": cdk.RemovalPolicy.DESTROY}, "SecureAuroraCluster.removal_policy",
         lambda c: c["DeletionPolicy"] == "Delete"),
        ({"log_retention": 90}, "SecureAuroraCluster.log_retention", lambda c: True),
    ],
)
def test_weakening_needs_named_opt_out(
    fx: Fixture, kwargs: dict[str, Any], setting: str, cfn_check: Any
) -> None:
    with pytest.raises(SecureDefaultError, match=setting):
        fx.cluster("Denied", **kwargs)
    opt_out = OptOut(setting, REASON, finding_ids=("AwsSolutions-RDS10",))
    db = fx.cluster("Allowed", opt_outs=[opt_out], **kwargs)
    assert cfn_check(_cluster_resource(fx.template()))
    records = [e.data for e in db.node.metadata if e.type == OPT_OUT_METADATA_KEY]
    assert records == [{"setting": setting, "reason": REASON, "findings": ["AwsSolutions-RDS10"]}]


def test_retain_is_a_stronger_choice_without_opt_out(fx: Fixture) -> None:
    fx.cluster(removal_policy=cdk.RemovalPolicy.RETAIN)
    assert _cluster_resource(fx.template())["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize(
    "kwargs",
    [{"max_capacity": 0.5}, {"min_capacity": 0.7}, {"min_capacity": 8, "max_capacity": 4},
     {"auto_pause": cdk.Duration.minutes(30)}, {"max_capacity": 300},
     {"backup_retention": cdk.Duration.days(36)}, {"readers": -1},
     {"database_name": "drop table"}],
)
def test_invalid_settings_are_rejected(fx: Fixture, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        fx.cluster(**kwargs)


def test_no_compliance_finding_is_left_to_the_caller(
    fx: Fixture, nag_findings: Any
) -> None:
    """With a backup plan the cluster passes the packs: its instances' RDSInBackupPlan
    findings are accepted by the construct (AWS Backup selects clusters), and the
    monitoring policy names each instance's stream (no IAM5 wildcard)."""
    fx.cluster()
    findings = {rule for rule, path in nag_findings(fx.stack.node.scope)
                if path.startswith("Db/Database/")}
    assert findings == set()


def test_monitoring_policy_names_each_instance_stream(fx: Fixture) -> None:
    fx.cluster(readers=1)
    template = fx.template()
    (policy,) = [p for p in template.find_resources("AWS::IAM::ManagedPolicy").values()
                 if "enhanced-monitoring" in p["Properties"]["Description"]]
    streams = next(s for s in policy["Properties"]["PolicyDocument"]["Statement"]
                   if s["Sid"] == "MetricsLogStreams")["Resource"]
    instances = template.find_resources("AWS::RDS::DBInstance")
    assert len(streams) == len(instances) == 2
    assert "*" not in str(streams)
    referenced = {part["Fn::GetAtt"][0] for s in streams for part in s["Fn::Join"][1]
                  if isinstance(part, dict) and "Fn::GetAtt" in part}
    assert referenced == set(instances)


def test_cluster_joins_the_backup_plan(fx: Fixture) -> None:
    fx.cluster()
    selection = next(iter(fx.template().find_resources("AWS::Backup::BackupSelection").values()))
    resources = selection["Properties"]["BackupSelection"]["Resources"]
    assert "rds" in str(resources) and "cluster" in str(resources)


def test_no_backup_needs_the_opt_out(fx: Fixture) -> None:
    with pytest.raises(SecureDefaultError, match=r"SecureAuroraCluster\.backup"):
        fx.cluster(backup=None)
    fx.cluster("Unbacked", backup=None,
               opt_outs=[OptOut("SecureAuroraCluster.backup", REASON)])
