"""The audit trail: a keyed, anchored hash chain per family for writes; a log for reads.

* :mod:`~service.audit.keys`: the HMAC keys (Secrets Manager, or a local key).
* :mod:`~service.audit.chain`: entries and their keyed links (:class:`AuditSigner`).
* :mod:`~service.audit.anchors`: chain heads copied outside the database.
* :mod:`~service.audit.verify`: ``audit verify``.
* :mod:`~service.audit.access_log`: reads of family data.

The SQL is in :mod:`service.repositories.audit`.
"""

from __future__ import annotations

from service.audit.access_log import record_read
from service.audit.anchors import (
    Anchor,
    AnchorStore,
    DirectoryAnchorStore,
    S3AnchorStore,
    take_anchor,
)
from service.audit.chain import (
    GENESIS_HASH,
    AuditEvent,
    AuditSigner,
    ChainHead,
    SealedEntry,
    canonical_entry,
    entry_link,
)
from service.audit.keys import AuditKeyError, AuditKeys, local_audit_keys
from service.audit.verify import VerificationResult, verify_chain

__all__ = [
    "GENESIS_HASH",
    "Anchor",
    "AnchorStore",
    "AuditEvent",
    "AuditKeyError",
    "AuditKeys",
    "AuditSigner",
    "ChainHead",
    "DirectoryAnchorStore",
    "S3AnchorStore",
    "SealedEntry",
    "VerificationResult",
    "canonical_entry",
    "entry_link",
    "local_audit_keys",
    "record_read",
    "take_anchor",
    "verify_chain",
]
