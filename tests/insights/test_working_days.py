"""England-and-Wales working days come from the maintained calendar, substitute days included."""

from __future__ import annotations

from datetime import date

from service.insights import working_days as wd


def test_bank_holidays_of_2024() -> None:
    assert wd.bank_holidays(2024) == {
        date(2024, 1, 1), date(2024, 3, 29), date(2024, 4, 1), date(2024, 5, 6),
        date(2024, 5, 27), date(2024, 8, 26), date(2024, 12, 25), date(2024, 12, 26),
    }  # fmt: skip


def test_substitute_days_and_shifts() -> None:
    # Christmas 2027 falls on a weekend: Monday 27 and Tuesday 28 December are bank holidays.
    assert wd.next_working_day(date(2027, 12, 25)) == date(2027, 12, 29)
    assert wd.previous_working_day(date(2027, 12, 28)) == date(2027, 12, 24)
    assert wd.last_working_day_of_month(2024, 3) == date(2024, 3, 28)  # Good Friday, weekend
    assert wd.last_working_day_of_month(2024, 8) == date(2024, 8, 30)
    assert wd.is_working_day(date(2024, 4, 2)) and not wd.is_working_day(date(2024, 4, 1))


def test_month_arithmetic() -> None:
    assert wd.add_months(2024, 11, 3) == (2025, 2)
    assert wd.add_months(2024, 1, -1) == (2023, 12)
    assert wd.clamped_date(2024, 2, 31) == date(2024, 2, 29)
    assert wd.clamped_date(2023, 2, 31) == date(2023, 2, 28)
