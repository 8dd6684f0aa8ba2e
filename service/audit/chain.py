"""The per-family audit chain: what an entry is and how its keyed link is computed.

Each entry's ``hash = HMAC-SHA256(key[key_id], prev_hash || canonical_json(entry))`` where
the entry is ``{family, index, actor, action, target_type, target_id, at, key_id}``
(``at`` in UTC ISO 8601 with microseconds). The key is never sent to the database
(:mod:`service.audit.keys`), so whoever can write the tables cannot append, edit or
re-link an entry that verifies. Chains start at :data:`GENESIS_HASH`; ``audit_heads``
holds each family's last index and hash and is locked by every append (the SQL is in
:mod:`service.repositories.audit`). Entries never hold amounts, tokens or emails.

Entries written before migration 0002 carry ``key_id = 'sha256'``: an unkeyed
``sha256(prev_hash || canonical)`` link without ``key_id`` in the canonical form.
Verification accepts them only as the prefix of a chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from service.audit.keys import AuditKeys

GENESIS_HASH = "0" * 64
LEGACY_KEY_ID = "sha256"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What happened: ``actor`` did ``action`` to ``target_type``/``target_id``."""

    actor: str
    action: str
    target_type: str
    target_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last entry of a family's chain (index 0 and the genesis hash when empty)."""

    family_id: UUID
    index: int
    hash: str


@dataclass(frozen=True, slots=True)
class SealedEntry:
    """An entry ready to insert: the event, its place in the chain and its keyed link."""

    family_id: UUID
    index: int
    event: AuditEvent
    at: datetime
    key_id: str
    prev_hash: str
    hash: str


def canonical_entry(
    *, family_id: UUID, index: int, actor: str, action: str, target_type: str,
    target_id: str | None, at: datetime, key_id: str,
) -> bytes:
    """The exact bytes an entry's link covers."""
    payload: dict[str, Any] = {
        "family": str(family_id), "index": index, "actor": actor, "action": action,
        "target_type": target_type, "target_id": target_id,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    if key_id != LEGACY_KEY_ID:
        payload["key_id"] = key_id
    return json.dumps(payload, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True).encode()


def entry_link(keys: AuditKeys, key_id: str, prev_hash: str, canonical: bytes) -> str:
    """The link of an entry; legacy (pre-0002) entries use plain SHA-256."""
    message = prev_hash.encode("ascii") + canonical
    if key_id == LEGACY_KEY_ID:
        return hashlib.sha256(message).hexdigest()
    return keys.mac(key_id, message)


@dataclass(frozen=True, slots=True)
class AuditSigner:
    """Seals events onto a chain head with the current key.

    Parameters
    ----------
    keys
        The audit keys (:func:`service.audit.keys.local_audit_keys` or the secret).
    clock
        Returns the aware time an entry is stamped with.
    """

    keys: AuditKeys
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def seal(self, head: ChainHead, events: Sequence[AuditEvent]) -> list[SealedEntry]:
        """Chain ``events`` after ``head`` (in order), each keyed with the current key."""
        # Microsecond precision: exactly what timestamptz stores, so verification recomputes it.
        at = self.clock().astimezone(UTC)
        key_id = self.keys.current
        prev, index = head.hash, head.index
        sealed: list[SealedEntry] = []
        for event in events:
            index += 1
            digest = entry_link(self.keys, key_id, prev, canonical_entry(
                family_id=head.family_id, index=index, actor=event.actor, action=event.action,
                target_type=event.target_type, target_id=event.target_id, at=at, key_id=key_id,
            ))
            sealed.append(SealedEntry(family_id=head.family_id, index=index, event=event,
                                      at=at, key_id=key_id, prev_hash=prev, hash=digest))
            prev = digest
        return sealed
