"""Balance history of visible accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from service.db.port import Executor, Params
from service.domain.models import Balance, Membership
from service.domain.money import Money
from service.domain.principal import Principal
from service.repositories.scope import (
    SCOPE_ANY_FAMILY,
    VISIBLE_ACCOUNTS,
    caller_params,
    scope_of,
)


def list_balances(
    ex: Executor, principal: Principal, account_id: UUID, *, limit: int
) -> tuple[Membership | None, list[Balance]]:
    """The caller's scope (``None``: account not visible) and its latest balances."""
    rows = ex.fetch_all(
        f"""WITH {SCOPE_ANY_FAMILY}, {VISIBLE_ACCOUNTS}
            SELECT va.scope_membership_id, va.scope_role, va.scope_user_id,
                   va.family_id AS scope_family, b.as_of, b.amount_minor, b.currency
            FROM visible_accounts va LEFT JOIN LATERAL (
                SELECT as_of, amount_minor, currency FROM balances
                WHERE account_id = va.id ORDER BY as_of DESC LIMIT :limit) b ON true
            WHERE va.id = :account_id
            ORDER BY b.as_of DESC""",  # noqa: S608
        {**caller_params(principal), "account_id": account_id, "limit": limit},
    )
    if not rows:
        return None, []
    return scope_of(rows[0]), [
        Balance(account_id=account_id, as_of=r["as_of"],
                amount=Money(int(r["amount_minor"]), r["currency"]))
        for r in rows if r["as_of"] is not None
    ]


def insert_balances(
    ex: Executor, family_id: UUID, account_id: UUID,
    points: Sequence[tuple[datetime, int, str]],
) -> None:
    """Record balance points ``(as_of, amount_minor, currency)`` (ingestion path).

    The caller's transaction must hold the family's lock
    (:func:`service.repositories.families.find_membership` or an account insert).
    """
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
