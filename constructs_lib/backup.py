"""AWS Backup for data stores: a locked, CMK-encrypted vault and a daily plan.

Aurora's own continuous backups give point-in-time recovery inside the cluster's
account; they share the cluster's fate if that account is compromised (a
privileged attacker can delete the cluster and its automated backups). A backup
vault with recovery-point deletion blocked and a vault lock adds copies that
nobody in the account can delete before their retention ends.

Example
-------
::

    BackupProtection(self, "Backups", key=keys.backups, retention=cdk.Duration.days(35),
                     resources=[backup.BackupResource.from_rds_database_cluster(db.cluster)])
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.acceptance import accept

__all__ = ["BackupProtection"]


class BackupProtection(Construct):
    """Daily backups of ``resources`` into a vault whose recovery points cannot be deleted.

    Parameters
    ----------
    key:
        CMK of the vault (``EncryptionKeys.backups`` lets AWS Backup use it).
    resources:
        What to back up (more can join with :meth:`protect`, e.g.
        ``SecureAuroraCluster(backup=...)`` adds its cluster).
    retention:
        How long each daily recovery point is kept (1-35 days for Aurora restores to
        stay cheap; longer is allowed).
    schedule_hour_utc:
        Hour of the daily backup window.
    compliance_lock_after:
        Turn the vault lock into *compliance* mode: after this grace period (at least
        3 days) nobody, not even the account root, can shorten retention or delete the
        lock. Default ``None``: governance mode (the lock can be removed with IAM
        permission), which suits stages that are torn down.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        key: kms.IKey,
        retention: cdk.Duration,
        resources: Sequence[backup.BackupResource] = (),
        schedule_hour_utc: int = 2,
        compliance_lock_after: cdk.Duration | None = None,
    ) -> None:
        super().__init__(scope, id_)
        if compliance_lock_after is not None and compliance_lock_after.to_days() < 3:
            raise ValueError("compliance_lock_after must be at least 3 days (AWS Backup).")
        self._vault = backup.BackupVault(
            self, "Vault",
            encryption_key=key,
            block_recovery_point_deletion=True,
            lock_configuration=backup.LockConfiguration(
                min_retention=retention, changeable_for=compliance_lock_after),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self._plan = backup.BackupPlan(self, "Plan", backup_vault=self._vault)
        self._plan.add_rule(backup.BackupPlanRule(
            rule_name="Daily",
            schedule_expression=events.Schedule.cron(minute="0", hour=str(schedule_hour_utc)),
            start_window=cdk.Duration.hours(1),
            completion_window=cdk.Duration.hours(4),
            delete_after=retention,
        ))
        if resources:
            self.protect("Selection", resources)

    def protect(self, id_: str, resources: Sequence[backup.BackupResource]) -> None:
        """Add ``resources`` to the daily plan (one selection named ``id_``)."""
        selection = self._plan.add_selection(id_, resources=list(resources))
        accept(selection,
               ("AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSBackupServiceRolePolicyForBackup]",),
               "The AWS-maintained policy AWS Backup documents for its selection role; "
               "assumable only by backup.amazonaws.com and kept current with new resource "
               "types.")

    @property
    def vault(self) -> backup.BackupVault:
        """The locked vault."""
        return self._vault

    @property
    def plan(self) -> backup.BackupPlan:
        """The backup plan."""
        return self._plan
