"""The assistant's read-only tools over the family's data: thin wrappers of use cases.

Each handler calls the same use case the API calls, with the caller's principal and the
conversation's family from the :class:`~service.chat.tools.ToolContext` (bound by the
server), so a tool sees exactly what the member's own API calls see. No input names a
family, user or account id: accounts are named by the handles (``acct-1``) that
``list_accounts`` or ``search_transactions`` issued in this conversation, pages by
``page-N`` handles. Money goes out as decimal strings computed by the service.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from service.chat.handles import AccountHandle
from service.chat.tools import Tool, ToolContext, ToolRegistry
from service.db.port import Database
from service.domain.errors import ValidationFailedError
from service.domain.models import Transaction, TransactionStatus
from service.domain.money import Money
from service.domain.queries import TransactionQuery, bounded_text
from service.use_cases import accounts as accounts_uc
from service.use_cases import transactions as transactions_uc

MAX_TRANSACTIONS = 50
_Amount = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=17, decimal_places=2)]
PageHandle = Annotated[str, StringConstraints(pattern=r"^page-[1-9][0-9]{0,5}$", max_length=11)]


def money(value: Money) -> dict[str, str]:
    """Money as the tools report it: a decimal string and its currency."""
    return {"amount": str(value.amount), "currency": value.currency}


class NoInput(BaseModel):
    """A tool without parameters."""

    model_config = ConfigDict(extra="forbid")


class TransactionSearch(BaseModel):
    """Filters of ``search_transactions`` (validated like the API's query string)."""

    model_config = ConfigDict(extra="forbid")

    account: AccountHandle | None = Field(
        default=None, description="An account handle from list_accounts (e.g. acct-1).")
    date_from: date | None = Field(default=None, description="First booking date, YYYY-MM-DD.")
    date_to: date | None = Field(default=None, description="Last booking date, YYYY-MM-DD.")
    text: Annotated[str, bounded_text(100)] | None = Field(
        default=None, description="Case-insensitive text in description, merchant or note.")
    category: Annotated[str, bounded_text(50)] | None = None
    amount_min: _Amount | None = Field(
        default=None, description="Smallest amount in pounds; spending is negative.")
    amount_max: _Amount | None = None
    page: PageHandle | None = Field(
        default=None, description="The next_page handle of a previous result.")
    limit: int = Field(default=20, ge=1, le=MAX_TRANSACTIONS)


def list_accounts(database: Database, context: ToolContext, _: NoInput) -> dict[str, Any]:
    """The family's accounts the member may see, with each one's latest balance."""
    views = accounts_uc.list_accounts(database, context.principal, context.family_id)
    items = []
    for view in views:
        latest = accounts_uc.list_balances(database, context.principal, view.account.id,
                                           limit=1)
        items.append({
            "account": context.handles.issue("acct", str(view.account.id)),
            "name": view.account.nickname or view.account.name,
            "type": view.account.type.value,
            "currency": view.account.currency,
            "visibility": view.account.visibility.value,
            "mine": view.is_mine,
            "latest_balance": None if not latest else {
                **money(latest[0].amount), "as_of": latest[0].as_of.isoformat()},
        })
    return {"accounts": items, "count": len(items)}


def search_transactions(
    database: Database, context: ToolContext, search: TransactionSearch
) -> dict[str, Any]:
    """One page of the family's visible transactions matching the filters, newest first."""
    handles = context.handles
    try:
        query = TransactionQuery.model_validate({
            "account_id": None if search.account is None
            else UUID(handles.resolve("acct", search.account)),
            "date_from": search.date_from, "date_to": search.date_to, "text": search.text,
            "category": search.category, "amount_min": search.amount_min,
            "amount_max": search.amount_max, "limit": search.limit,
            "cursor": None if search.page is None else handles.resolve("page", search.page),
        })
    except ValidationError as error:
        messages = "; ".join(str(item["msg"]) for item in error.errors(include_input=False))
        raise ValidationFailedError(f"The filters are not valid: {messages}") from None
    page = transactions_uc.list_transactions(database, context.principal, context.family_id,
                                             query)
    return {
        "transactions": [_transaction(handles.issue("acct", str(t.account_id)), t)
                         for t in page.items],
        "count": len(page.items),
        "next_page": None if page.next_cursor is None
        else handles.issue("page", page.next_cursor),
    }


def _transaction(account: str, transaction: Transaction) -> dict[str, Any]:
    return {
        "date": transaction.booked_on.isoformat(),
        "account": account,
        "description": transaction.description,
        "merchant": transaction.merchant,
        **money(transaction.amount),
        "category": transaction.category,
        "pending": transaction.status is TransactionStatus.PENDING,
    }


def finance_tools(database: Database) -> ToolRegistry:
    """The registry of every product tool, bound to ``database``."""
    return ToolRegistry([
        Tool("list_accounts",
             "List the family's bank accounts the member may see, with handles (acct-N) "
             "and the latest balance of each.",
             NoInput, lambda context, arguments: list_accounts(database, context, arguments)),
        Tool("search_transactions",
             "Search the family's transactions the member may see: dates, text, "
             "category, amount range (pounds, spending negative), an account handle; "
             "paged (next_page), at most 50 per call.",
             TransactionSearch,
             lambda context, arguments: search_transactions(database, context, arguments)),
    ])
