"""``AuditAnchorBucket``: write-once storage for audit chain anchors, outside the database.

An anchor is a small JSON object (every chain's last link) that must survive anyone
who can write the database, including an administrator of this account. So the bucket
has S3 Object Lock in **compliance** mode with a default retention (no principal, root
included, can delete or overwrite an object version before it expires, and the mode
cannot be weakened), versioning (required by Object Lock), SSE-KMS with a
customer-managed key and an S3 Bucket Key, TLS 1.2+ only, all public access blocked,
server access logs into a bucket of its own, and ``RETAIN`` on stack removal (a
compliance-locked bucket could not be emptied anyway).

Grants are narrow: :meth:`AuditAnchorBucket.grant_write` gives ``s3:PutObject`` on the
anchor prefix (and the key's ``GenerateDataKey``), :meth:`AuditAnchorBucket.grant_read`
the ``ListBucket``/``GetObject`` that ``audit verify`` needs; nothing can delete.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.acceptance import accept
from constructs_lib.access_log_bucket import REPLICATION_RULES, server_access_log_bucket
from constructs_lib.secure_bucket import secure_bucket

__all__ = ["AuditAnchorBucket"]

ANCHOR_PREFIX = "audit-anchors/"
"""Key prefix the service writes anchors under (``service.audit.anchors``)."""
MIN_RETENTION_DAYS = 1


class AuditAnchorBucket(Construct):
    """An S3 bucket for audit anchors: Object Lock (compliance), SSE-KMS, logged, retained.

    Parameters
    ----------
    key:
        Customer-managed key of the objects (usable through S3, e.g. ``EncryptionKeys.artifacts``).
    retention:
        Default compliance-mode retention of every object version (whole days, >= 1).
        Nothing can shorten it once an object is written, so choose per stage.
    prefix:
        Key prefix of the anchors; grants cover only this prefix.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        key: kms.IKey,
        retention: cdk.Duration,
        prefix: str = ANCHOR_PREFIX,
    ) -> None:
        super().__init__(scope, id_)
        # Log delivery through a bucket policy, whatever the app's feature flags say (the
        # legacy ACL would need ObjectWriter ownership on the log bucket).
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        days = retention.to_days(integral=False)
        if days < MIN_RETENTION_DAYS or days != int(days):
            raise ValueError(f"retention must be whole days >= {MIN_RETENTION_DAYS}, got {days}")
        self._key = key
        self._prefix = prefix
        self._access_logs = self._create_access_log_bucket()
        self._bucket = secure_bucket(
            self, "Bucket", key=key,
            object_lock_enabled=True,
            object_lock_default_retention=s3.ObjectLockRetention.compliance(retention),
            server_access_logs_bucket=self._access_logs,
            server_access_logs_prefix="anchors/",
            removal_policy=cdk.RemovalPolicy.RETAIN,
            auto_delete_objects=False,
        )
        accept(self._bucket, REPLICATION_RULES,
               "Anchors are write-once evidence under compliance-mode Object Lock in this "
               "region; losing the region loses the database they vouch for too, and a "
               "replica would need a second lock configuration and key for no recovery need.")

    def _create_access_log_bucket(self) -> s3.Bucket:
        """Server access logs of the anchor bucket."""
        return server_access_log_bucket(
            self, logs_of="the anchor bucket's", content="anchor content",
            replication_reason="Access logs of the anchor bucket are operational telemetry "
                               "kept versioned; the anchors themselves are the evidence.")

    # --- read-only resources -------------------------------------------------------------

    @property
    def bucket(self) -> s3.IBucket:
        """The anchor bucket."""
        return self._bucket

    @property
    def bucket_name(self) -> str:
        """Its name (``AUDIT_ANCHOR_BUCKET``)."""
        return self._bucket.bucket_name

    @property
    def access_log_bucket(self) -> s3.IBucket:
        """The bucket receiving the anchor bucket's server access logs."""
        return self._access_logs

    # --- grants --------------------------------------------------------------------------

    def grant_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """``s3:PutObject`` of new anchors (no delete, no retention change)."""
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=["s3:PutObject"],
            resource_arns=[self._bucket.arn_for_objects(f"{self._prefix}*")])
        self._key.grant(grantee, "kms:GenerateDataKey")
        return grant

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """List the anchor prefix and read anchors (what ``audit verify`` needs)."""
        iam.Grant.add_to_principal(
            grantee=grantee, actions=["s3:ListBucket"],
            resource_arns=[self._bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": f"{self._prefix}*"}})
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=["s3:GetObject"],
            resource_arns=[self._bucket.arn_for_objects(f"{self._prefix}*")])
        self._key.grant(grantee, "kms:Decrypt")
        return grant
