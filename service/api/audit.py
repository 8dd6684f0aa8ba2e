"""The family audit trail (owners only)."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint

from service.api.schemas import AuditEntryOut, AuditPage, AuditQuery
from service.http import current_database, current_principal, endpoint
from service.use_cases import audit as uc

bp = Blueprint("audit", __name__, url_prefix="/v1")


@endpoint(bp, "GET", "/families/<fid>/audit", query=AuditQuery, response=AuditPage,
          summary="Audit trail", tags=["audit"],
          responses={403: "Only owners read the audit trail", 404: "Not a member"})
def list_audit(*, fid: UUID, query: AuditQuery) -> AuditPage:
    """Who read or changed what in the family, newest first (never amounts or tokens)."""
    page = uc.list_audit(current_database(), current_principal(), fid, cursor=query.cursor,
                         limit=query.limit)
    return AuditPage(items=[AuditEntryOut.model_validate(e) for e in page.items],
                     next_cursor=page.next_cursor)
