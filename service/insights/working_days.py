"""Working days in England and Wales: weekends and bank holidays, as BACS observes them.

Bank holidays come from the maintained ``holidays`` calendar (``GB``, subdivision ``ENG``),
imported on first use so that importing :mod:`service.insights` stays cheap.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

_ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=128)
def bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays of ``year``."""
    import holidays  # noqa: PLC0415 - deferred: a cold Lambda only pays for it when it needs it

    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a banking day in England and Wales (not a weekend or bank holiday)."""
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def next_working_day(day: date) -> date:
    """``day`` itself if it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += _ONE_DAY
    return day


def previous_working_day(day: date) -> date:
    """``day`` itself if it is a working day, else the last working day before it."""
    while not is_working_day(day):
        day -= _ONE_DAY
    return day


def last_working_day_of_month(year: int, month: int) -> date:
    """The last banking day of the month."""
    return previous_working_day(date(year, month, calendar.monthrange(year, month)[1]))


def add_months(year: int, month: int, months: int) -> tuple[int, int]:
    """The (year, month) ``months`` after (year, month); negative steps go back."""
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def clamped_date(year: int, month: int, day: int) -> date:
    """``day`` of the month, or the month's last day when the month is shorter."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))
