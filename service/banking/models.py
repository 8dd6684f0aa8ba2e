"""The normalised bank data model every provider adapter produces.

Amounts are signed integer minor units (negative is money out of the account), dates are the
bank's booking dates, times are timezone-aware UTC. Provider ids are kept verbatim; the content
keys in :mod:`service.banking.fingerprint` recognise a transaction whose id changed or a pending
one that booked under a new id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class TransactionState(StrEnum):
    """Whether the bank has booked the transaction yet."""

    PENDING = "pending"
    BOOKED = "booked"


@dataclass(frozen=True, slots=True)
class DateWindow:
    """An inclusive range of booking dates."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("window end is before its start")

    def contains(self, day: date) -> bool:
        """Whether ``day`` falls inside the window."""
        return self.start <= day <= self.end

    def days(self) -> int:
        """Number of days covered."""
        return (self.end - self.start).days + 1


@dataclass(frozen=True, slots=True)
class ConnectionStart:
    """A connection created at the provider, waiting for the user at ``authorization_url``."""

    provider_connection_id: str
    authorization_url: str


@dataclass(frozen=True, slots=True)
class ConnectionGrant:
    """The outcome of a completed consent journey."""

    provider_connection_id: str
    granted_at: datetime
    consent_expires_at: datetime


@dataclass(frozen=True, slots=True)
class ProviderConnection:
    """What a provider needs to act for one connection (decrypted from the token store)."""

    provider_connection_id: str
    consent_expires_at: datetime | None = None

    def consent_expired(self, now: datetime) -> bool:
        """Whether the recorded consent has lapsed at ``now``."""
        return self.consent_expires_at is not None and now >= self.consent_expires_at


@dataclass(frozen=True, slots=True)
class ProviderAccount:
    """One account shared through a connection."""

    provider_account_id: str
    account_type: str  # current | savings | credit_card | other
    currency: str
    display_name: str
    sort_code: str | None = None
    account_number: str | None = None
    iban: str | None = None
    holder_names: tuple[str, ...] = ()

    @property
    def match_key(self) -> str | None:
        """A stable digest of the account's bank identifiers, or None if it has none.

        A fresh connection (consent reconfirmation, a reconnect) returns new provider account
        ids for the same bank accounts; the sync links them through this key instead of
        creating duplicates. It is a digest so the identifiers need not be stored in clear to
        compare.
        """
        if self.iban:
            raw = f"iban:{self.iban.replace(' ', '').upper()}"
        elif self.sort_code and self.account_number:
            raw = f"scan:{self.sort_code.replace('-', '')}:{self.account_number}"
        else:
            return None
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ProviderBalance:
    """A balance snapshot of one account."""

    provider_account_id: str
    currency: str
    current_minor: int
    available_minor: int | None
    as_of: datetime


@dataclass(frozen=True, slots=True)
class ProviderTransaction:
    """One booked or pending transaction as the provider reports it."""

    provider_transaction_id: str
    provider_account_id: str
    state: TransactionState
    booked_on: date
    amount_minor: int
    currency: str
    description: str
    merchant_name: str | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class TransactionsBatch:
    """One page of a transactions request; ``next_cursor`` asks for the next (None: done)."""

    transactions: tuple[ProviderTransaction, ...]
    next_cursor: str | None = None
