"""The family audit trail, for owners."""

from __future__ import annotations

from uuid import UUID

from service.audit import list_entries
from service.db.port import Database
from service.domain.cursor import decode_seq_cursor, encode_seq_cursor
from service.domain.errors import ValidationFailedError
from service.domain.models import AuditEntry, Page, Role
from service.domain.principal import Principal
from service.use_cases._common import audit, caller, membership, require_role

MAX_LIMIT = 200


def list_audit(
    db: Database, principal: Principal, family_id: UUID, *, cursor: str | None, limit: int
) -> Page[AuditEntry]:
    """A page of the family's audit trail, newest first (owners only)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailedError(f"limit must be between 1 and {MAX_LIMIT}.")
    before = None if cursor is None else decode_seq_cursor(cursor)
    with db.transaction() as tx:
        user = caller(tx, principal)
        scope = membership(tx, user, family_id)
        require_role(scope, Role.OWNER, to="read the audit trail")
        rows = list_entries(tx, family_id, before_seq=before, limit=limit + 1)
        audit(tx, family_id, user, "audit.read", ("family", family_id))
    items = rows[:limit]
    next_cursor = encode_seq_cursor(items[-1].seq) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)
