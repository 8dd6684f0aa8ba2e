"""The small transaction model every insight works on, and the results they return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

Direction = Literal["inflow", "outflow"]
Source = Literal["member", "rule", "learned", "merchant", "keyword", "provider", "default"]


@dataclass(frozen=True, slots=True)
class Transaction:
    """A booked transaction as insights see it.

    ``amount`` is signed (negative is money out). ``provider_category`` is the bank data
    provider's transaction type when there is one (TrueLayer's ``transaction_category``:
    ``DIRECT_DEBIT``, ``STANDING_ORDER``, ``ATM``, ``PURCHASE``, ...), and
    ``provider_classification`` its classification path (``("Shopping", "Groceries")``).
    """

    id: str
    account_id: str
    booked: date
    amount: Decimal
    currency: str = "GBP"
    description: str = ""
    merchant_name: str | None = None
    provider_category: str | None = None
    provider_classification: tuple[str, ...] = ()

    @property
    def direction(self) -> Direction:
        """``inflow`` for money in, ``outflow`` for money out."""
        return "inflow" if self.amount > 0 else "outflow"


@dataclass(frozen=True, slots=True)
class CategoryResult:
    """The category of one transaction, how sure we are and where it came from."""

    transaction_id: str
    category: str
    confidence: float
    source: Source
