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

from constructs_lib.compliance.acknowledgements import acknowledge_design

__all__ = ["BackupProtection"]


class BackupProtection(Construct):
    """Daily backups of ``resources`` into a vault whose recovery points cannot be deleted.

    Parameters
    ----------
    key:
        CMK of the vault (``EncryptionKeys.backups`` lets AWS Backup use it).
    resources:
        What to back up.
    retention:
        How long each daily recovery point is kept (1-35 days for Aurora restores to
        stay cheap; longer is allowed).
    schedule_hour_utc:
        Hour of the daily backup window.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        key: kms.IKey,
        resources: Sequence[backup.BackupResource],
        retention: cdk.Duration,
        schedule_hour_utc: int = 2,
    ) -> None:
        super().__init__(scope, id_)
        if not resources:
            raise ValueError("BackupProtection needs at least one resource to back up.")
        self._vault = backup.BackupVault(
            self, "Vault",
            encryption_key=key,
            block_recovery_point_deletion=True,
            lock_configuration=backup.LockConfiguration(min_retention=retention),
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
        selection = self._plan.add_selection("Selection", resources=list(resources))
        acknowledge_design(selection, "BackupProtection.selection_role")

    @property
    def vault(self) -> backup.BackupVault:
        """The locked vault."""
        return self._vault

    @property
    def plan(self) -> backup.BackupPlan:
        """The backup plan."""
        return self._plan
