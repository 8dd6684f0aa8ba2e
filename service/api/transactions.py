"""Transactions: filtered, cursor-paginated list; category and note."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint

from service.api.schemas import (
    MoneyOut,
    TransactionOut,
    TransactionPage,
    TransactionPatch,
    TransactionQuery,
)
from service.domain.models import Transaction
from service.http import current_database, current_principal, endpoint
from service.use_cases import transactions as uc

bp = Blueprint("transactions", __name__, url_prefix="/v1")


def _out(t: Transaction) -> TransactionOut:
    return TransactionOut(id=t.id, account_id=t.account_id, status=t.status.value,
                          booked_on=t.booked_on, booked_at=t.booked_at,
                          description=t.description, merchant=t.merchant,
                          amount=MoneyOut.of(t.amount), category=t.category, note=t.note)


@endpoint(bp, "GET", "/families/<fid>/transactions", query=TransactionQuery,
          response=TransactionPage, summary="List transactions", tags=["transactions"],
          responses={404: "Not a member"})
def list_transactions(*, fid: UUID, query: TransactionQuery) -> TransactionPage:
    """Transactions of the accounts the caller may see, newest first (booked date, then id).
    Pass ``next_cursor`` back as ``cursor`` for the next page; the order is stable."""
    search = uc.TransactionSearch(
        account_id=query.account_id, date_from=query.date_from, date_to=query.date_to,
        category=query.category, text=query.text, amount_min=query.amount_min,
        amount_max=query.amount_max, pending=query.pending, cursor=query.cursor,
        limit=query.limit,
    )
    page = uc.list_transactions(current_database(), current_principal(), fid, search)
    return TransactionPage(items=[_out(t) for t in page.items], next_cursor=page.next_cursor)


@endpoint(bp, "PATCH", "/transactions/<tid>", body=TransactionPatch, response=TransactionOut,
          summary="Categorise or annotate a transaction", tags=["transactions"],
          responses={404: "Not visible to the caller"})
def patch_transaction(*, tid: UUID, body: TransactionPatch) -> TransactionOut:
    """Anyone who can see a transaction may set its category and note (``null`` clears)."""
    annotation = uc.Annotation(fields_set=frozenset(body.model_fields_set),
                               category=body.category, note=body.note)
    return _out(uc.annotate_transaction(current_database(), current_principal(), tid,
                                        annotation))
