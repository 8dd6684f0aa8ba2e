"""Recurring detection: cadences, bank-holiday shifts, price changes, noise, status, ids."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from devtools.households import generate_household
from devtools.households.export import to_transaction
from service.insights import working_days as wd
from service.insights.model import Transaction
from service.insights.recurring import RecurringIndex, Series, detect_recurring
from tests.insights.builders import series_of, txn


def only(found: list[Series]) -> Series:
    assert len(found) == 1, [(s.merchant, s.frequency) for s in found]
    return found[0]


def every(start: date, days: int, count: int) -> list[date]:
    return [start + timedelta(days=days * i) for i in range(count)]


def test_weekly_pay_moves_before_good_friday() -> None:
    fridays = every(date(2024, 1, 5), 7, 26)
    paid = [date(2024, 3, 28) if d == date(2024, 3, 29) else d for d in fridays]  # Good Friday
    rows = series_of("w", paid, "480.00", "KORVEL LTD WAGES")
    s = only(detect_recurring(rows, as_of=date(2024, 7, 1)))
    assert (s.frequency, s.direction, s.status) == ("weekly", "inflow", "active")
    assert len(s.transaction_ids) == 26
    assert s.schedule.shift == "previous"
    assert s.next_date == date(2024, 7, 5)
    assert s.next_amount == Decimal("480.00")


def test_fortnightly() -> None:
    rows = series_of("f", every(date(2024, 1, 2), 14, 12), "-60.00", "HARTLEY TUTORING SO")
    s = only(detect_recurring(rows, as_of=date(2024, 6, 20)))
    assert s.frequency == "fortnightly"
    assert s.next_date == date(2024, 6, 18)  # due two days ago, still within grace
    assert s.status == "active"


def test_four_weekly_child_benefit_paid_early_around_bank_holidays() -> None:
    mondays = every(date(2024, 1, 8), 28, 10)
    shifted = {date(2024, 4, 1): date(2024, 3, 28), date(2024, 5, 27): date(2024, 5, 24)}
    rows = series_of("c", [shifted.get(d, d) for d in mondays], "102.40", "HMRC CHILD BENEFIT")
    s = only(detect_recurring(rows, as_of=date(2024, 9, 20)))
    assert s.frequency == "four_weekly"  # not monthly, although the gaps are close
    assert len(s.transaction_ids) == 10
    assert s.next_date == date(2024, 10, 14)


def test_monthly_direct_debit_moves_to_the_next_working_day() -> None:
    paid = [
        date(2024, 1, 2),  # New Year's Day
        date(2024, 2, 1), date(2024, 3, 1),
        date(2024, 4, 2),  # Easter Monday
        date(2024, 5, 1),
        date(2024, 6, 3),  # Saturday
        date(2024, 7, 1), date(2024, 8, 1),
        date(2024, 9, 2),  # Sunday
        date(2024, 10, 1), date(2024, 11, 1),
        date(2024, 12, 2),  # Sunday
    ]  # fmt: skip
    rows = series_of("m", paid, "-1250.00", "HALIFAX MORTGAGE DD")
    s = only(detect_recurring(rows, as_of=date(2024, 12, 10)))
    assert (s.frequency, s.schedule.day, s.schedule.shift) == ("monthly", 1, "next")
    assert s.next_date == date(2025, 1, 2)  # 1 January 2025 is a bank holiday
    assert "next working day" in s.explanation


def test_monthly_last_working_day_salary() -> None:
    paid = [
        date(2024, 1, 31), date(2024, 2, 29),
        date(2024, 3, 28),  # Good Friday and a weekend
        date(2024, 4, 30), date(2024, 5, 31), date(2024, 6, 28), date(2024, 7, 31),
        date(2024, 8, 30), date(2024, 9, 30), date(2024, 10, 31), date(2024, 11, 29),
        date(2024, 12, 31),
    ]  # fmt: skip
    rows = series_of("s", paid, "2812.55", "KORVEL GROUP BGC")
    s = only(detect_recurring(rows, as_of=date(2025, 1, 3)))
    assert (s.frequency, s.schedule.day) == ("monthly", 0)
    assert "last working day" in s.explanation
    assert s.next_date == date(2025, 1, 31)


def test_month_end_card_payment_clamps_to_short_months() -> None:
    paid = [wd.clamped_date(2023, m, 31) for m in range(1, 13)]
    rows = series_of("e", paid, "-9.99", "KORVEL STREAM")
    s = only(detect_recurring(rows, as_of=date(2024, 1, 2)))
    assert s.frequency == "monthly"
    assert s.next_date == date(2024, 1, 31)
    assert "last day of the month" in s.explanation


def test_quarterly_and_annual() -> None:
    quarters = [
        wd.next_working_day(date(y, m, 15)) for y in (2022, 2023, 2024) for m in (1, 4, 7, 10)
    ]
    years = [wd.next_working_day(date(y, 3, 10)) for y in (2021, 2022, 2023, 2024)]
    rows = series_of("q", quarters, "-134.20", "KORVEL WATER DD") + series_of(
        "a", years, "-312.00", "KORVEL HOME INSURANCE"
    )
    found = {s.merchant_key: s for s in detect_recurring(rows, as_of=date(2024, 11, 1))}
    assert found["korvel water"].frequency == "quarterly"
    assert found["korvel water"].next_date == date(2025, 1, 15)
    assert found["korvel home insurance"].frequency == "annual"
    assert found["korvel home insurance"].next_date == date(2025, 3, 10)


def test_price_rise_is_reported_and_predicted() -> None:
    dates = [date(2023, m, 14) for m in range(1, 13)] + [date(2024, m, 14) for m in range(1, 7)]
    amounts = ["-10.99"] * 10 + ["-12.99"] * 8
    pairs = enumerate(zip(dates, amounts, strict=True))
    rows = [txn(f"n{i}", d, a, "NETFLIX.COM") for i, (d, a) in pairs]
    s = only(detect_recurring(rows, as_of=date(2024, 6, 20)))
    assert len(s.transaction_ids) == 18
    assert [(c.on, c.previous, c.new) for c in s.price_changes] == [
        (date(2023, 11, 14), Decimal("10.99"), Decimal("12.99"))
    ]
    assert s.next_amount == Decimal("-12.99")
    assert "price rose from £10.99 to £12.99" in s.explanation


def test_variable_energy_bill() -> None:
    amounts = ["-120", "-110", "-90", "-70", "-60", "-55", "-60", "-75", "-95", "-115", "-130",
               "-140"]  # fmt: skip
    dates = [wd.next_working_day(date(2024, m, 5)) for m in range(1, 13)]
    pairs = enumerate(zip(dates, amounts, strict=True))
    rows = [txn(f"e{i}", d, a, "KORVEL ENERGY DD") for i, (d, a) in pairs]
    s = only(detect_recurring(rows, as_of=date(2024, 12, 20)))
    assert s.variable and not s.price_changes
    assert s.next_amount == Decimal("-128.33")  # mean of the last three
    assert (s.min_amount, s.max_amount) == (Decimal("-55"), Decimal("-140"))
    assert "varies from £55.00 to £140.00" in s.explanation


def test_one_missed_occurrence_is_tolerated() -> None:
    dates = [wd.next_working_day(date(2024, m, 8)) for m in range(1, 13) if m != 6]
    s = only(detect_recurring(series_of("g", dates, "-35.00", "PUREGYM"), as_of=date(2024, 12, 9)))
    assert len(s.transaction_ids) == 11
    assert s.missed == 1
    assert "missed" in s.explanation


def test_one_off_at_the_same_merchant_is_not_part_of_the_series() -> None:
    dates = [wd.next_working_day(date(2024, m, 8)) for m in range(1, 13)]
    rows = series_of("g", dates, "-35.00", "PUREGYM")
    rows += [txn("oneoff-1", date(2024, 5, 20), "-10.00", "PUREGYM"),
             txn("oneoff-2", date(2024, 9, 9), "-95.00", "PUREGYM")]  # fmt: skip
    s = only(detect_recurring(rows, as_of=date(2024, 12, 9)))
    assert len(s.transaction_ids) == 12
    assert not {"oneoff-1", "oneoff-2"} & set(s.transaction_ids)


def test_ended_series() -> None:
    rows = series_of("x", [date(2024, m, 3) for m in range(1, 6)], "-7.99", "KORVEL MUSIC")
    ended = only(detect_recurring(rows, as_of=date(2024, 8, 1)))
    assert (ended.status, ended.next_date, ended.next_amount) == ("ended", None, None)
    assert "ended: expected by 3 Jun 2024" in ended.explanation
    late = only(detect_recurring(rows, as_of=date(2024, 6, 10)))  # a week late: still active
    assert (late.status, late.next_date) == ("active", date(2024, 6, 3))


def test_everyday_shopping_is_not_a_series_but_a_subscription_there_is() -> None:
    rng = random.Random(4)
    day, rows = date(2024, 1, 1), []
    while day < date(2024, 12, 31):
        rows.append(txn(f"s{day}", day, f"-{rng.uniform(3, 90):.2f}", "AMAZON.CO.UK*AB12"))
        day += timedelta(days=rng.randint(1, 4))
    assert detect_recurring(rows, as_of=date(2024, 12, 31)) == []
    rows += series_of("sub", [date(2024, m, 17) for m in range(1, 13)], "-8.99", "AMAZON.CO.UK")
    s = only(detect_recurring(rows, as_of=date(2024, 12, 31)))
    assert s.frequency == "monthly"
    assert {t for t in s.transaction_ids} == {f"sub-{i:03d}" for i in range(12)}


def test_cash_withdrawals_are_not_series() -> None:
    rows = series_of("c", every(date(2024, 1, 5), 7, 30), "-50.00", "NOTEMACHINE YORK",
                     provider_category="ATM")  # fmt: skip
    assert detect_recurring(rows, as_of=date(2024, 8, 1)) == []


def _household() -> list[Transaction]:
    household = generate_household(31, start=date(2022, 1, 1), end=date(2024, 12, 31))
    return [to_transaction(t) for t in household.transactions if not t.pending]


def _shape(found: list[Series]) -> list[tuple[str, str, tuple[str, ...], str]]:
    return [(s.id, s.frequency, s.transaction_ids, s.status) for s in found]


def test_ids_are_deterministic_and_independent_of_input_order() -> None:
    rows = _household()
    first = detect_recurring(rows, as_of=date(2024, 12, 31))
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    assert _shape(detect_recurring(shuffled, as_of=date(2024, 12, 31))) == _shape(first)
    assert len({s.id for s in first}) == len(first) > 10


@pytest.mark.parametrize("chunks", [2, 5, 36])
def test_incremental_index_matches_full_detection(chunks: int) -> None:
    rows = _household()
    index = RecurringIndex()
    size = len(rows) // chunks + 1
    for start in range(0, len(rows), size):
        index.add(rows[start : start + size])
    as_of = date(2024, 12, 31)
    assert _shape(index.series(as_of=as_of)) == _shape(detect_recurring(rows, as_of=as_of))
    assert index.add(rows[-50:]) == set()  # a re-run changes nothing


def test_ids_survive_a_sync_and_decisions_persist() -> None:
    rows = _household()
    early = [t for t in rows if t.booked <= date(2024, 6, 30)]
    before = {s.merchant_key: s for s in detect_recurring(early, as_of=date(2024, 6, 30))}
    active = [s for s in before.values() if s.status == "active"]
    dismissed, confirmed = active[0], active[1]
    decisions = {dismissed.id: "dismissed", confirmed.id: "confirmed"}
    after = detect_recurring(rows, as_of=date(2024, 12, 31), decisions=decisions)  # type: ignore[arg-type]
    by_id = {s.id: s for s in after}
    assert by_id[dismissed.id].decision == "dismissed"
    assert by_id[confirmed.id].decision == "confirmed"
    assert len(by_id[dismissed.id].transaction_ids) > len(dismissed.transaction_ids)
    assert "dismissed by a member" in by_id[dismissed.id].explanation

    index = RecurringIndex()
    index.add(early)
    index.decide(dismissed.id, "dismissed")
    index.add(t for t in rows if t.booked > date(2024, 6, 30))
    assert {s.id: s.decision for s in index.series(as_of=date(2024, 12, 31))}[dismissed.id] == (
        "dismissed"
    )
    assert index.decisions == {dismissed.id: "dismissed"}


def test_transactions_after_the_as_of_date_are_ignored() -> None:
    rows = series_of("m", [date(2024, m, 3) for m in range(1, 13)], "-20.00", "KORVEL MOBILE")
    s = only(detect_recurring(rows, as_of=date(2024, 6, 10)))
    assert s.last_date == date(2024, 6, 3) and len(s.transaction_ids) == 6
