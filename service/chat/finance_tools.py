"""The assistant's read-only tools over the family's data: thin wrappers of use cases.

Each handler calls the same use case the API calls, with the caller's principal and the
conversation's family from the :class:`~service.chat.tools.ToolContext` (bound by the
server), so a tool sees exactly what the member's own API calls see. No input names a
family, user or account id: accounts are named by the handles (``acct-1``) that
``list_accounts`` or ``search_transactions`` issued in this conversation, recurring
series by ``series-N`` and pages by ``page-N`` handles. Money goes out as decimal
strings computed by the service (the insights use cases for spending, recurring
payments and runway).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from service.chat.handles import AccountHandle
from service.chat.tools import Tool, ToolContext, ToolRegistry
from service.db.port import Database
from service.domain.errors import ValidationFailedError
from service.domain.models import Transaction, TransactionStatus
from service.domain.money import Money, to_minor
from service.domain.queries import TransactionQuery, bounded_text
from service.use_cases import accounts as accounts_uc
from service.use_cases import insights as insights_uc
from service.use_cases import transactions as transactions_uc

MAX_TRANSACTIONS = 50
_Amount = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=17, decimal_places=2)]
SeriesHandle = Annotated[str, StringConstraints(pattern=r"^series-[1-9][0-9]{0,5}$",
                                                max_length=13)]
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


class SpendingQuery(BaseModel):
    """Inputs of ``spending_by_category``."""

    model_config = ConfigDict(extra="forbid")

    period: Literal["week", "month", "quarter", "year"] = "month"
    start: date | None = Field(default=None, description="First day, YYYY-MM-DD.")
    end: date | None = Field(default=None, description="Last day, YYYY-MM-DD (today if unset).")


class PlannedExpense(BaseModel):
    """A one-off expense of a runway scenario."""

    model_config = ConfigDict(extra="forbid")

    on: date
    amount: Annotated[Decimal, Field(gt=0, allow_inf_nan=False, max_digits=12,
                                     decimal_places=2)] = Field(description="Pounds, positive.")


class RunwayQuery(BaseModel):
    """Inputs of ``runway``: what-if scenarios over the projection."""

    model_config = ConfigDict(extra="forbid")

    income_stops: bool = Field(default=False, description="Assume recurring income stops.")
    cancel: list[SeriesHandle] = Field(default_factory=list, max_length=10, description=(
        "Recurring payments (series handles from recurring_payments) assumed cancelled."))
    expenses: list[PlannedExpense] = Field(default_factory=list, max_length=5)
    buffer: Annotated[Decimal, Field(ge=0, allow_inf_nan=False, max_digits=12,
                                     decimal_places=2)] | None = Field(
        default=None, description="A cushion in pounds: report when the balance drops below.")
    horizon_days: int = Field(default=365, ge=1, le=insights_uc.MAX_RUNWAY_HORIZON_DAYS)


def list_accounts(database: Database, context: ToolContext, _: NoInput) -> dict[str, Any]:
    """The family's accounts the member may see, with each one's latest balance."""
    views = accounts_uc.list_accounts_with_balances(database, context.principal,
                                                    context.family_id)
    items = []
    for view, latest in views:
        items.append({
            "account": context.handles.issue("acct", str(view.account.id)),
            "name": view.account.nickname or view.account.name,
            "type": view.account.type.value,
            "currency": view.account.currency,
            "visibility": view.account.visibility.value,
            "mine": view.is_mine,
            "latest_balance": None if latest is None else {
                **money(latest.amount), "as_of": latest.as_of.isoformat()},
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


def spending_by_category(
    database: Database, context: ToolContext, query: SpendingQuery
) -> dict[str, Any]:
    """Money out and in per category and period (the insights use case's figures)."""
    report = insights_uc.spending(database, context.principal, context.family_id,
                                  period=query.period, start=query.start, end=query.end)
    return {
        "period": report.period, "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "periods": [{
            "start": p.start.isoformat(), "end": p.end.isoformat(),
            "total_spent": [money(m) for m in p.total_spent],
            "total_received": [money(m) for m in p.total_received],
            "categories": [{"category": c.label, "spent": money(c.spent),
                            "received": money(c.received), "net": money(c.net),
                            "count": c.count} for c in p.categories],
        } for p in report.periods],
    }


def recurring_payments(database: Database, context: ToolContext, _: NoInput) -> dict[str, Any]:
    """The family's detected recurring payments and income, with handles (series-N)."""
    series = insights_uc.recurring(database, context.principal, context.family_id)
    return {"series": [{
        "series": context.handles.issue("series", s.id),
        "direction": s.direction, "merchant": s.merchant, "category": s.category,
        "frequency": s.frequency, "status": s.status, "decision": s.decision,
        "average_amount": money(s.average_amount), "last_amount": money(s.last_amount),
        "last_date": s.last_date.isoformat(),
        "next_date": None if s.next_date is None else s.next_date.isoformat(),
        "next_amount": None if s.next_amount is None else money(s.next_amount),
        "annual_amount": None if s.annual_amount is None else money(s.annual_amount),
        "internal_transfer": s.internal_transfer,
    } for s in series], "count": len(series)}


def runway(database: Database, context: ToolContext, query: RunwayQuery) -> dict[str, Any]:
    """How long the visible current and savings accounts last, under the scenario."""
    parts = ["income_stops"] if query.income_stops else []
    parts += [f"cancel:{context.handles.resolve('series', handle)}" for handle in query.cancel]
    parts += [f"expense:{e.on.isoformat()}:{e.amount}" for e in query.expenses]
    report = insights_uc.runway(
        database, context.principal, context.family_id, scenario=",".join(parts) or None,
        buffer_minor=None if query.buffer is None else to_minor(query.buffer, "GBP"),
        horizon_days=query.horizon_days)
    return {
        "as_of": report.as_of.isoformat(), "accounts": report.account_count,
        "balance": money(report.balance), "horizon_days": report.horizon_days,
        "runway_days": report.runway_days,
        "runs_out_on": None if report.zero_date is None else report.zero_date.isoformat(),
        "below_buffer_on": None if report.below_buffer_date is None
        else report.below_buffer_date.isoformat(),
        "discretionary_daily": money(report.discretionary_daily),
        "scenario": {"income_stops": query.income_stops, "cancelled": list(query.cancel),
                     "expenses": [{"on": e.on.isoformat(), "amount": str(e.amount)}
                                  for e in query.expenses]},
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
        Tool("spending_by_category",
             "Money spent and received per category for each week, month, quarter or year "
             "between two dates (transfers between the family's accounts left out).",
             SpendingQuery,
             lambda context, arguments: spending_by_category(database, context, arguments)),
        Tool("recurring_payments",
             "Recurring payments and income (subscriptions, bills, salary) with their "
             "frequency, amounts, next dates and handles (series-N).",
             NoInput, lambda context, arguments: recurring_payments(database, context, arguments)),
        Tool("runway",
             "How many days the visible current and savings accounts last, with what-ifs: "
             "income stops, recurring payments cancelled (series handles), one-off "
             "expenses, a buffer.",
             RunwayQuery, lambda context, arguments: runway(database, context, arguments)),
    ])
