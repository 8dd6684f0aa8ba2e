"""The family audit trail, for owners."""

from __future__ import annotations

from uuid import UUID

from service.audit import record_read
from service.db.port import Database
from service.domain.cursor import decode_seq_cursor, encode_seq_cursor
from service.domain.models import AuditEntry, Page, Role
from service.domain.principal import Principal
from service.repositories import audit as audit_sql
from service.use_cases._common import found, require_role


def list_audit(
    db: Database, principal: Principal, family_id: UUID, *, cursor: str | None, limit: int
) -> Page[AuditEntry]:
    """A page of the family's audit trail, newest first (owners only). One statement.

    Reading the trail is not itself chained (see :mod:`service.audit.access_log`).
    """
    before = None if cursor is None else decode_seq_cursor(cursor)
    scope, rows = audit_sql.list_entries(db, principal, family_id, before_seq=before,
                                         limit=limit + 1)
    scope = found(scope)
    require_role(scope, Role.OWNER, to="read the audit trail")
    record_read(family_id=family_id, user_id=scope.user_id, action="audit.read",
                target=("family", family_id))
    items = rows[:limit]
    next_cursor = encode_seq_cursor(items[-1].seq) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)
