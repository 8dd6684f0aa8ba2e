"""Anchors: copies of every chain's last link kept OUTSIDE the database.

A keyed chain stops anyone without the key from forging or editing entries, but someone
who can write the database could still delete a chain's tail, or a whole chain. An
anchor taken every ``AUDIT_ANCHOR_INTERVAL_MINUTES`` (a schedule in AWS, on demand
locally: ``flask --app service audit anchor``) records ``(index, hash)`` of every
family's last entry; :func:`service.audit.verify.verify_chain` checks that each anchored
chain still reaches its anchored entry unchanged.

Stores (:class:`AnchorStore`): :class:`S3AnchorStore` (``AUDIT_ANCHOR_BUCKET``, a bucket
with Object Lock in compliance mode, so no principal, root included, can delete or
overwrite an anchor during its retention) and :class:`DirectoryAnchorStore` (``.local/``).
Object keys sort newest first, so the latest anchor is one ``ListObjectsV2`` call away.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from service.db.port import Executor
from service.repositories import audit as audit_sql

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_FORMAT = 1
_NEWEST_FIRST = 10**17  # microseconds since 1970 stay below this until year 5138


@dataclass(frozen=True, slots=True)
class Anchor:
    """Every chain's last ``(index, hash)`` at ``taken_at``."""

    taken_at: datetime
    heads: Mapping[UUID, tuple[int, str]]

    def to_json(self) -> bytes:
        """The stored form (canonical JSON)."""
        return json.dumps({
            "format": _FORMAT, "taken_at": self.taken_at.astimezone(UTC).isoformat(),
            "heads": {str(k): {"index": i, "hash": h}
                      for k, (i, h) in sorted(self.heads.items(), key=lambda kv: str(kv[0]))},
        }, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Anchor:
        """Parse the stored form."""
        document = json.loads(data)
        return cls(taken_at=datetime.fromisoformat(document["taken_at"]),
                   heads={UUID(k): (int(v["index"]), str(v["hash"]))
                          for k, v in document["heads"].items()})

    @property
    def name(self) -> str:
        """Object/file name: sorts newest first."""
        micros = int(self.taken_at.timestamp() * 1_000_000)
        return f"{_NEWEST_FIRST - micros:017d}-{self.taken_at:%Y%m%dT%H%M%S}Z.json"


class AnchorStore(Protocol):
    """Where anchors are kept (write once, never changed)."""

    def put(self, anchor: Anchor) -> str:
        """Store ``anchor``; return where it went."""
        ...

    def latest(self) -> Anchor | None:
        """The newest anchor, or ``None`` before the first."""
        ...


class S3AnchorStore:
    """Anchors as objects in an Object Lock (compliance mode) bucket.

    Parameters
    ----------
    bucket
        The bucket (``AUDIT_ANCHOR_BUCKET``); its default retention applies to each object.
    s3_client
        A boto3 ``s3`` client.
    prefix
        Key prefix of the anchors.
    retain_days
        Also lock each object explicitly (compliance mode) for this many days, so the
        guarantee does not rest on the bucket's default retention alone; ``None``: the
        bucket default only.
    """

    def __init__(
        self, bucket: str, s3_client: S3Client, *, prefix: str = "audit-anchors/",
        retain_days: int | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.retain_days = retain_days
        self._s3 = s3_client

    def put(self, anchor: Anchor) -> str:
        key = self.prefix + anchor.name
        lock: dict[str, Any] = {}
        if self.retain_days is not None:
            lock = {"ObjectLockMode": "COMPLIANCE",
                    "ObjectLockRetainUntilDate": datetime.now(UTC)
                    + timedelta(days=self.retain_days)}
        # Object Lock buckets require an integrity checksum on every PutObject.
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=anchor.to_json(),
                            ContentType="application/json", ChecksumAlgorithm="SHA256",
                            **lock)
        return f"s3://{self.bucket}/{key}"

    def latest(self) -> Anchor | None:
        listed = self._s3.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1)
        contents = listed.get("Contents") or []
        if not contents:
            return None
        body = self._s3.get_object(Bucket=self.bucket, Key=contents[0]["Key"])["Body"]
        return Anchor.from_json(body.read())


class DirectoryAnchorStore:
    """Anchors as files in a local directory (laptops, tests)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def put(self, anchor: Anchor) -> str:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.directory / anchor.name
        with path.open("xb") as handle:  # never overwrite
            handle.write(anchor.to_json())
        return str(path)

    def latest(self) -> Anchor | None:
        names = sorted(self.directory.glob("*.json")) if self.directory.is_dir() else []
        return Anchor.from_json(names[0].read_bytes()) if names else None


def take_anchor(
    db: Executor, store: AnchorStore, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> tuple[Anchor, str]:
    """Record every chain's last entry in ``store``; return the anchor and its location."""
    anchor = Anchor(taken_at=clock(), heads=audit_sql.last_links(db))
    return anchor, store.put(anchor)


def anchor_summary(anchor: Anchor) -> dict[str, Any]:
    """A loggable summary (no hashes)."""
    return {"taken_at": anchor.taken_at.isoformat(), "chains": len(anchor.heads)}
