"""Domain values shared by repositories, use cases and the API layer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Generic, TypeVar
from uuid import UUID

from service.domain.money import Money

T = TypeVar("T")


class Role(StrEnum):
    """A member's role in a family."""

    OWNER = "owner"
    ADULT = "adult"
    CHILD = "child"


class Visibility(StrEnum):
    """Who in the family may see an account besides its holder."""

    FAMILY = "family"  # owners and adults (children see only their own accounts)
    PRIVATE = "private"  # the holder only


class AccountType(StrEnum):
    """Kind of bank account."""

    CURRENT = "current"
    SAVINGS = "savings"
    CREDIT_CARD = "credit_card"
    LOAN = "loan"
    OTHER = "other"


class TransactionStatus(StrEnum):
    """Open Banking booking status."""

    PENDING = "pending"
    BOOKED = "booked"


class ConnectionStatus(StrEnum):
    """State of an Open Banking connection (created by the service, completed by the user)."""

    PENDING = "pending"
    ACTIVE = "active"
    REAUTH_REQUIRED = "reauth_required"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class User:
    """A person known by their identity provider's (issuer, subject)."""

    id: UUID
    issuer: str
    subject: str
    email: str
    display_name: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Membership:
    """The caller's scope in one family: every repository query is filtered by it."""

    id: UUID
    family_id: UUID
    user_id: UUID
    role: Role


@dataclass(frozen=True, slots=True)
class Family:
    """A family (tenant)."""

    id: UUID
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FamilySummary:
    """A family the caller belongs to, with their role."""

    id: UUID
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class Member:
    """A member of a family as listed to other members."""

    id: UUID  # membership id
    user_id: UUID
    email: str
    display_name: str | None
    role: Role
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class Invitation:
    """An invitation to join a family (the token itself is never stored)."""

    id: UUID
    family_id: UUID
    email: str
    role: Role
    expires_at: datetime
    accepted_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Connection:
    """An Open Banking connection (the sealed provider id is not part of this value)."""

    id: UUID
    family_id: UUID
    provider: str
    status: ConnectionStatus
    consent_expires_at: datetime | None
    created_at: datetime
    visibility: Visibility = Visibility.FAMILY
    created_by: UUID | None = None
    last_synced_at: datetime | None = None
    next_unattended_sync_at: datetime | None = None
    status_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    """A bank account held by one family member."""

    id: UUID
    family_id: UUID
    holder_user_id: UUID
    connection_id: UUID | None
    name: str
    nickname: str | None
    type: AccountType
    currency: str
    visibility: Visibility


@dataclass(frozen=True, slots=True)
class Balance:
    """An account balance at a point in time."""

    account_id: UUID
    as_of: datetime
    amount: Money


@dataclass(frozen=True, slots=True)
class Transaction:
    """A bank transaction."""

    id: UUID
    account_id: UUID
    status: TransactionStatus
    booked_on: date
    booked_at: datetime | None
    description: str
    merchant: str | None
    amount: Money
    category: str | None  # taxonomy id (service.insights.taxonomy); None until categorised
    note: str | None
    category_source: str | None = None  # member, rule, learned, merchant, keyword, ...
    category_confidence: float | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit event as shown to owners (never amounts or tokens)."""

    seq: int
    actor: str
    action: str
    target_type: str
    target_id: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a cursor-paginated list; ``next_cursor`` is ``None`` on the last page."""

    items: list[T]
    next_cursor: str | None
