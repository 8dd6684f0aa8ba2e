"""The append-only, hash-chained audit trail (one chain per family)."""

from __future__ import annotations

from service.audit.chain import (
    GENESIS_HASH,
    AuditEvent,
    append,
    entry_hash,
    init_chain,
    list_entries,
)
from service.audit.verify import VerificationResult, verify_chain

__all__ = [
    "GENESIS_HASH",
    "AuditEvent",
    "VerificationResult",
    "append",
    "entry_hash",
    "init_chain",
    "list_entries",
    "verify_chain",
]
