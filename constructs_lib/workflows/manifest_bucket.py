"""``ManifestBucket``: where a fan-out's item lists live between its writer and its map.

SSE-KMS with a customer-managed key (bucket keys on), TLS 1.2+ only, all public access
blocked, ACLs disabled, versioned, server access logs to a bucket of its own (SSE-S3: the
only encryption S3 log delivery accepts), and manifests expiring after ``expire_after``
(default 14 days) with old versions soon after: a manifest is needed for one run only.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.acceptance import accept, wildcard_finding_ids
from constructs_lib.access_log_bucket import REPLICATION_RULES, server_access_log_bucket
from constructs_lib.secure_bucket import secure_bucket

__all__ = ["ManifestBucket"]



class ManifestBucket(Construct):
    """A private, CMK-encrypted, access-logged bucket of short-lived workflow manifests.

    Parameters
    ----------
    key:
        Customer-managed key of the objects (``EncryptionKeys.workflow_state``, usable
        through S3).
    expire_after:
        How long a manifest is kept (1-90 days; default 14).
    prefix:
        The key prefix manifests are written under; grants are limited to it.
    """

    def __init__(self, scope: Construct, id_: str, *, key: kms.IKey,
                 expire_after: cdk.Duration | None = None,
                 prefix: str = "manifests/") -> None:
        super().__init__(scope, id_)
        expiry = expire_after or cdk.Duration.days(14)
        if not 1 <= expiry.to_days() <= 90:
            raise ValueError("ManifestBucket.expire_after must be 1-90 days")
        if not prefix or prefix.startswith("/") or not prefix.endswith("/"):
            raise ValueError("ManifestBucket.prefix must look like 'manifests/'")
        self._prefix = prefix
        self._key = key
        self._access_logs = server_access_log_bucket(
            self, logs_of="the manifest bucket's", content="manifest content",
            replication_reason="Access logs of a bucket of short-lived manifests are "
                               "operational telemetry kept versioned; a cross-region replica "
                               "adds no recovery.")
        self._bucket = secure_bucket(
            self, "Bucket", key=key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(
                id="expire-old-manifests", expiration=expiry,
                noncurrent_version_expiration=cdk.Duration.days(1),
                abort_incomplete_multipart_upload_after=cdk.Duration.days(1))],
        )
        self._log_access(prefix="manifest-bucket/")
        accept(self._bucket, REPLICATION_RULES,
               "Manifests are rebuilt from the database by every run and expire within "
               "days; a cross-region replica would only copy disposable lists of ids.")

    def _log_access(self, *, prefix: str) -> None:
        """Server access logs by bucket policy (ACLs stay disabled on the log bucket)."""
        cfn = self._bucket.node.default_child
        assert isinstance(cfn, s3.CfnBucket)
        cfn.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
            destination_bucket_name=self._access_logs.bucket_name, log_file_prefix=prefix)
        stack = cdk.Stack.of(self)
        self._access_logs.add_to_resource_policy(iam.PolicyStatement(
            sid="S3ServerAccessLogDelivery",
            principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[self._access_logs.arn_for_objects(f"{prefix}*")],
            conditions={"ArnLike": {"aws:SourceArn": self._bucket.bucket_arn},
                        "StringEquals": {"aws:SourceAccount": stack.account}},
        ))

    @property
    def bucket(self) -> s3.Bucket:
        """The manifest bucket."""
        return self._bucket

    @property
    def prefix(self) -> str:
        """The key prefix manifests live under."""
        return self._prefix

    def manifests_arn(self) -> str:
        """The ARN pattern of the manifest objects (``<bucket>/<prefix>*``)."""
        return self._bucket.arn_for_objects(f"{self._prefix}*")

    def grant_write(self, grantee: iam.IGrantable) -> None:
        """Let ``grantee`` write manifests under the prefix (and encrypt them)."""
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            actions=["s3:PutObject"], resources=[self.manifests_arn()]))
        self._accept_prefix_grant(grantee)
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            actions=["kms:GenerateDataKey"], resources=[self._key.key_arn],
            conditions=self._through_this_bucket()))

    def grant_read(self, grantee: iam.IGrantable) -> None:
        """Let ``grantee`` read manifests under the prefix (and decrypt them)."""
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            actions=["s3:GetObject"], resources=[self.manifests_arn()]))
        self._accept_prefix_grant(grantee)
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            actions=["kms:Decrypt"], resources=[self._key.key_arn],
            conditions=self._through_this_bucket()))

    def _accept_prefix_grant(self, grantee: iam.IGrantable) -> None:
        """Accept, by its exact id, the one wildcard of these grants: the manifest prefix."""
        principal = grantee.grant_principal
        policy = principal.node.try_find_child("DefaultPolicy") if isinstance(
            principal, iam.Role) else None
        if not isinstance(policy, iam.Policy):
            return  # not a role of this app: its owner accepts what it is given
        arn = cdk.Stack.of(policy).resolve(self.manifests_arn())
        ids = wildcard_finding_ids({"Statement": [{"Effect": "Allow", "Resource": arn}]})
        accept(policy, sorted(ids), "Manifests are named per run at run time; the grant is "
               f"limited to the objects under {self._prefix!r} of this one bucket.")

    def _through_this_bucket(self) -> dict[str, dict[str, str]]:
        """Key use only by S3, for this bucket (with bucket keys the context is the bucket)."""
        stack = cdk.Stack.of(self)
        return {"StringEquals": {
            "kms:ViaService": f"s3.{stack.region}.amazonaws.com",
            "kms:EncryptionContext:aws:s3:arn": self._bucket.bucket_arn,
        }}
