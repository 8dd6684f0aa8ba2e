"""Transactions: filtered, cursor-paginated list; category and note."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint

from service.api._deps import audit_signer
from service.api.schemas import TransactionOut, TransactionPage, TransactionPatch, TransactionQuery
from service.domain.models import Page, Transaction
from service.http import current_database, current_principal, endpoint
from service.use_cases import transactions as uc

bp = Blueprint("transactions", __name__, url_prefix="/v1")


@endpoint(bp, "GET", "/families/<fid>/transactions", query=TransactionQuery,
          response=TransactionPage, summary="List transactions", tags=["transactions"],
          responses={404: "Not a member"})
def list_transactions(*, fid: UUID, query: TransactionQuery) -> Page[Transaction]:
    """Transactions of the accounts the caller may see, newest first (booked date, then id).
    Pass ``next_cursor`` back as ``cursor`` for the next page; the order is stable."""
    return uc.list_transactions(current_database(), current_principal(), fid, query)


@endpoint(bp, "PATCH", "/transactions/<tid>", body=TransactionPatch, response=TransactionOut,
          summary="Categorise or annotate a transaction", tags=["transactions"],
          responses={404: "Not visible to the caller"})
def patch_transaction(*, tid: UUID, body: TransactionPatch) -> Transaction:
    """Anyone who can see a transaction may set its category and note (``null`` clears)."""
    annotation = uc.Annotation(fields_set=frozenset(body.model_fields_set),
                               category=body.category, note=body.note)
    return uc.annotate_transaction(current_database(), audit_signer(), current_principal(),
                                   tid, annotation)
