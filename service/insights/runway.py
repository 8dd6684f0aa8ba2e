"""Runway: how many days the money lasts, projected day by day from the current balance.

The projection starts from ``balance`` at the end of ``as_of`` and walks ``horizon`` days.
Each day, active recurring series add their predicted amounts on their predicted dates
(income in, bills out), and a discretionary daily spend is subtracted: the total of
non-recurring outflows, excluding ``transfers``, booked in the 90 days up to and including
``as_of``, divided by 90 (rounded to the penny). Runway is the number of days from ``as_of``
to the first day the projected balance is below zero (``None`` if not within the horizon);
the first day below an optional buffer is reported too.

Scenarios change the inputs, not the rule: income stops (no income series), a chosen series
is cancelled, a one-off expense falls on a date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from service.insights.errors import InsightsError, UnknownSeriesError
from service.insights.model import Transaction
from service.insights.recurring import Series

DISCRETIONARY_WINDOW_DAYS: Final = 90
DEFAULT_HORIZON_DAYS: Final = 365
_PENNY: Final = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Scenario:
    """What-ifs applied to a projection (combine freely)."""

    income_stops: bool = False
    cancelled: tuple[str, ...] = ()
    expenses: tuple[tuple[date, Decimal], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Runway:
    """A projection: the runway, its dates and the balance at the end of every day."""

    as_of: date
    horizon_days: int
    runway_days: int | None
    zero_date: date | None
    below_buffer_date: date | None
    discretionary_daily: Decimal
    daily: tuple[tuple[date, Decimal], ...]


def discretionary_daily(
    transactions: Iterable[Transaction],
    *,
    as_of: date,
    categories: Mapping[str, str],
    recurring_ids: set[str],
) -> Decimal:
    """Non-recurring, non-transfer outflows of the 90 days up to ``as_of``, per day."""
    since = as_of - timedelta(days=DISCRETIONARY_WINDOW_DAYS)
    total = sum(
        (
            -t.amount
            for t in transactions
            if t.amount < 0
            and since < t.booked <= as_of
            and t.id not in recurring_ids
            and categories.get(t.id) != "transfers"
        ),
        Decimal(0),
    )
    return (total / DISCRETIONARY_WINDOW_DAYS).quantize(_PENNY, rounding=ROUND_HALF_UP)


def income_series(series: Iterable[Series], categories: Mapping[str, str]) -> set[str]:
    """Ids of inflow series whose transactions are mostly categorised as income."""
    found: set[str] = set()
    for s in series:
        if s.direction != "inflow":
            continue
        income = sum(1 for i in s.transaction_ids if categories.get(i, "income") == "income")
        if income * 2 > len(s.transaction_ids):
            found.add(s.id)
    return found


def project(
    *,
    balance: Decimal,
    as_of: date,
    series: Sequence[Series],
    discretionary: Decimal,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    buffer: Decimal | None = None,
    scenario: Scenario = Scenario(),
    income_ids: set[str] | None = None,
) -> Runway:
    """Project the balance (see the module docstring); ``series`` are the detected series."""
    if horizon_days < 1:
        raise InsightsError("horizon must be at least one day")
    known = {s.id for s in series}
    unknown = [i for i in scenario.cancelled if i not in known]
    if unknown:
        raise UnknownSeriesError(f"no recurring series with id {', '.join(unknown)}")
    until = as_of + timedelta(days=horizon_days)
    for day, _ in scenario.expenses:
        if day <= as_of:
            raise InsightsError(f"expense date {day.isoformat()} is not after the as-of date")
    dropped = set(scenario.cancelled)
    if scenario.income_stops:
        dropped |= (
            income_ids
            if income_ids is not None
            else {s.id for s in series if s.direction == "inflow"}
        )
    flows: dict[date, Decimal] = {}
    for s in series:
        if s.id in dropped:
            continue
        for day, amount in s.upcoming(as_of, until):
            flows[day] = flows.get(day, Decimal(0)) + amount
    for day, amount in scenario.expenses:
        flows[day] = flows.get(day, Decimal(0)) - abs(amount)

    running = balance
    daily: list[tuple[date, Decimal]] = []
    zero_date = as_of if balance < 0 else None
    below_buffer = as_of if buffer is not None and balance < buffer else None
    for offset in range(1, horizon_days + 1):
        day = as_of + timedelta(days=offset)
        running = running + flows.get(day, Decimal(0)) - discretionary
        daily.append((day, running))
        if zero_date is None and running < 0:
            zero_date = day
        if buffer is not None and below_buffer is None and running < buffer:
            below_buffer = day
    return Runway(
        as_of=as_of,
        horizon_days=horizon_days,
        runway_days=None if zero_date is None else (zero_date - as_of).days,
        zero_date=zero_date,
        below_buffer_date=below_buffer,
        discretionary_daily=discretionary,
        daily=tuple(daily),
    )


def runway(
    transactions: Sequence[Transaction],
    *,
    balance: Decimal,
    as_of: date,
    series: Sequence[Series],
    categories: Mapping[str, str],
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    buffer: Decimal | None = None,
    scenario: Scenario = Scenario(),
) -> Runway:
    """Runway from transactions, their categories and the series detected in them.

    Dismissed series are neither projected nor treated as recurring: their payments count as
    discretionary spending, as the member said they are not a series. All transactions must be
    in one currency (the balance's): amounts in different currencies do not add up.
    """
    currencies = sorted({t.currency for t in transactions})
    if len(currencies) > 1:
        raise InsightsError(
            f"runway adds up one currency; the transactions hold {', '.join(currencies)}"
        )
    live = [s for s in series if s.decision != "dismissed"]
    recurring = {i for s in live for i in s.transaction_ids}
    spend = discretionary_daily(
        transactions, as_of=as_of, categories=categories, recurring_ids=recurring
    )
    return project(
        balance=balance,
        as_of=as_of,
        series=live,
        discretionary=spend,
        horizon_days=horizon_days,
        buffer=buffer,
        scenario=scenario,
        income_ids=income_series(live, categories),
    )
