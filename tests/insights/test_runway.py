"""Runway: the issue's formula on hand-computed cases, and its scenarios."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.insights.categorisation import categorise
from service.insights.errors import InsightsError, UnknownSeriesError
from service.insights.model import Transaction
from service.insights.recurring import detect_recurring
from service.insights.runway import Runway, Scenario, discretionary_daily, runway
from service.insights.runway import project as run_projection
from tests.insights.builders import txn

AS_OF = date(2024, 3, 31)

# 900.00 of discretionary spending in the 90 days up to 31 March: 10.00 a day.
SPENDING = [
    txn("old", date(2024, 1, 1), "-1000.00", "KORVEL"),  # 90 days before: outside the window
    txn("d1", date(2024, 1, 2), "-450.00", "KORVEL"),  # first day of the window
    txn("d2", AS_OF, "-450.00", "KORVEL"),
    txn("p2p", date(2024, 2, 10), "-500.00", "TO J SMITH"),  # transfers do not count
    txn("in", date(2024, 2, 11), "300.00", "J SMITH PAYBACK"),  # money in does not count
    txn("later", date(2024, 4, 2), "-77.00", "KORVEL"),  # after the as-of date
]
RECURRING = [
    txn("rent1", date(2024, 1, 2), "-500.00", "KORVEL LETTINGS DD"),  # 1 Jan is a bank holiday
    txn("rent2", date(2024, 2, 1), "-500.00", "KORVEL LETTINGS DD"),
    txn("rent3", date(2024, 3, 1), "-500.00", "KORVEL LETTINGS DD"),
    txn("pay1", date(2024, 1, 15), "1000.00", "KORVEL LTD BGC"),
    txn("pay2", date(2024, 2, 15), "1000.00", "KORVEL LTD BGC"),
    txn("pay3", date(2024, 3, 15), "1000.00", "KORVEL LTD BGC"),
]


def project(rows: list[Transaction], balance: str, **kw: object) -> Runway:
    known = [t for t in rows if t.booked <= AS_OF]
    series = detect_recurring(known, as_of=AS_OF)
    categories = {r.transaction_id: r.category for r in categorise(known)}
    return runway(
        known, balance=Decimal(balance), as_of=AS_OF, series=series, categories=categories, **kw
    )  # type: ignore[arg-type]


def balance_on(result: Runway, day: date) -> Decimal:
    return dict(result.daily)[day]


def test_discretionary_daily_is_90_days_of_non_recurring_non_transfer_outflows() -> None:
    categories = {r.transaction_id: r.category for r in categorise(SPENDING)}
    assert categories["p2p"] == "transfers"
    spend = discretionary_daily(SPENDING, as_of=AS_OF, categories=categories, recurring_ids=set())
    assert spend == Decimal("10.00")
    assert discretionary_daily(
        SPENDING, as_of=AS_OF, categories=categories, recurring_ids={"d1"}
    ) == Decimal("5.00")


def test_runway_without_series_counts_days_to_the_first_negative_balance() -> None:
    result = project(SPENDING, "100.00", horizon_days=30, buffer=Decimal("50"))
    assert result.discretionary_daily == Decimal("10.00")
    assert len(result.daily) == 30 and result.daily[0][0] == date(2024, 4, 1)
    assert balance_on(result, date(2024, 4, 10)) == Decimal("0.00")  # zero is not below zero
    assert result.zero_date == date(2024, 4, 11)
    assert result.runway_days == 11
    assert result.below_buffer_date == date(2024, 4, 6)  # 40.00 < 50
    assert result.daily[-1] == (date(2024, 4, 30), Decimal("-200.00"))


def test_recurring_series_move_the_balance_on_their_predicted_dates() -> None:
    result = project(SPENDING + RECURRING, "1000.00", horizon_days=40)
    assert result.discretionary_daily == Decimal("10.00")  # rent and pay are recurring
    assert balance_on(result, date(2024, 4, 1)) == Decimal("990.00")  # Easter Monday: no rent
    assert balance_on(result, date(2024, 4, 2)) == Decimal("480.00")  # collected the day after
    assert balance_on(result, date(2024, 4, 14)) == Decimal("360.00")
    assert balance_on(result, date(2024, 4, 15)) == Decimal("1350.00")  # pay day
    assert balance_on(result, date(2024, 5, 1)) == Decimal("690.00")
    assert result.daily[-1] == (date(2024, 5, 10), Decimal("600.00"))
    assert (result.runway_days, result.zero_date, result.below_buffer_date) == (None, None, None)


def test_scenario_income_stops() -> None:
    result = project(SPENDING + RECURRING, "1000.00", horizon_days=40,
                     scenario=Scenario(income_stops=True))  # fmt: skip
    assert balance_on(result, date(2024, 4, 15)) == Decimal("350.00")
    assert balance_on(result, date(2024, 4, 30)) == Decimal("200.00")
    assert (result.zero_date, result.runway_days) == (date(2024, 5, 1), 31)


def test_scenario_cancel_a_series() -> None:
    known = [t for t in SPENDING + RECURRING if t.booked <= AS_OF]
    rent = next(s for s in detect_recurring(known, as_of=AS_OF) if s.direction == "outflow")
    result = project(SPENDING + RECURRING, "1000.00", horizon_days=40,
                     scenario=Scenario(cancelled=(rent.id,)))  # fmt: skip
    assert balance_on(result, date(2024, 4, 2)) == Decimal("980.00")
    with pytest.raises(UnknownSeriesError):
        project(SPENDING, "1", scenario=Scenario(cancelled=("rs_nope",)))


def test_scenario_one_off_expense() -> None:
    expense = Scenario(expenses=((date(2024, 4, 10), Decimal("2000")),))
    result = project(SPENDING + RECURRING, "1000.00", horizon_days=40, scenario=expense)
    assert balance_on(result, date(2024, 4, 10)) == Decimal("-1600.00")
    assert (result.zero_date, result.runway_days) == (date(2024, 4, 10), 10)
    with pytest.raises(InsightsError):
        project(SPENDING, "1", scenario=Scenario(expenses=((AS_OF, Decimal(1)),)))


def test_already_below_zero_and_horizon() -> None:
    result = project(SPENDING, "-5.00", horizon_days=3, buffer=Decimal(0))
    assert (result.runway_days, result.zero_date, result.below_buffer_date) == (0, AS_OF, AS_OF)
    assert [d for d, _ in result.daily] == [AS_OF + timedelta(days=i) for i in (1, 2, 3)]
    with pytest.raises(InsightsError):
        project(SPENDING, "1", horizon_days=0)


def test_dismissed_series_are_spending_not_projection() -> None:
    known = [t for t in SPENDING + RECURRING if t.booked <= AS_OF]
    series = detect_recurring(known, as_of=AS_OF)
    rent = next(s for s in series if s.direction == "outflow")
    dismissed = detect_recurring(known, as_of=AS_OF, decisions={rent.id: "dismissed"})
    categories = {r.transaction_id: r.category for r in categorise(known)}
    result = runway(known, balance=Decimal(1000), as_of=AS_OF, series=dismissed,
                    categories=categories, horizon_days=5)  # fmt: skip
    # all three rents fall in the window and now count as spending: (900 + 1500) / 90 a day,
    # and no rent is projected on 2 April
    assert result.discretionary_daily == Decimal("26.67")
    assert balance_on(result, date(2024, 4, 2)) == Decimal("946.66")


@given(
    balance=st.decimals("0", "20000", places=2),
    spend=st.decimals("0.01", "500", places=2),
    horizon=st.integers(1, 400),
)
def test_without_series_the_runway_has_a_closed_form(
    balance: Decimal, spend: Decimal, horizon: int
) -> None:
    result = project_plain(balance, spend, horizon)
    days = int(balance // spend) + 1  # the first day the balance is below zero
    assert result.runway_days == (days if days <= horizon else None)
    assert result.daily[-1][1] == balance - horizon * spend
    if result.zero_date is not None:
        assert result.zero_date == AS_OF + timedelta(days=days)


def project_plain(balance: Decimal, spend: Decimal, horizon: int) -> Runway:
    return run_projection(
        balance=balance, as_of=AS_OF, series=[], discretionary=spend, horizon_days=horizon
    )
