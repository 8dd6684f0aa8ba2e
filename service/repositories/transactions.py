"""Transactions of visible accounts: filtered, keyset-paginated, annotated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from service.db.port import Executor, Params, Row, SqlValue
from service.domain.models import Membership, Role, Transaction, TransactionStatus
from service.domain.money import Money
from service.repositories.scope import (
    VISIBLE_ACCOUNTS,
    VISIBLE_ACCOUNTS_ANY_FAMILY,
    scope_params,
)

_COLUMNS = """t.id, t.account_id, t.status, t.booked_on, t.booked_at, t.description,
              t.merchant, t.amount_minor, t.currency, t.category, t.note"""

LIKE_ESCAPE = "!"


@dataclass(frozen=True, slots=True)
class TransactionFilter:
    """Validated list filters; amounts already in minor units, cursor already decoded."""

    account_id: UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    category: str | None = None
    text: str | None = None
    amount_min_minor: int | None = None
    amount_max_minor: int | None = None
    pending: bool | None = None
    after: tuple[date, UUID] | None = None
    limit: int = 50


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
        id=row["id"], account_id=row["account_id"], status=TransactionStatus(row["status"]),
        booked_on=row["booked_on"], booked_at=row["booked_at"],
        description=row["description"], merchant=row["merchant"],
        amount=Money(int(row["amount_minor"]), row["currency"]),
        category=row["category"], note=row["note"],
    )


def list_transactions(
    ex: Executor, scope: Membership, flt: TransactionFilter
) -> list[Transaction]:
    """Up to ``flt.limit`` visible transactions in (booked_on DESC, id DESC) order.

    Only fixed SQL fragments are concatenated; every value is a bound parameter.
    """
    where = ["t.family_id = :scope_family_id"]
    params: dict[str, SqlValue] = {**scope_params(scope), "limit": flt.limit}
    if flt.account_id is not None:
        where.append("t.account_id = :account_id")
        params["account_id"] = flt.account_id
    if flt.date_from is not None:
        where.append("t.booked_on >= :date_from")
        params["date_from"] = flt.date_from
    if flt.date_to is not None:
        where.append("t.booked_on <= :date_to")
        params["date_to"] = flt.date_to
    if flt.category is not None:
        where.append("t.category = :category")
        params["category"] = flt.category
    if flt.text is not None:
        where.append(
            f"""(t.description ILIKE :text ESCAPE '{LIKE_ESCAPE}'
                 OR t.merchant ILIKE :text ESCAPE '{LIKE_ESCAPE}'
                 OR t.note ILIKE :text ESCAPE '{LIKE_ESCAPE}')"""
        )
        params["text"] = like_pattern(flt.text)
    if flt.amount_min_minor is not None:
        where.append("t.amount_minor >= :amount_min")
        params["amount_min"] = flt.amount_min_minor
    if flt.amount_max_minor is not None:
        where.append("t.amount_minor <= :amount_max")
        params["amount_max"] = flt.amount_max_minor
    if flt.pending is not None:
        where.append("t.status = :status")
        params["status"] = "pending" if flt.pending else "booked"
    if flt.after is not None:
        where.append("(t.booked_on, t.id) < (:after_date, :after_id)")
        params["after_date"], params["after_id"] = flt.after
    rows = ex.fetch_all(
        f"""WITH {VISIBLE_ACCOUNTS}
            SELECT {_COLUMNS} FROM transactions t
            JOIN visible_accounts va ON va.id = t.account_id
            WHERE {" AND ".join(where)}
            ORDER BY t.booked_on DESC, t.id DESC
            LIMIT :limit""",  # noqa: S608
        params,
    )
    return [_transaction(r) for r in rows]


@dataclass(frozen=True, slots=True)
class ScopedTransaction:
    """A visible transaction with its account and the caller's membership."""

    transaction: Transaction
    family_id: UUID
    holder_user_id: UUID
    scope: Membership


def find_transaction(ex: Executor, user_id: UUID, transaction_id: UUID) -> ScopedTransaction | None:
    """A transaction of an account the user may see, or ``None``."""
    row = ex.fetch_one(
        f"""WITH {VISIBLE_ACCOUNTS_ANY_FAMILY}
            SELECT {_COLUMNS}, t.family_id, va.holder_user_id,
                   va.scope_membership_id, va.scope_role
            FROM transactions t JOIN visible_accounts va ON va.id = t.account_id
            WHERE t.id = :transaction_id""",  # noqa: S608
        {"scope_user_id": user_id, "transaction_id": transaction_id},
    )
    if row is None:
        return None
    return ScopedTransaction(
        transaction=_transaction(row), family_id=row["family_id"],
        holder_user_id=row["holder_user_id"],
        scope=Membership(id=row["scope_membership_id"], family_id=row["family_id"],
                         user_id=user_id, role=Role(row["scope_role"])),
    )


def annotate_transaction(
    ex: Executor, scope: Membership, transaction_id: UUID, *,
    category: str | None, set_category: bool, note: str | None, set_note: bool,
) -> Transaction | None:
    """Set category and/or note of a visible transaction; ``None`` if not visible."""
    row = ex.fetch_one(
        f"""WITH {VISIBLE_ACCOUNTS}
            UPDATE transactions t SET
                category = CASE WHEN CAST(:set_category AS boolean)
                                THEN CAST(:category AS text) ELSE t.category END,
                note = CASE WHEN CAST(:set_note AS boolean)
                            THEN CAST(:note AS text) ELSE t.note END,
                updated_at = now()
            FROM visible_accounts va
            WHERE va.id = t.account_id AND t.id = :transaction_id
              AND t.family_id = :scope_family_id
            RETURNING {_COLUMNS}""",  # noqa: S608
        {**scope_params(scope), "transaction_id": transaction_id,
         "category": category, "set_category": set_category,
         "note": note, "set_note": set_note},
    )
    return None if row is None else _transaction(row)


def insert_transactions(
    ex: Executor, family_id: UUID, account_id: UUID, items: Sequence[NewTransaction]
) -> None:
    """Ingest transactions (trusted path: provider sync, demo seed).

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
