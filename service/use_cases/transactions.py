"""Searching and annotating transactions."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from service.audit import AuditSigner, record_read
from service.db.port import Database
from service.domain.cursor import encode_transaction_cursor
from service.domain.errors import NotFoundError
from service.domain.models import Page, Transaction
from service.domain.principal import Principal
from service.domain.queries import TransactionQuery
from service.repositories import transactions
from service.use_cases._common import event, found

TRANSACTION_NOT_FOUND = "Transaction not found."


@dataclass(frozen=True, slots=True)
class Annotation:
    """A partial update of a transaction's category and note."""

    fields_set: frozenset[str]
    category: str | None = None
    note: str | None = None


def list_transactions(
    db: Database, principal: Principal, family_id: UUID, query: TransactionQuery
) -> Page[Transaction]:
    """One page of the family's visible transactions, newest first (booked_on, id).

    One statement: caller, membership and visibility are resolved in the query itself.
    """
    scope, rows = transactions.list_transactions(db, principal, family_id, query)
    scope = found(scope)
    record_read(family_id=family_id, user_id=scope.user_id, action="transactions.list",
                target=("family", family_id))
    items = rows[: query.limit]
    next_cursor = None
    if len(rows) > query.limit:
        last = items[-1]
        next_cursor = encode_transaction_cursor(last.booked_on, last.id)
    return Page(items=items, next_cursor=next_cursor)


def annotate_transaction(
    db: Database, signer: AuditSigner, principal: Principal, transaction_id: UUID,
    annotation: Annotation,
) -> Transaction:
    """Set category and/or note. Anyone who can see a transaction may annotate it."""
    with db.transaction() as tx:
        locked = transactions.lock_transaction(tx, principal, transaction_id)
        if locked is None:
            raise NotFoundError(TRANSACTION_NOT_FOUND)
        current, head = locked
        entries = signer.seal(head, [event(current.scope.user_id, "transaction.annotate",
                                           ("transaction", transaction_id))])
        updated = transactions.annotate_transaction(
            tx, principal, current.scope, transaction_id,
            category=annotation.category, set_category="category" in annotation.fields_set,
            note=annotation.note, set_note="note" in annotation.fields_set, entries=entries,
        )
        if updated is None:
            raise NotFoundError(TRANSACTION_NOT_FOUND)
        return updated
