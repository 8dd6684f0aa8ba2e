"""Request and response models of the /v1 API (pydantic; OpenAPI is generated from them).

Conventions: ids are UUIDs, timestamps ISO 8601 UTC, money ``{"amount": "-12.30",
"currency": "GBP"}`` with the amount as a decimal string. Request models forbid unknown
fields and reject control characters in text (PostgreSQL cannot store NUL).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from service.auth.emails import canonical_email
from service.domain.models import (
    AccountType,
    ConnectionStatus,
    Role,
    TransactionStatus,
    Visibility,
)
from service.domain.queries import NO_CONTROL as _NO_CONTROL
from service.domain.queries import Cursor, TransactionQuery, bounded_text, checked_category
from service.insights.taxonomy import CATEGORY_IDS

__all__ = ["TransactionQuery"]
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
_EMAIL = rf"^[^@\s\x00-\x1f\x7f]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$"


def _as_utc(value: datetime) -> datetime:
    # An offset can push an in-range local time past year 1 or 9999 in UTC; Python cannot
    # represent that instant, so it is invalid input rather than a crash further down.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("Datetime is out of range once converted to UTC") from None


_text = bounded_text
Name = Annotated[str, _text(100)]
ShortText = Annotated[str, _text(50)]
Note = Annotated[str, _text(500, 0)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=_EMAIL),
                  AfterValidator(canonical_email)]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=_NO_CONTROL)]
Provider = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,49}$")]
RoleName = Role
CategoryId = Annotated[str, AfterValidator(checked_category),
                       Field(json_schema_extra={"enum": list(CATEGORY_IDS)})]
VisibilityName = Visibility


class In(BaseModel):
    """Base of request bodies: strict types, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


class QueryIn(BaseModel):
    """Base of query-string models (values arrive as strings; coerced by the endpoint)."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """Base of response bodies."""

    model_config = ConfigDict(from_attributes=True)


class MoneyOut(Out):
    """An exact amount: decimal string in major units, ISO 4217 currency."""

    amount: Annotated[str, BeforeValidator(str)] = Field(examples=["-12.30"])
    currency: str = Field(examples=["GBP"])


# -- me ----------------------------------------------------------------------------------

class FamilyMembershipOut(Out):
    """A family the caller belongs to."""

    id: UUID
    name: str
    role: RoleName


class MeOut(Out):
    """The caller."""

    id: UUID
    email: str
    display_name: str | None
    families: list[FamilyMembershipOut]


class MePatch(In):
    """Change the caller's display name (``null`` clears it)."""

    display_name: Name | None


# -- families ----------------------------------------------------------------------------

class CreateFamilyIn(In):
    """A new family; the caller becomes its owner."""

    name: Name


class FamilyOut(Out):
    """A family and the caller's role in it."""

    id: UUID
    name: str
    created_at: datetime
    role: RoleName


# -- invitations & members ---------------------------------------------------------------

class InvitationIn(In):
    """Invite someone by email with a role."""

    email: Email
    role: RoleName = Role.ADULT


class InvitationOut(Out):
    """An invitation (the token is shown only once, at creation)."""

    id: UUID
    email: str
    role: RoleName
    status: Literal["pending", "accepted", "expired"]
    expires_at: datetime
    accepted_at: datetime | None
    created_at: datetime


class InvitationCreatedOut(InvitationOut):
    """A new invitation with its secret token; send it to the invitee, it is not stored."""

    token: str


class InvitationList(Out):
    """The family's invitations, newest first."""

    items: list[InvitationOut]


class MemberOut(Out):
    """A family member (``id`` is the membership id used in member routes)."""

    id: UUID
    user_id: UUID
    email: str
    display_name: str | None
    role: RoleName
    joined_at: datetime


class MemberList(Out):
    """Members of the family."""

    items: list[MemberOut]


class MemberPatch(In):
    """Change a member's role."""

    role: RoleName


# -- accounts & balances -----------------------------------------------------------------

class AccountOut(Out):
    """A bank account the caller may see."""

    id: UUID
    family_id: UUID
    holder_user_id: UUID
    is_mine: bool
    name: str
    nickname: str | None
    type: AccountType
    currency: str
    visibility: VisibilityName


class AccountList(Out):
    """Accounts of the family the caller may see."""

    items: list[AccountOut]


class AccountPatch(In):
    """Rename (holder or owner; ``null`` clears) or change visibility (holder only)."""

    nickname: ShortText | None = None
    visibility: VisibilityName | None = None


class BalanceOut(Out):
    """A balance at a point in time."""

    as_of: datetime
    amount: MoneyOut


class BalanceList(Out):
    """Balance history, newest first."""

    items: list[BalanceOut]


class BalanceQuery(QueryIn):
    """How many balance points to return."""

    limit: int = Field(default=90, ge=1, le=366)


# -- transactions ------------------------------------------------------------------------

class TransactionOut(Out):
    """A bank transaction."""

    id: UUID
    account_id: UUID
    status: TransactionStatus
    booked_on: date
    booked_at: datetime | None
    description: str
    merchant: str | None
    amount: MoneyOut
    category: str | None = Field(description="Taxonomy id (GET /v1/families/{fid}/categories);"
                                 " null until categorised.")
    category_source: str | None = Field(
        default=None, description="Who chose it: member, rule, learned, merchant, keyword, "
        "provider, transfer (between the family's own accounts) or default.")
    category_confidence: float | None = None
    note: str | None


class TransactionPage(Out):
    """One page of transactions (newest first); pass ``next_cursor`` as ``cursor``."""

    items: list[TransactionOut]
    next_cursor: str | None


class TransactionPatch(In):
    """Set the category (a taxonomy id; recorded as the member's choice, which automation
    never overwrites) or clear it (``null``: back to automatic), and/or the note."""

    category: CategoryId | None = None
    note: Note | None = None


# -- audit -------------------------------------------------------------------------------

class AuditEntryOut(Out):
    """An audit event (never amounts or tokens)."""

    seq: int
    actor: str
    action: str
    target_type: str
    target_id: str | None
    at: datetime


class AuditPage(Out):
    """One page of the audit trail, newest first."""

    items: list[AuditEntryOut]
    next_cursor: str | None


class AuditQuery(QueryIn):
    """Paging of the audit trail."""

    cursor: Cursor | None = None
    limit: int = Field(default=50, ge=1, le=200)


# -- connections -------------------------------------------------------------------------

class ConnectionStartIn(In):
    """Start connecting a bank: the service creates the connection and returns the consent
    link. No provider credential is ever sent or returned."""

    provider: Provider = "truelayer"
    visibility: VisibilityName = Visibility.FAMILY


class ConnectionOut(Out):
    """A connection (its provider credentials are never returned)."""

    id: UUID
    provider: str
    status: ConnectionStatus
    visibility: VisibilityName
    consent_expires_at: datetime | None
    last_synced_at: datetime | None
    next_unattended_sync_at: datetime | None = Field(
        description="A scheduled sync does not run before this (banks limit unattended "
                    "calls); a sync you start yourself may.")
    status_reason: str | None
    created_at: datetime


class ConnectionStartOut(Out):
    """A pending connection and the bank's consent page to send the user to."""

    connection: ConnectionOut
    authorization_url: str


class ConnectionCompletedOut(Out):
    """The completed connection and its first sync run."""

    connection: ConnectionOut
    sync_run_id: str | None


_CallbackText = Annotated[str, StringConstraints(max_length=512, pattern=_NO_CONTROL)]


class ConnectionCallbackQuery(QueryIn):
    """What the bank's redirect carries back (TrueLayer Data API v3)."""

    state: _CallbackText | None = None
    connection_id: _CallbackText | None = None
    error: _CallbackText | None = None
    error_description: _CallbackText | None = None


class ConnectionDeleteQuery(QueryIn):
    """Whether the connection's accounts, balances and transactions are kept."""

    data: Literal["keep", "delete"] = "keep"


class SyncStartedOut(Out):
    """A sync run that was started (read it for progress)."""

    run_id: str
    status: str


class SyncStepOut(Out):
    """One step of a sync run."""

    name: str
    status: str
    attempts: int
    counts: dict[str, int]
    last_error: str | None
    started_at: datetime | None
    finished_at: datetime | None


class SyncRunOut(Out):
    """A sync run: status, counts and errors per step."""

    run_id: str
    workflow: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    resume_at: datetime | None
    last_error: str | None
    steps: list[SyncStepOut]


class ConnectionList(Out):
    """The family's consents."""

    items: list[ConnectionOut]


# -- insights ----------------------------------------------------------------------------

_MajorAmount = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=17, decimal_places=2,
                                        ge=0)]
RuleText = Annotated[str, _text(100)]


class CategoryOut(Out):
    """A taxonomy category."""

    id: str = Field(examples=["groceries"])
    label: str = Field(examples=["Groceries"])


class CategoryList(Out):
    """The taxonomy, in the order the product lists it."""

    items: list[CategoryOut]


class RuleIn(In):
    """A categorisation rule: transactions matching every given condition get ``category``.

    ``merchant`` matches the normalised merchant's leading words, ``text`` is a
    case-insensitive substring of description or merchant, ``min_amount``/``max_amount``
    bound the absolute amount (GBP, inclusive). The highest ``priority`` wins, ties to the
    oldest rule; a member's own choice for a transaction always beats rules.
    """

    category: CategoryId
    priority: int = Field(default=0, ge=-1000, le=1000)
    merchant: RuleText | None = None
    text: RuleText | None = None
    min_amount: _MajorAmount | None = Field(default=None, examples=["5.00"])
    max_amount: _MajorAmount | None = Field(default=None, examples=["50.00"])
    direction: Literal["inflow", "outflow"] | None = None


class RuleOut(Out):
    """A family's categorisation rule."""

    id: UUID
    category: str
    priority: int
    merchant: str | None
    text: str | None
    min_amount: str | None
    max_amount: str | None
    direction: Literal["inflow", "outflow"] | None
    created_at: datetime
    updated_at: datetime


class RuleList(Out):
    """The family's rules, highest priority first."""

    items: list[RuleOut]


class SeriesOut(Out):
    """A recurring payment or income (amounts signed: negative is money out)."""

    id: str = Field(examples=["rs_0123456789abcdef"])
    direction: Literal["inflow", "outflow"]
    merchant: str
    category: str | None
    frequency: Literal["weekly", "fortnightly", "four_weekly", "monthly", "quarterly",
                       "annual"]
    average_amount: MoneyOut
    last_amount: MoneyOut
    last_date: date
    next_date: date | None
    next_amount: MoneyOut | None
    annual_amount: MoneyOut | None = Field(description="What it costs (or brings) a year "
                                           "while active.")
    status: Literal["active", "ended"]
    decision: Literal["confirmed", "dismissed"] | None
    internal_transfer: bool = Field(description="Money moved between the family's own "
                                    "accounts: not income, not spending, not in runway.")
    explanation: str
    transaction_ids: list[str]
    detected_on: date


class SeriesList(Out):
    """Recurring series the caller may see, active first."""

    items: list[SeriesOut]


class SeriesPatch(In):
    """Confirm or dismiss a series (``null`` withdraws the decision); kept across
    re-detection."""

    decision: Literal["confirmed", "dismissed"] | None


class RunwayQuery(QueryIn):
    """Runway parameters."""

    scenario: Annotated[str, _text(500)] | None = Field(
        default=None, description="Comma-separated: income_stops, cancel:<series id>, "
        "expense:<YYYY-MM-DD>:<amount>.", examples=["income_stops,expense:2026-03-01:450.00"])
    buffer: _MajorAmount | None = Field(default=None, description="Report the first day "
                                        "the balance is below this amount (GBP).")
    horizon: int = Field(default=365, ge=1, le=730, description="Days to project.")


class RunwayDayOut(Out):
    """The projected balance at the end of a day."""

    date: date
    balance: str = Field(examples=["1234.56"])


class RunwayOut(Out):
    """How long the caller-visible current and savings accounts last."""

    as_of: date
    currency: str
    account_count: int
    balance: MoneyOut
    horizon_days: int
    runway_days: int | None = Field(description="Days until the balance first drops below "
                                    "zero; null if not within the horizon.")
    zero_date: date | None
    below_buffer_date: date | None
    buffer: MoneyOut | None
    discretionary_daily: MoneyOut
    scenario: str | None
    series_ids: list[str]
    daily: list[RunwayDayOut]


class SpendingQuery(QueryIn):
    """Spending report parameters."""

    period: Literal["week", "month", "quarter", "year"] = "month"
    by: Literal["category"] = "category"
    start: date | None = None
    end: date | None = None


class CategorySpendingOut(Out):
    """One category over one period (``net`` = received - spent)."""

    category: str | None
    label: str
    spent: MoneyOut
    received: MoneyOut
    net: MoneyOut
    count: int


class SpendingPeriodOut(Out):
    """One period of a spending report."""

    start: date
    end: date
    categories: list[CategorySpendingOut]
    total_spent: list[MoneyOut]
    total_received: list[MoneyOut]


class SpendingOut(Out):
    """Spending by category per period (transfers between the family's accounts left out)."""

    period: Literal["week", "month", "quarter", "year"]
    by: Literal["category"]
    start: date
    end: date
    periods: list[SpendingPeriodOut]
