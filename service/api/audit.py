"""The family audit trail (owners only)."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint

from service.api.schemas import AuditPage, AuditQuery
from service.domain.models import AuditEntry, Page
from service.http import current_database, current_principal, endpoint
from service.use_cases import audit as uc

bp = Blueprint("audit", __name__, url_prefix="/v1")


@endpoint(bp, "GET", "/families/<fid>/audit", query=AuditQuery, response=AuditPage,
          summary="Audit trail", tags=["audit"],
          responses={403: "Only owners read the audit trail", 404: "Not a member"})
def list_audit(*, fid: UUID, query: AuditQuery) -> Page[AuditEntry]:
    """Who changed what in the family, newest first (never amounts or tokens)."""
    return uc.list_audit(current_database(), current_principal(), fid, cursor=query.cursor,
                         limit=query.limit)
