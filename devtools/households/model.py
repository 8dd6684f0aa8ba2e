"""The labelled household model: accounts, transactions and the truth behind them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

AccountType = Literal["current", "savings", "credit"]
Direction = Literal["inflow", "outflow"]
Frequency = Literal["weekly", "fortnightly", "four_weekly", "monthly", "quarterly", "annual"]


@dataclass(frozen=True, slots=True)
class HouseholdAccount:
    """One bank account of the household, as a bank would describe it."""

    id: str
    type: AccountType
    currency: str
    display_name: str
    opening_balance: Decimal
    provider: str
    sort_code: str | None
    account_number: str | None


@dataclass(frozen=True, slots=True)
class HouseholdTransaction:
    """One booked (or pending) transaction with its ground-truth labels.

    ``amount`` is signed: negative is money out of the account. ``transaction_type`` is
    TrueLayer's ``DEBIT``/``CREDIT``; ``transaction_category`` is TrueLayer's category
    (``PURCHASE``, ``DIRECT_DEBIT``, ``STANDING_ORDER``, ``ATM``, ...); the ``true_*`` fields and
    ``pending`` are labels for evaluation and for serving pending transactions separately.
    """

    id: str
    account_id: str
    booked: date
    amount: Decimal
    currency: str
    description: str
    merchant_name: str | None
    transaction_type: Literal["DEBIT", "CREDIT"]
    transaction_category: str
    transaction_classification: tuple[str, ...]
    true_category: str
    true_series_id: str | None
    pending: bool = False


@dataclass(frozen=True, slots=True)
class TrueSeries:
    """A recurring series the generator planted (the truth recurring detection is scored on)."""

    id: str
    account_id: str
    direction: Direction
    merchant: str
    frequency: Frequency
    category: str
    ended: bool
    transaction_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HouseholdProfile:
    """The knobs of a household; unset ones are drawn from the seed.

    ``merchant_pool`` chooses the discretionary merchants: ``"known"`` (national UK brands),
    ``"unseen"`` (invented local businesses and brands no built-in list can hold) or
    ``"mixed"``; ``held_out_nouns`` names invented businesses with words kept out of
    development altogether. Rates are probabilities per series or per transaction.
    """

    adults: int | None = None
    children: int | None = None
    owns_home: bool | None = None
    has_car: bool | None = None
    has_credit_card: bool | None = None
    merchant_pool: Literal["known", "unseen", "mixed"] = "mixed"
    held_out_nouns: bool = False
    opaque_merchant_share: float = 0.08
    subscriptions: int | None = None
    missed_payment_rate: float = 0.15
    price_rise_rate: float = 0.35
    cancel_rate: float = 0.2
    one_off_rate: float = 0.3
    refund_rate: float = 0.02
    merchant_name_rate: float = 0.5
    classification_rate: float = 0.3
    classification_noise: float = 0.15
    spend_scale: float = 1.0
    pending_days: int = 2


@dataclass(frozen=True, slots=True)
class Household:
    """A generated household: accounts, every transaction (date order) and the planted series."""

    id: str
    seed: int
    name: str
    start: date
    end: date
    accounts: tuple[HouseholdAccount, ...]
    transactions: tuple[HouseholdTransaction, ...]
    series: tuple[TrueSeries, ...] = field(default=())

    def transactions_of(self, account_id: str) -> tuple[HouseholdTransaction, ...]:
        """The account's transactions in date order."""
        return tuple(t for t in self.transactions if t.account_id == account_id)

    def closing_balance(self, account_id: str, *, include_pending: bool = False) -> Decimal:
        """Opening balance plus every booked (and optionally pending) amount of the account."""
        account = next(a for a in self.accounts if a.id == account_id)
        return account.opening_balance + sum(
            (
                t.amount
                for t in self.transactions
                if t.account_id == account_id and (include_pending or not t.pending)
            ),
            Decimal(0),
        )
