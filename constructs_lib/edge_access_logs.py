"""CloudFront access logs through standard logging v2, without the query string.

Why v2 and not the distribution's ``Logging`` property
------------------------------------------------------
Standard logging *legacy* always writes every field, ``cs-uri-query`` included, and the
query string of this API carries search text and amounts. Standard logging v2 (vended
logs: ``AWS::Logs::DeliverySource`` + ``DeliveryDestination`` + ``Delivery``) takes an
explicit list of record fields, so the query string, cookies and the referer (a URL that
may carry another query string) are never written. The CloudFront delivery source (and
so the whole delivery) must be created in us-east-1; the distribution may live in any
stack, this construct needs only its id. The bucket lives beside the delivery, in
us-east-1.

The bucket follows the library's rules: SSE-KMS with the caller's us-east-1 CMK (the key
policy lets ``delivery.logs.amazonaws.com`` generate data keys for this account's
delivery sources; added when the key is a ``kms.Key`` in this stack), bucket key on,
ACLs disabled (vended logs need none), all public access blocked, TLS (>= 1.2) only,
versioned, lifecycle-expired, retained on delete.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.acceptance import accept
from constructs_lib.access_log_bucket import LOGGING_RULES, REPLICATION_RULES
from constructs_lib.log_storage import MIN_LOG_RETENTION_DAYS, allow_cloudfront_log_delivery
from constructs_lib.opt_outs import OptOut, reject_unknown_opt_outs, require_opt_out
from constructs_lib.secure_bucket import secure_bucket

__all__ = ["ACCESS_LOG_FIELDS", "EXCLUDED_LOG_FIELDS", "EdgeAccessLogs"]

_EDGE_REGION = "us-east-1"

#: Fields never written: the query string (search text, amounts), cookies, and the referer.
EXCLUDED_LOG_FIELDS: frozenset[str] = frozenset({"cs-uri-query", "cs(Cookie)", "cs(Referer)"})

#: What is logged by default: who, when, what path, outcome and timing.
ACCESS_LOG_FIELDS: tuple[str, ...] = (
    "date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(Host)",
    "cs-uri-stem", "sc-status", "cs(User-Agent)", "x-edge-result-type", "x-edge-request-id",
    "x-host-header", "cs-protocol", "cs-bytes", "time-taken", "x-forwarded-for",
    "ssl-protocol", "ssl-cipher", "x-edge-response-result-type", "cs-protocol-version",
    "c-port", "time-to-first-byte", "x-edge-detailed-result-type", "sc-content-type",
    "sc-content-len",
)

_LOGS = "EdgeAccessLogs."
LOG_RETENTION = f"{_LOGS}log_retention"
LOG_REMOVAL_POLICY = f"{_LOGS}log_removal_policy"
KNOWN = (LOG_RETENTION, LOG_REMOVAL_POLICY)


class EdgeAccessLogs(Construct):
    """CloudFront standard logging v2 of one distribution to an encrypted S3 bucket.

    Parameters
    ----------
    scope, id_:
        Construct scope and id; the stack must be in us-east-1 (CloudFront's delivery
        sources exist only there). Deploy it after the distribution's stack.
    distribution_id:
        The distribution's id (``EdgeDistribution.distribution.distribution_id``; a
        cross-region reference works).
    log_key:
        A us-east-1 CMK for the bucket.
    record_fields:
        Fields to write, default :data:`ACCESS_LOG_FIELDS`; any of
        :data:`EXCLUDED_LOG_FIELDS` is refused.
    log_retention_days:
        Objects expire after this many days (default 400); under 365 needs the opt-out
        ``EdgeAccessLogs.log_retention``.
    log_removal_policy:
        Default ``RETAIN``; otherwise needs ``EdgeAccessLogs.log_removal_policy``.
    opt_outs:
        Explicit, recorded opt-outs; those for other constructs are ignored.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        distribution_id: str,
        log_key: kms.IKey,
        record_fields: Sequence[str] = ACCESS_LOG_FIELDS,
        log_retention_days: int = 400,
        log_removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        opt_outs: Sequence[OptOut] = (),
    ) -> None:
        super().__init__(scope, id_)
        mine = reject_unknown_opt_outs(opt_outs, KNOWN)
        stack = cdk.Stack.of(self)
        if not cdk.Token.is_unresolved(stack.region) and stack.region != _EDGE_REGION:
            raise ValueError(f"EdgeAccessLogs must be in {_EDGE_REGION} (CloudFront delivery "
                             f"sources live there), not {stack.region}")
        leaked = sorted(EXCLUDED_LOG_FIELDS.intersection(record_fields))
        if leaked:
            raise ValueError(f"record_fields must not include {leaked}: they carry search "
                             "text, amounts or credentials")
        if not record_fields:
            raise ValueError("record_fields must name at least one field")
        if log_retention_days < MIN_LOG_RETENTION_DAYS:
            require_opt_out(self, LOG_RETENTION, mine,
                            weakened=f"log_retention_days={log_retention_days}")
        if log_removal_policy != cdk.RemovalPolicy.RETAIN:
            require_opt_out(self, LOG_REMOVAL_POLICY, mine,
                            weakened=f"log_removal_policy={log_removal_policy.name}")

        self._bucket = self._create_bucket(log_key, log_retention_days, log_removal_policy)
        # Only deliveries of this account's sources in this region may write here.
        source_arn = stack.format_arn(service="logs", resource="delivery-source",
                                      resource_name="*",
                                      arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
        policy_added = self._bucket.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowLogDeliveryWrite",
            principals=[iam.ServicePrincipal("delivery.logs.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[self._bucket.arn_for_objects(f"AWSLogs/{stack.account}/*")],
            conditions={
                "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                 "aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": source_arn},
            },
        ))

        name = cdk.Names.unique_resource_name(self, max_length=50, separator="-")
        self._distribution_arn = (
            f"arn:{stack.partition}:cloudfront::{stack.account}:distribution/{distribution_id}"
        )
        self._source = logs.CfnDeliverySource(
            self, "Source",
            name=f"{name}-src",
            log_type="ACCESS_LOGS",
            resource_arn=self._distribution_arn,
        )
        self._destination = logs.CfnDeliveryDestination(
            self, "Destination",
            name=f"{name}-dst",
            destination_resource_arn=self._bucket.bucket_arn,
            output_format="json",
        )
        self._delivery = logs.CfnDelivery(
            self, "Delivery",
            delivery_source_name=self._source.ref,
            delivery_destination_arn=self._destination.attr_arn,
            record_fields=list(record_fields),
        )
        if policy_added.policy_dependable is not None:
            self._delivery.node.add_dependency(policy_added.policy_dependable)

    def _create_bucket(
        self, key: kms.IKey, days: int, removal: cdk.RemovalPolicy
    ) -> s3.Bucket:
        allow_cloudfront_log_delivery(key, self)
        bucket = secure_bucket(
            self, "Bucket", key=key,
            removal_policy=removal,
            auto_delete_objects=False,
            lifecycle_rules=[s3.LifecycleRule(
                id="expire-access-logs",
                expiration=cdk.Duration.days(days),
                noncurrent_version_expiration=cdk.Duration.days(30),
                abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
            )],
        )
        accept(bucket, LOGGING_RULES,
               "This bucket only receives CloudFront access logs; logging access to the log "
               "bucket into another bucket would recurse without adding evidence. Reads and "
               "deletes are recorded by CloudTrail; objects are KMS-encrypted and versioned.")
        accept(bucket, REPLICATION_RULES,
               "CloudFront access logs are operational telemetry (no request bodies, query "
               "strings or customer records) kept with versioning; the security record of "
               "requests is the WAF log. A cross-region replica doubles storage and key "
               "management for no recovery need.")
        return bucket

    @property
    def bucket(self) -> s3.Bucket:
        """The SSE-KMS bucket receiving the access logs."""
        return self._bucket

    @property
    def distribution_arn(self) -> str:
        """ARN of the distribution whose logs are delivered."""
        return self._distribution_arn

    @property
    def delivery(self) -> logs.CfnDelivery:
        """The delivery (its ``RecordFields`` are the logged fields)."""
        return self._delivery

    @property
    def delivery_source(self) -> logs.CfnDeliverySource:
        """The ``ACCESS_LOGS`` delivery source of the distribution."""
        return self._source
