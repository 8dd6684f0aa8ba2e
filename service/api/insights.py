"""Money insights: categories, rules, recurring series and decisions, runway, spending."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from flask import Blueprint

from service.api._deps import audit_signer
from service.api.schemas import (
    CategoryList,
    RuleIn,
    RuleList,
    RuleOut,
    RunwayOut,
    RunwayQuery,
    SeriesList,
    SeriesOut,
    SeriesPatch,
    SpendingOut,
    SpendingQuery,
)
from service.domain.money import Money, to_minor
from service.http import current_database, current_principal, endpoint
from service.repositories.insights import CategoryRule
from service.use_cases import insights as uc

bp = Blueprint("insights", __name__, url_prefix="/v1")
_RULE_CURRENCY = uc.RUNWAY_CURRENCY


def _rule_out(rule: CategoryRule) -> dict[str, Any]:
    def major(minor: int | None) -> str | None:
        return None if minor is None else str(Money(minor, _RULE_CURRENCY).amount)

    return {"id": rule.id, "category": rule.category, "priority": rule.priority,
            "merchant": rule.merchant, "text": rule.text,
            "min_amount": major(rule.min_amount_minor),
            "max_amount": major(rule.max_amount_minor), "direction": rule.direction,
            "created_at": rule.created_at, "updated_at": rule.updated_at}


def _rule_input(body: RuleIn) -> uc.RuleInput:
    def minor(amount: Decimal | None) -> int | None:
        return None if amount is None else to_minor(amount, _RULE_CURRENCY)

    return uc.RuleInput(category=body.category, priority=body.priority,
                        merchant=body.merchant, text=body.text,
                        min_amount_minor=minor(body.min_amount),
                        max_amount_minor=minor(body.max_amount), direction=body.direction)


@endpoint(bp, "GET", "/families/<fid>/categories", response=CategoryList,
          summary="List the category taxonomy", tags=["insights"],
          responses={404: "Not a member"})
def list_categories(*, fid: UUID) -> dict[str, Any]:
    """The taxonomy's ids and labels: the only values ``PATCH /v1/transactions/{tid}``
    and rules accept as a category."""
    return {"items": uc.categories(current_database(), current_principal(), fid)}


@endpoint(bp, "GET", "/families/<fid>/rules", response=RuleList,
          summary="List categorisation rules", tags=["insights"],
          responses={403: "Children may not", 404: "Not a member"})
def list_rules(*, fid: UUID) -> dict[str, Any]:
    """The family's rules, highest priority first (owners and adults)."""
    rules = uc.list_rules(current_database(), current_principal(), fid)
    return {"items": [_rule_out(r) for r in rules]}


@endpoint(bp, "POST", "/families/<fid>/rules", body=RuleIn, response=RuleOut, status=201,
          summary="Create a categorisation rule", tags=["insights"],
          responses={403: "Children may not", 404: "Not a member", 422: "Invalid rule"})
def create_rule(*, fid: UUID, body: RuleIn) -> dict[str, Any]:
    """Add a rule (owners and adults); it applies to transactions no member categorised,
    from the next sync's refresh."""
    rule = uc.create_rule(current_database(), audit_signer(), current_principal(), fid,
                          _rule_input(body))
    return _rule_out(rule)


@endpoint(bp, "PUT", "/families/<fid>/rules/<rid>", body=RuleIn, response=RuleOut,
          summary="Replace a categorisation rule", tags=["insights"],
          responses={403: "Children may not", 404: "No such rule", 422: "Invalid rule"})
def replace_rule(*, fid: UUID, rid: UUID, body: RuleIn) -> dict[str, Any]:
    """Replace every field of a rule (owners and adults)."""
    rule = uc.update_rule(current_database(), audit_signer(), current_principal(), fid, rid,
                          rule=_rule_input(body))
    return _rule_out(rule)


@endpoint(bp, "DELETE", "/families/<fid>/rules/<rid>", status=204,
          summary="Delete a categorisation rule", tags=["insights"],
          responses={403: "Children may not", 404: "No such rule"})
def delete_rule(*, fid: UUID, rid: UUID) -> None:
    """Delete a rule (owners and adults)."""
    uc.delete_rule(current_database(), audit_signer(), current_principal(), fid, rid)


@endpoint(bp, "GET", "/families/<fid>/recurring", response=SeriesList,
          summary="List recurring payments and income", tags=["insights"],
          responses={404: "Not a member"})
def list_recurring(*, fid: UUID) -> dict[str, Any]:
    """Series detected by the last sync over the accounts the caller may see, with next
    dates and amounts, a readable explanation and the members' decision."""
    return {"items": uc.recurring(current_database(), current_principal(), fid)}


@endpoint(bp, "PATCH", "/recurring/<sid>", body=SeriesPatch, response=SeriesOut,
          summary="Confirm or dismiss a recurring series", tags=["insights"],
          responses={403: "Children may not", 404: "Not visible to the caller"})
def patch_recurring(*, sid: str, body: SeriesPatch) -> uc.SeriesView:
    """Owners and adults confirm or dismiss a series; the decision persists across
    re-detection, and a dismissed series is left out of runway."""
    return uc.decide_recurring(current_database(), audit_signer(), current_principal(), sid,
                               body.decision)


@endpoint(bp, "GET", "/families/<fid>/runway", query=RunwayQuery, response=RunwayOut,
          summary="Project how long the money lasts", tags=["insights"],
          responses={404: "Not a member", 422: "Invalid scenario"})
def get_runway(*, fid: UUID, query: RunwayQuery) -> dict[str, Any]:
    """Day-by-day projection of the caller-visible current and savings accounts (GBP) from
    their latest balance: active recurring series on their predicted dates, minus the
    discretionary daily spend of the last 90 days."""
    buffer = None if query.buffer is None else to_minor(query.buffer, uc.RUNWAY_CURRENCY)
    report = uc.runway(current_database(), current_principal(), fid, scenario=query.scenario,
                       buffer_minor=buffer, horizon_days=query.horizon)
    return {
        "as_of": report.as_of, "currency": report.currency,
        "account_count": report.account_count, "balance": report.balance,
        "horizon_days": report.horizon_days, "runway_days": report.runway_days,
        "zero_date": report.zero_date, "below_buffer_date": report.below_buffer_date,
        "buffer": report.buffer, "discretionary_daily": report.discretionary_daily,
        "scenario": report.scenario, "series_ids": report.series_ids,
        "daily": [{"date": day, "balance": str(balance.amount)}
                  for day, balance in report.daily],
    }


@endpoint(bp, "GET", "/families/<fid>/spending", query=SpendingQuery, response=SpendingOut,
          summary="Spending by category per period", tags=["insights"],
          responses={404: "Not a member", 422: "Invalid range"})
def get_spending(*, fid: UUID, query: SpendingQuery) -> uc.SpendingReport:
    """Money out and in per category and period over the accounts the caller may see;
    transfers between the family's own accounts are left out."""
    return uc.spending(current_database(), current_principal(), fid, period=query.period,
                       start=query.start, end=query.end, by=query.by)
