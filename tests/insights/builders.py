"""Builders for insights tests: transactions by hand, series by schedule."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from service.insights.model import Transaction


def txn(
    id: str,
    booked: date,
    amount: str,
    description: str = "SOMETHING",
    *,
    merchant_name: str | None = None,
    provider_category: str | None = None,
    account_id: str = "acc-1",
) -> Transaction:
    """One transaction; ``amount`` is a signed decimal string."""
    return Transaction(
        id=id,
        account_id=account_id,
        booked=booked,
        amount=Decimal(amount),
        description=description,
        merchant_name=merchant_name,
        provider_category=provider_category,
    )


def series_of(
    prefix: str, dates: Iterable[date], amount: str, description: str, **kw: object
) -> list[Transaction]:
    """Transactions of one payee on ``dates`` with the same amount."""
    return [
        txn(f"{prefix}-{i:03d}", d, amount, description, **kw)  # type: ignore[arg-type]
        for i, d in enumerate(dates)
    ]
