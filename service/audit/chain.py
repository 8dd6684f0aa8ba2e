"""Appending to and reading the per-family audit hash chain.

Each entry's ``hash = sha256(prev_hash || canonical_json(entry))`` where the entry is
``{family, index, actor, action, target_type, target_id, at}`` (``at`` in UTC ISO 8601
with microseconds). ``audit_heads`` holds each family's last index and hash; an append
locks that row (``SELECT ... FOR UPDATE``) in the caller's transaction, so concurrent
appends to one family serialise and cannot fork the chain, and appends to different
families do not contend. Entries never hold amounts, tokens or emails.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from service.db.port import Executor
from service.domain.models import AuditEntry

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What happened: ``actor`` did ``action`` to ``target_type``/``target_id``."""

    actor: str
    action: str
    target_type: str
    target_id: str | None = None


def canonical_entry(
    *, family_id: UUID, index: int, actor: str, action: str, target_type: str,
    target_id: str | None, at: datetime,
) -> bytes:
    """The exact bytes hashed for an entry."""
    payload: dict[str, Any] = {
        "family": str(family_id), "index": index, "actor": actor, "action": action,
        "target_type": target_type, "target_id": target_id,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True).encode()


def entry_hash(prev_hash: str, canonical: bytes) -> str:
    """``sha256(prev_hash || canonical)`` as lowercase hex."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical).hexdigest()


def init_chain(ex: Executor, family_id: UUID) -> None:
    """Create the empty chain head of a new family (idempotent)."""
    ex.execute(
        """INSERT INTO audit_heads (family_id, chain_index, hash)
           VALUES (:family_id, 0, :genesis) ON CONFLICT (family_id) DO NOTHING""",
        {"family_id": family_id, "genesis": GENESIS_HASH},
    )


def append(ex: Executor, family_id: UUID, event: AuditEvent) -> int:
    """Append ``event`` to the family's chain in the caller's transaction; return its seq.

    Call inside the use case's transaction so the entry commits (or rolls back) with
    the change it records.
    """
    head = ex.fetch_one(
        "SELECT chain_index, hash FROM audit_heads WHERE family_id = :family_id FOR UPDATE",
        {"family_id": family_id},
    )
    if head is None:
        init_chain(ex, family_id)
        head = ex.fetch_one(
            "SELECT chain_index, hash FROM audit_heads WHERE family_id = :family_id FOR UPDATE",
            {"family_id": family_id},
        )
        assert head is not None
    index = int(head["chain_index"]) + 1
    # Microsecond precision: exactly what timestamptz stores, so verification recomputes it.
    at = datetime.now(UTC)
    digest = entry_hash(head["hash"], canonical_entry(
        family_id=family_id, index=index, actor=event.actor, action=event.action,
        target_type=event.target_type, target_id=event.target_id, at=at,
    ))
    row = ex.fetch_one(
        """INSERT INTO audit_log (family_id, chain_index, actor, action, target_type,
                                  target_id, at, prev_hash, hash)
           VALUES (:family_id, :index, :actor, :action, :target_type, :target_id, :at,
                   :prev_hash, :hash)
           RETURNING seq""",
        {"family_id": family_id, "index": index, "actor": event.actor, "action": event.action,
         "target_type": event.target_type, "target_id": event.target_id, "at": at,
         "prev_hash": head["hash"], "hash": digest},
    )
    assert row is not None
    ex.execute(
        "UPDATE audit_heads SET chain_index = :index, hash = :hash WHERE family_id = :family_id",
        {"index": index, "hash": digest, "family_id": family_id},
    )
    return int(row["seq"])


def list_entries(
    ex: Executor, family_id: UUID, *, before_seq: int | None, limit: int
) -> list[AuditEntry]:
    """Entries of one family, newest first (the caller checks the owner role)."""
    where = "family_id = :family_id"
    params: dict[str, Any] = {"family_id": family_id, "limit": limit}
    if before_seq is not None:
        where += " AND seq < :before_seq"
        params["before_seq"] = before_seq
    rows = ex.fetch_all(
        f"""SELECT seq, actor, action, target_type, target_id, at FROM audit_log
            WHERE {where} ORDER BY seq DESC LIMIT :limit""",  # noqa: S608
        params,
    )
    return [AuditEntry(seq=int(r["seq"]), actor=r["actor"], action=r["action"],
                       target_type=r["target_type"], target_id=r["target_id"], at=r["at"])
            for r in rows]
