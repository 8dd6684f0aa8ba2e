"""Transactions of visible accounts: filtered, keyset-paginated, annotated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from service.audit.chain import ChainHead, SealedEntry
from service.db.port import Executor, Params, Row, SqlValue
from service.domain.models import Membership, Transaction, TransactionStatus
from service.domain.money import Money
from service.domain.principal import Principal
from service.domain.queries import TransactionQuery
from service.repositories.audit import append_ctes, head_of
from service.repositories.scope import (
    SCOPE,
    SCOPE_COLUMNS,
    VISIBLE_ACCOUNTS,
    caller_params,
    family_params,
    lock_statement,
    scope_of,
)

# ``category`` is the taxonomy id (0006); the raw column ``t.category`` holds what ingestion
# stored (the provider's category), an input of categorisation, and is not shown.
_COLUMNS = """t.id, t.account_id, t.status, t.booked_on, t.booked_at, t.description,
              t.merchant, t.amount_minor, t.currency, t.category_id, t.category_source,
              t.category_confidence, t.note"""

LIKE_ESCAPE = "!"
# A dict lookup: calling the enum per row costs more than the rest of the row's mapping.
_STATUS = {status.value: status for status in TransactionStatus}


@dataclass(frozen=True, slots=True)
class NewTransaction:
    """A transaction to ingest."""

    provider_transaction_id: str
    status: TransactionStatus
    booked_on: date
    booked_at: datetime | None
    description: str
    merchant: str | None
    amount_minor: int
    currency: str
    category: str | None


def like_pattern(text: str) -> str:
    """A case-insensitive *contains* pattern with LIKE wildcards in ``text`` escaped."""
    escaped = (text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
               .replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_"))
    return f"%{escaped}%"


def _transaction(row: Row) -> Transaction:
    return Transaction(
        id=row["id"], account_id=row["account_id"], status=_STATUS[row["status"]],
        booked_on=row["booked_on"], booked_at=row["booked_at"],
        description=row["description"], merchant=row["merchant"],
        amount=Money(int(row["amount_minor"]), row["currency"]),
        category=row["category_id"], note=row["note"],
        category_source=row["category_source"],
        category_confidence=None if row["category_confidence"] is None
        else float(row["category_confidence"]),
    )


def list_transactions(
    ex: Executor, principal: Principal, family_id: UUID, query: TransactionQuery
) -> tuple[Membership | None, list[Transaction]]:
    """The caller's scope (``None``: not a member) and up to ``query.limit + 1`` visible
    transactions in (booked_on DESC, id DESC) order, in ONE statement.

    The extra row tells the caller whether there is a next page. Only fixed SQL fragments
    are concatenated; every value is a bound parameter.
    """
    where = ["t.family_id = s.family_id"]
    params: dict[str, SqlValue] = {**family_params(principal, family_id),
                                   "limit": query.limit + 1}
    if query.account_id is not None:
        where.append("t.account_id = :account_id")
        params["account_id"] = query.account_id
    if query.date_from is not None:
        where.append("t.booked_on >= :date_from")
        params["date_from"] = query.date_from
    if query.date_to is not None:
        where.append("t.booked_on <= :date_to")
        params["date_to"] = query.date_to
    if query.category is not None:
        where.append("t.category_id = :category")
        params["category"] = query.category
    if query.text:
        where.append(
            f"""(t.description ILIKE :text ESCAPE '{LIKE_ESCAPE}'
                 OR t.merchant ILIKE :text ESCAPE '{LIKE_ESCAPE}'
                 OR t.note ILIKE :text ESCAPE '{LIKE_ESCAPE}')"""
        )
        params["text"] = like_pattern(query.text)
    if query.amount_min_minor is not None:
        where.append("t.amount_minor >= :amount_min")
        params["amount_min"] = query.amount_min_minor
    if query.amount_max_minor is not None:
        where.append("t.amount_minor <= :amount_max")
        params["amount_max"] = query.amount_max_minor
    if query.pending is not None:
        where.append("t.status = :status")
        params["status"] = (TransactionStatus.PENDING if query.pending
                            else TransactionStatus.BOOKED).value
    after = query.after
    if after is not None:
        where.append("(t.booked_on, t.id) < (:after_date, :after_id)")
        params["after_date"], params["after_id"] = after
    rows = ex.fetch_all(
        f"""WITH {SCOPE}, {VISIBLE_ACCOUNTS}
            SELECT {SCOPE_COLUMNS}, p.*
            FROM scope s LEFT JOIN LATERAL (
                SELECT {_COLUMNS} FROM transactions t
                JOIN visible_accounts va ON va.id = t.account_id
                WHERE {" AND ".join(where)}
                ORDER BY t.booked_on DESC, t.id DESC
                LIMIT :limit) p ON true
            ORDER BY p.booked_on DESC, p.id DESC""",  # noqa: S608
        params,
    )
    if not rows:
        return None, []
    return scope_of(rows[0]), [_transaction(r) for r in rows if r["id"] is not None]


@dataclass(frozen=True, slots=True)
class ScopedTransaction:
    """A visible transaction with its family and the caller's membership."""

    transaction: Transaction
    family_id: UUID
    scope: Membership


def lock_transaction(
    ex: Executor, principal: Principal, transaction_id: UUID
) -> tuple[ScopedTransaction, ChainHead] | None:
    """A visible transaction with the caller's scope, its family locked for a write."""
    row = ex.fetch_one(
        lock_statement(
            columns=_COLUMNS,
            joins="""JOIN transactions t ON t.family_id = m.family_id AND t.id = :transaction_id
                     JOIN accounts a ON a.id = t.account_id""",
            where="""AND (a.holder_user_id = m.user_id
                         OR (m.role IN ('owner', 'adult') AND a.visibility = 'family'))""",
        ),
        {**caller_params(principal), "transaction_id": transaction_id},
    )
    if row is None:
        return None
    scope = scope_of(row)
    return (ScopedTransaction(transaction=_transaction(row), family_id=scope.family_id,
                              scope=scope), head_of(row))


def annotate_transaction(
    ex: Executor, principal: Principal, scope: Membership, transaction_id: UUID, *,
    category: str | None, set_category: bool, note: str | None, set_note: bool,
    entries: Sequence[SealedEntry],
) -> Transaction | None:
    """Set category (a taxonomy id, recorded as the member's) and/or note of a visible
    transaction and audit it (one statement)."""
    audit, audit_params = append_ctes(entries)
    row = ex.fetch_one(
        f"""WITH {SCOPE}, {VISIBLE_ACCOUNTS},
            change AS (
                UPDATE transactions t SET
                    -- A member's choice (or clearing it, back to automatic on the next
                    -- refresh); the raw provider category in t.category is kept.
                    category_id = CASE WHEN CAST(:set_category AS boolean)
                                       THEN CAST(:category AS text) ELSE t.category_id END,
                    category_source = CASE WHEN NOT CAST(:set_category AS boolean)
                                           THEN t.category_source
                                           WHEN CAST(:category AS text) IS NULL THEN NULL
                                           ELSE 'member' END,
                    category_confidence = CASE WHEN NOT CAST(:set_category AS boolean)
                                               THEN t.category_confidence
                                               WHEN CAST(:category AS text) IS NULL THEN NULL
                                               ELSE 1 END,
                    note = CASE WHEN CAST(:set_note AS boolean)
                                THEN CAST(:note AS text) ELSE t.note END,
                    updated_at = now()
                FROM visible_accounts va
                WHERE va.id = t.account_id AND t.id = :transaction_id
                  AND t.family_id = :scope_family_id
                RETURNING {_COLUMNS}),
            {audit}
            SELECT * FROM change""",  # noqa: S608
        {**family_params(principal, scope.family_id), "transaction_id": transaction_id,
         "category": category, "set_category": set_category,
         "note": note, "set_note": set_note, **audit_params},
    )
    return None if row is None else _transaction(row)


def insert_transactions(
    ex: Executor, family_id: UUID, account_id: UUID, items: Sequence[NewTransaction]
) -> None:
    """Ingest transactions (trusted path: provider sync, demo seed).

    The caller's transaction must hold the family's lock (an account insert or
    :func:`service.repositories.families.find_membership` takes it).

    Idempotent per (account, provider transaction id); a pending row is updated in place
    when it books.
    """
    param_sets: list[Params] = [
        {"family_id": family_id, "account_id": account_id,
         "provider_transaction_id": t.provider_transaction_id, "status": t.status.value,
         "booked_on": t.booked_on, "booked_at": t.booked_at, "description": t.description,
         "merchant": t.merchant, "amount_minor": t.amount_minor, "currency": t.currency,
         "category": t.category}
        for t in items
    ]
    if param_sets:
        ex.execute_batch(
            """INSERT INTO transactions (family_id, account_id, provider_transaction_id, status,
                   booked_on, booked_at, description, merchant, amount_minor, currency, category)
               VALUES (:family_id, :account_id, :provider_transaction_id, :status, :booked_on,
                   :booked_at, :description, :merchant, :amount_minor, :currency, :category)
               ON CONFLICT (account_id, provider_transaction_id) DO UPDATE SET
                   status = EXCLUDED.status, booked_on = EXCLUDED.booked_on,
                   booked_at = EXCLUDED.booked_at, amount_minor = EXCLUDED.amount_minor,
                   updated_at = now()
               WHERE transactions.status = 'pending'""",
            param_sets,
        )
