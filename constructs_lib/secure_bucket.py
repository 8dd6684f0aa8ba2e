"""The one way the library creates an S3 bucket: private, TLS 1.2+ only, versioned, owned.

Every bucket of the library (the CloudFront log bucket, the audit anchor and manifest
buckets, the server access log buckets) shares these settings; what differs (retention,
lifecycle, Object Lock, access logging) is passed in. A setting below cannot be passed: a
caller who tried to weaken one gets a ``TypeError``, never a silently weaker bucket.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

__all__ = ["secure_bucket"]

_FIXED = ("block_public_access", "enforce_ssl", "minimum_tls_version", "versioned",
          "object_ownership", "encryption", "encryption_key", "bucket_key_enabled")


def secure_bucket(scope: Construct, id_: str, *, key: kms.IKey | None, **props: Any) -> s3.Bucket:
    """A bucket with the library's fixed settings plus ``props`` (``s3.Bucket`` keywords).

    ``key``: SSE-KMS under that customer-managed key with an S3 Bucket Key; ``None`` only for
    a bucket S3 server access logs are delivered to, which takes SSE-S3 and nothing else.

    Raises
    ------
    TypeError
        ``props`` names one of the fixed settings.
    """
    fixed = sorted(set(props) & set(_FIXED))
    if fixed:
        raise TypeError(f"secure_bucket fixes {', '.join(fixed)}; they cannot be passed")
    encryption: dict[str, Any] = (
        {"encryption": s3.BucketEncryption.S3_MANAGED} if key is None else
        {"encryption": s3.BucketEncryption.KMS, "encryption_key": key,
         "bucket_key_enabled": True})
    return s3.Bucket(
        scope, id_,
        **encryption,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        **props,
    )
