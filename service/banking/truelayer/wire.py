"""Data API v3 wire shapes, validated with pydantic and turned into the normalised model.

An answer that does not match raises :class:`~service.banking.errors.ProviderRejectedError`
naming the field, so a sync records a failed step instead of ingesting half a page.

Shapes follow TrueLayer's reference pages:

* connected accounts — https://docs.truelayer.com/docs/get-all-user-accounts and
  https://docs.truelayer.com/reference/get-accounts.md (``items``; ``id``, ``account_type``
  current|savings, ``customer_segment``, ``currency``, ``account_identifiers``,
  ``account_holder_names``; at most 50 items, ordered by type then id);
* transactions requests — https://docs.truelayer.com/docs/see-your-users-recent-transactions and
  https://docs.truelayer.com/docs/get-transactions (202 with ``id`` and ``status: pending``;
  ``pending | completed | failed``; ``items`` and ``next_cursor``; an empty ``items`` ends it);
* connections — https://docs.truelayer.com/docs/create-a-connection-1 (``POST
  /v3/data-connections`` with ``scopes``) and the lifecycle in
  https://docs.truelayer.com/docs/creating-a-connection (authorization_required → authorized →
  active → inactive; active for 90 days from creation).

Where the excerpts of the reference available to us did not show a field's exact name — the
hosted-page link of a new connection (``hosted_page.uri``), the balance body, the transaction
item fields and the pending/booked marker (``status``) — the names below are our reading and
the sandbox bank mirrors them; check them against TrueLayer's published OpenAPI file before the
first live call (listed in the README).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, NotRequired, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, with_config
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from service.banking.errors import ProviderRejectedError
from service.banking.models import (
    ProviderAccount,
    ProviderBalance,
    ProviderTransaction,
    TransactionState,
)
from service.domain.money import to_minor


class _Wire(BaseModel):
    # Unknown fields are ignored: TrueLayer adds fields without a new API version.
    model_config = ConfigDict(extra="ignore", frozen=True)


class HostedPage(_Wire):
    uri: str


class ConnectionCreated(_Wire):
    id: str = Field(min_length=1)
    status: str
    hosted_page: HostedPage


class ConnectionView(_Wire):
    id: str = Field(min_length=1)
    status: Literal["authorization_required", "authorized", "active", "inactive"]
    created_at: datetime
    consent_expires_at: datetime | None = None


class AccountIdentifier(_Wire):
    type: str
    sort_code: str | None = None
    account_number: str | None = None
    iban: str | None = None


class ConnectedAccount(_Wire):
    id: str = Field(min_length=1)
    account_type: str
    customer_segment: str | None = None
    currency: str = Field(min_length=3, max_length=3)
    display_name: str | None = None
    account_identifiers: list[AccountIdentifier] = Field(default_factory=list)
    account_holder_names: list[str] = Field(default_factory=list)


class ConnectedAccounts(_Wire):
    items: list[ConnectedAccount]


class Amount(_Wire):
    value: Decimal
    currency: str = Field(min_length=3, max_length=3)


class Balance(_Wire):
    current: Amount
    available: Amount | None = None
    updated_at: datetime


class TransactionsRequestCreated(_Wire):
    id: str = Field(min_length=1)
    status: Literal["pending", "completed", "failed"]


# Unknown keys are ignored on these too (as on the models).
@with_config(ConfigDict(extra="ignore"))
class TransactionAmount(TypedDict):
    """``amount`` of a transaction item (see :class:`TransactionItem`)."""

    value: Decimal
    currency: Annotated[str, Field(min_length=3, max_length=3)]


@with_config(ConfigDict(extra="ignore"))
class TransactionItem(TypedDict):
    """One item of a transactions page.

    Validated as a dictionary rather than a model instance: a page holds thousands of items
    and is normalised at once by :func:`to_transaction`, so the two model instances per item
    would only be built to be dropped (validating a page this way takes about a third of the
    time).
    """

    transaction_id: Annotated[str, Field(min_length=1)]
    status: Literal["booked", "pending"]
    timestamp: datetime | date
    description: str
    amount: TransactionAmount
    transaction_type: Literal["DEBIT", "CREDIT"]
    transaction_category: NotRequired[str | None]
    merchant_name: NotRequired[str | None]


class TransactionsRequestResult(_Wire):
    id: str
    status: Literal["pending", "completed", "failed"]
    items: list[TransactionItem] = Field(default_factory=list)
    next_cursor: str | None = None


M = TypeVar("M", bound=_Wire)


def parse(model: type[M], body: Any, what: str) -> M:
    """Validate ``body`` as ``model``; a mismatch is a rejected answer naming the field."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise _rejected(exc, what) from None


def _rejected(exc: ValidationError, what: str) -> ProviderRejectedError:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return ProviderRejectedError(
        f"{what}: answer does not match the Data API v3 format at {where}: {first['msg']}"
    )


_ACCOUNT_TYPES = {"current": "current", "savings": "savings", "credit_card": "credit_card"}


def to_account(wire: ConnectedAccount) -> ProviderAccount:
    """Normalise one connected account."""
    scan = next((i for i in wire.account_identifiers if i.sort_code and i.account_number), None)
    iban = next((i.iban for i in wire.account_identifiers if i.iban), None)
    holders = tuple(wire.account_holder_names)
    return ProviderAccount(
        provider_account_id=wire.id,
        account_type=_ACCOUNT_TYPES.get(wire.account_type, "other"),
        currency=wire.currency,
        display_name=wire.display_name or f"{wire.account_type.title()} account",
        sort_code=scan.sort_code if scan else None,
        account_number=scan.account_number if scan else None,
        iban=iban,
        holder_names=holders,
    )


def _minor(value: Decimal, currency: str, what: str) -> int:
    try:
        return to_minor(value, currency)
    except Exception as exc:  # ValidationFailedError or a Decimal error: both are bad wire data
        raise ProviderRejectedError(f"{what}: amount {value} is not valid money") from exc


def to_balance(account_id: str, wire: Balance) -> ProviderBalance:
    """Normalise a balance answer."""
    return ProviderBalance(
        provider_account_id=account_id,
        currency=wire.current.currency,
        current_minor=_minor(wire.current.value, wire.current.currency, "balance"),
        available_minor=(
            _minor(wire.available.value, wire.available.currency, "balance")
            if wire.available
            else None
        ),
        as_of=wire.updated_at.astimezone(UTC),
    )


_STATES = {state.value: state for state in TransactionState}


def to_transaction(account_id: str, item: TransactionItem) -> ProviderTransaction:
    """Normalise one transaction item (amount signed by ``transaction_type``)."""
    amount = item["amount"]
    magnitude = abs(_minor(amount["value"], amount["currency"], "transaction"))
    day = item["timestamp"]
    return ProviderTransaction(
        item["transaction_id"],
        account_id,
        _STATES[item["status"]],
        day.date() if isinstance(day, datetime) else day,
        -magnitude if item["transaction_type"] == "DEBIT" else magnitude,
        amount["currency"],
        item["description"],
        item.get("merchant_name"),
        item.get("transaction_category"),
    )
