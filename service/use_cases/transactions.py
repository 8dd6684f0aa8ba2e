"""Searching and annotating transactions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from service.db.port import Database
from service.domain.cursor import decode_transaction_cursor, encode_transaction_cursor
from service.domain.errors import NotFoundError, ValidationFailedError
from service.domain.models import Page, Transaction
from service.domain.money import to_minor
from service.domain.principal import Principal
from service.repositories import transactions
from service.repositories.transactions import TransactionFilter
from service.use_cases._common import audit, caller, membership

TRANSACTION_NOT_FOUND = "Transaction not found."
MAX_LIMIT = 200
#: Amount filters are in major units of two-decimal currencies (the family's GBP accounts).
FILTER_CURRENCY = "GBP"


@dataclass(frozen=True, slots=True)
class TransactionSearch:
    """What the caller asked for (already type-checked by the API layer)."""

    account_id: UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    category: str | None = None
    text: str | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    pending: bool | None = None
    cursor: str | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class Annotation:
    """A partial update of a transaction's category and note."""

    fields_set: frozenset[str]
    category: str | None = None
    note: str | None = None


def _to_filter(search: TransactionSearch) -> TransactionFilter:
    if not 1 <= search.limit <= MAX_LIMIT:
        raise ValidationFailedError(f"limit must be between 1 and {MAX_LIMIT}.")
    if search.date_from and search.date_to and search.date_from > search.date_to:
        raise ValidationFailedError("date_from must not be after date_to.")
    amount_min = None if search.amount_min is None else to_minor(search.amount_min,
                                                                 FILTER_CURRENCY)
    amount_max = None if search.amount_max is None else to_minor(search.amount_max,
                                                                 FILTER_CURRENCY)
    if amount_min is not None and amount_max is not None and amount_min > amount_max:
        raise ValidationFailedError("amount_min must not be greater than amount_max.")
    return TransactionFilter(
        account_id=search.account_id, date_from=search.date_from, date_to=search.date_to,
        category=search.category, text=search.text or None,
        amount_min_minor=amount_min, amount_max_minor=amount_max, pending=search.pending,
        after=None if search.cursor is None else decode_transaction_cursor(search.cursor),
        limit=search.limit + 1,  # one extra row tells whether there is a next page
    )


def list_transactions(
    db: Database, principal: Principal, family_id: UUID, search: TransactionSearch
) -> Page[Transaction]:
    """One page of the family's visible transactions, newest first (booked_on, id)."""
    flt = _to_filter(search)
    with db.transaction() as tx:
        user = caller(tx, principal)
        scope = membership(tx, user, family_id)
        rows = transactions.list_transactions(tx, scope, flt)
        audit(tx, family_id, user, "transactions.list", ("family", family_id))
    items = rows[: search.limit]
    next_cursor = None
    if len(rows) > search.limit:
        last = items[-1]
        next_cursor = encode_transaction_cursor(last.booked_on, last.id)
    return Page(items=items, next_cursor=next_cursor)


def annotate_transaction(
    db: Database, principal: Principal, transaction_id: UUID, annotation: Annotation
) -> Transaction:
    """Set category and/or note. Anyone who can see a transaction may annotate it."""
    with db.transaction() as tx:
        user = caller(tx, principal)
        found = transactions.find_transaction(tx, user.id, transaction_id)
        if found is None:
            raise NotFoundError(TRANSACTION_NOT_FOUND)
        updated = transactions.annotate_transaction(
            tx, found.scope, transaction_id,
            category=annotation.category, set_category="category" in annotation.fields_set,
            note=annotation.note, set_note="note" in annotation.fields_set,
        )
        if updated is None:
            raise NotFoundError(TRANSACTION_NOT_FOUND)
        audit(tx, found.family_id, user, "transaction.annotate", ("transaction", transaction_id))
        return updated
