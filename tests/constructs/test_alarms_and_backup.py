"""AlarmNotifications and BackupProtection."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_backup as backup
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk.assertions import Match, Template

from constructs_lib.alarms import AlarmNotifications
from constructs_lib.backup import BackupProtection
from constructs_lib.encryption_keys import DataClass, EncryptionKeys

ENV = cdk.Environment(account="111111111111", region="eu-west-2")


def test_alarms_notify_an_encrypted_tls_only_topic_on_alarm_and_ok(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Alerts", env=ENV)
    keys = EncryptionKeys(stack, "Keys", alias_prefix="t", classes=[DataClass.ALERTS])
    alerts = AlarmNotifications(stack, "Alerts", key=keys.alerts, emails=["ops@example.com"])
    alarm = cloudwatch.Alarm(
        stack, "Alarm", threshold=1, evaluation_periods=1,
        metric=cloudwatch.Metric(namespace="Test", metric_name="Errors"),
    )
    alerts.notify_on(alarm)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::SNS::Topic", {
        "KmsMasterKeyId": Match.any_value(),
    })
    template.has_resource_properties("AWS::SNS::TopicPolicy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        })])},
    })
    template.has_resource_properties("AWS::SNS::Subscription", {
        "Protocol": "email", "Endpoint": "ops@example.com",
    })
    (alarm_resource,) = template.find_resources("AWS::CloudWatch::Alarm").values()
    topic_ref = {"Ref": Match.string_like_regexp("AlertsTopic")}
    for actions in ("AlarmActions", "OKActions"):
        Template.from_json({"Resources": {"A": alarm_resource}}).has_resource_properties(
            "AWS::CloudWatch::Alarm", {actions: [topic_ref]})
    # CloudWatch (the service) may use the alerts key, but only for this account.
    template.has_resource_properties("AWS::KMS::Key", {
        "KeyPolicy": {"Statement": Match.array_with([Match.object_like({
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}},
        })])},
    })


def _backup_stack(app: cdk.App) -> cdk.Stack:
    stack = cdk.Stack(app, "Backups", env=ENV)
    keys = EncryptionKeys(stack, "Keys", alias_prefix="t", classes=[DataClass.BACKUPS])
    table = dynamodb.TableV2(stack, "T", partition_key=dynamodb.Attribute(
        name="id", type=dynamodb.AttributeType.STRING))
    BackupProtection(stack, "Backups", key=keys.backups, retention=cdk.Duration.days(35),
                     resources=[backup.BackupResource.from_dynamo_db_table(table)])
    return stack


def test_backups_go_to_a_locked_cmk_vault_that_blocks_deletion(app: cdk.App) -> None:
    template = Template.from_stack(_backup_stack(app))
    (vault,) = template.find_resources("AWS::Backup::BackupVault").values()
    assert "EncryptionKeyArn" in vault["Properties"]
    assert vault["Properties"]["LockConfiguration"] == {"MinRetentionDays": 35}
    denied = vault["Properties"]["AccessPolicy"]["Statement"][0]
    assert denied["Effect"] == "Deny" and "backup:DeleteRecoveryPoint" in denied["Action"]
    assert vault["DeletionPolicy"] == "Retain"
    template.has_resource_properties("AWS::Backup::BackupPlan", {
        "BackupPlan": {"BackupPlanRule": [Match.object_like({
            "Lifecycle": {"DeleteAfterDays": 35},
            "ScheduleExpression": "cron(0 2 * * ? *)",
        })]},
    })
    template.resource_count_is("AWS::Backup::BackupSelection", 1)


def test_vault_lock_is_governance_mode_unless_compliance_is_asked_for(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Locks", env=ENV)
    keys = EncryptionKeys(stack, "Keys", alias_prefix="t", classes=[DataClass.BACKUPS])
    BackupProtection(stack, "Governance", key=keys.backups, retention=cdk.Duration.days(7))
    BackupProtection(stack, "Compliance", key=keys.backups, retention=cdk.Duration.days(35),
                     compliance_lock_after=cdk.Duration.days(3))
    locks = {logical_id: vault["Properties"]["LockConfiguration"]
             for logical_id, vault in Template.from_stack(stack).find_resources(
                 "AWS::Backup::BackupVault").items()}
    governance = next(v for k, v in locks.items() if k.startswith("Governance"))
    compliance = next(v for k, v in locks.items() if k.startswith("Compliance"))
    assert "ChangeableForDays" not in governance
    assert compliance == {"MinRetentionDays": 35, "ChangeableForDays": 3}


def test_compliance_grace_period_has_the_aws_minimum(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Short", env=ENV)
    keys = EncryptionKeys(stack, "Keys", alias_prefix="t", classes=[DataClass.BACKUPS])
    with pytest.raises(ValueError, match="at least 3 days"):
        BackupProtection(stack, "B", key=keys.backups, retention=cdk.Duration.days(7),
                         compliance_lock_after=cdk.Duration.days(1))
