"""Balance history of visible accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from service.db.port import Executor, Params
from service.domain.models import Balance, Membership
from service.domain.money import Money
from service.repositories.scope import VISIBLE_ACCOUNTS, scope_params


def list_balances(
    ex: Executor, scope: Membership, account_id: UUID, *, limit: int
) -> list[Balance]:
    """Latest ``limit`` balances of a visible account, newest first."""
    rows = ex.fetch_all(
        f"""WITH {VISIBLE_ACCOUNTS}
            SELECT b.account_id, b.as_of, b.amount_minor, b.currency
            FROM balances b JOIN visible_accounts va ON va.id = b.account_id
            WHERE b.account_id = :account_id
            ORDER BY b.as_of DESC LIMIT :limit""",  # noqa: S608
        {**scope_params(scope), "account_id": account_id, "limit": limit},
    )
    return [Balance(account_id=r["account_id"], as_of=r["as_of"],
                    amount=Money(int(r["amount_minor"]), r["currency"])) for r in rows]


def insert_balances(
    ex: Executor, family_id: UUID, account_id: UUID,
    points: Sequence[tuple[datetime, int, str]],
) -> None:
    """Record balance points ``(as_of, amount_minor, currency)`` (ingestion path)."""
    param_sets: list[Params] = [
        {"account_id": account_id, "family_id": family_id, "as_of": as_of,
         "amount_minor": amount, "currency": currency}
        for as_of, amount, currency in points
    ]
    if param_sets:
        ex.execute_batch(
            """INSERT INTO balances (account_id, family_id, as_of, amount_minor, currency)
               VALUES (:account_id, :family_id, :as_of, :amount_minor, :currency)
               ON CONFLICT (account_id, as_of) DO NOTHING""",
            param_sets,
        )
