"""The bucket that receives another bucket's S3 server access logs (one definition for all)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.acceptance import accept
from constructs_lib.secure_bucket import secure_bucket

__all__ = ["LOGGING_RULES", "REPLICATION_RULES", "server_access_log_bucket"]

ACCESS_LOG_DAYS = 400
#: The findings on a bucket that does not log its own access (a log bucket).
LOGGING_RULES = ("AwsSolutions-S1", "NIST.800.53.R5-S3BucketLoggingEnabled",
                 "HIPAA.Security-S3BucketLoggingEnabled", "PCI.DSS.321-S3BucketLoggingEnabled")
#: The findings on a bucket that is not replicated to another region.
REPLICATION_RULES = ("NIST.800.53.R5-S3BucketReplicationEnabled",
                     "HIPAA.Security-S3BucketReplicationEnabled",
                     "PCI.DSS.321-S3BucketReplicationEnabled")


def server_access_log_bucket(
    scope: Construct, *, id_: str = "AccessLogs", logs_of: str, content: str,
    replication_reason: str,
) -> s3.Bucket:
    """A private, TLS-only, versioned, retained bucket for server access logs.

    SSE-S3, because S3 log delivery takes nothing else; the findings that follow from its
    design are accepted here, naming whose logs it holds (``logs_of``, e.g. "the anchor
    bucket's") and what the logs never contain (``content``).
    """
    bucket = secure_bucket(
        scope, id_, key=None,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        lifecycle_rules=[s3.LifecycleRule(
            id="expire-access-logs", expiration=cdk.Duration.days(ACCESS_LOG_DAYS),
            noncurrent_version_expiration=cdk.Duration.days(30))],
    )
    accept(bucket, LOGGING_RULES,
           f"This bucket receives {logs_of} server access logs; logging it into another "
           "bucket would recurse without adding evidence (CloudTrail records its reads and "
           "deletes).")
    accept(bucket, ("NIST.800.53.R5-S3DefaultEncryptionKMS",
                    "HIPAA.Security-S3DefaultEncryptionKMS",
                    "PCI.DSS.321-S3DefaultEncryptionKMS",
                    "BankGrade-CustomerManagedKey"),
           "S3 server access logging can only deliver to buckets encrypted with SSE-S3; the "
           f"logs hold request metadata, never {content}.")
    accept(bucket, REPLICATION_RULES, replication_reason)
    return bucket
