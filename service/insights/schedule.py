"""Payment schedules: the calendar rule behind a recurring series, fitted to its dates.

Two shapes of rule:

- interval cadences (weekly, fortnightly, four-weekly): an anchor date plus whole periods;
- month cadences (monthly, quarterly, annual): a day of the month (clamped to short months)
  or the last working day of the month.

Either may be shifted off weekends and England-and-Wales bank holidays: to the next working day
(how BACS collects a Direct Debit due on a non-working day) or to the previous one (how payroll
and benefits are paid). Fitting picks the rule with the smallest total distance to the dates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Final, Literal

from service.insights import working_days as wd

Frequency = Literal["weekly", "fortnightly", "four_weekly", "monthly", "quarterly", "annual"]
Shift = Literal["none", "next", "previous"]

#: Days per period of interval cadences.
INTERVAL_DAYS: Final[dict[str, int]] = {"weekly": 7, "fortnightly": 14, "four_weekly": 28}
#: Months per period of month cadences.
MONTH_STEP: Final[dict[str, int]] = {"monthly": 1, "quarterly": 3, "annual": 12}
#: Typical days per period, for every cadence.
PERIOD_DAYS: Final[dict[str, float]] = {
    "weekly": 7,
    "fortnightly": 14,
    "four_weekly": 28,
    "monthly": 30.44,
    "quarterly": 91.31,
    "annual": 365.25,
}
_SHIFTS: Final[tuple[Shift, ...]] = ("none", "next", "previous")
_LAST_WORKING_DAY: Final = 0


@lru_cache(maxsize=8192)
def _shifted(day: date, shift: Shift) -> date:
    if shift == "next":
        return wd.next_working_day(day)
    if shift == "previous":
        return wd.previous_working_day(day)
    return day


@dataclass(frozen=True, slots=True)
class Schedule:
    """A fitted rule: ``frequency`` plus either ``anchor`` (interval) or ``day`` (month)."""

    frequency: Frequency
    shift: Shift
    anchor: date | None = None
    day: int | None = None  # 1..31, or 0 for the last working day of the month

    @property
    def period_days(self) -> float:
        """Typical days between occurrences."""
        return PERIOD_DAYS[self.frequency]

    def on_month(self, year: int, month: int) -> date:
        """The occurrence in a given month (month cadences)."""
        return date.fromordinal(_month_ordinal(self.day or 0, self.shift, year * 12 + month - 1))

    def on_index(self, index: int) -> date:
        """The ``index``-th occurrence from the anchor (interval cadences)."""
        assert self.anchor is not None
        step = INTERVAL_DAYS[self.frequency]
        return date.fromordinal(_interval_ordinal(self.anchor.toordinal(), step, self.shift, index))

    def nearest(self, day: date) -> tuple[date, int]:
        """The scheduled date nearest to ``day`` and its position (index or month number)."""
        distance, position = self._nearest(day.toordinal(), day.year * 12 + day.month - 1)
        return date.fromordinal(day.toordinal() + distance), position

    def _nearest(self, ordinal: int, month_index: int) -> tuple[int, int]:
        """(signed days from ``ordinal`` to the nearest scheduled date, its position)."""
        best = (10**6, 0)
        if self.anchor is not None:
            step = INTERVAL_DAYS[self.frequency]
            anchor = self.anchor.toordinal()
            index = round((ordinal - anchor) / step)
            for i in (index, index - 1, index + 1):
                delta = _interval_ordinal(anchor, step, self.shift, i) - ordinal
                if abs(delta) < abs(best[0]):
                    best = (delta, i)
            return best
        day = self.day or 0
        for m in (month_index, month_index - 1, month_index + 1):
            delta = _month_ordinal(day, self.shift, m) - ordinal
            if abs(delta) < abs(best[0]):
                best = (delta, m)
        return best

    def distances(self, days: Sequence[date], *, limit: int | None = None) -> list[int] | None:
        """Days from each date to the schedule; ``None`` as soon as the total passes ``limit``."""
        out: list[int] = []
        total = 0
        for d in days:
            gap = abs(self._nearest(d.toordinal(), d.year * 12 + d.month - 1)[0])
            total += gap
            if limit is not None and total >= limit:
                return None
            out.append(gap)
        return out

    def following(self, position: int) -> Iterator[date]:
        """Scheduled dates after the occurrence at ``position`` (from :meth:`nearest`)."""
        if self.anchor is not None:
            index = position + 1
            while True:
                yield self.on_index(index)
                index += 1
        step = MONTH_STEP[self.frequency]
        month = position + step
        while True:
            yield self.on_month(month // 12, month % 12 + 1)
            month += step

    def describe(self) -> str:
        """The rule in words, e.g. "on the 1st (next working day if not one)"."""
        shift = {
            "none": "",
            "next": ", moved to the next working day at weekends and bank holidays",
            "previous": ", paid the working day before at weekends and bank holidays",
        }[self.shift]
        if self.anchor is not None:
            return f"every {_weekday(self.anchor)}{_interval_words(self.frequency)}{shift}"
        if self.day == _LAST_WORKING_DAY:
            when = "on the last working day of the month"
        elif self.day is not None and self.day >= 31:
            when = "on the last day of the month"
        else:
            when = f"on the {_ordinal(self.day or 1)}"
        if self.frequency == "quarterly":
            when += " every three months"
        elif self.frequency == "annual":
            when += " once a year"
        return when + shift


def fit(frequency: Frequency, days: Sequence[date]) -> tuple[Schedule, list[int]]:
    """The schedule of ``frequency`` closest to ``days`` and each date's distance to it."""
    candidates: list[Schedule] = []
    if frequency in INTERVAL_DAYS:
        step = INTERVAL_DAYS[frequency]
        first = days[0]
        anchors = Counter(
            first + timedelta(days=(d - first).days - round((d - first).days / step) * step)
            for d in days
        )
        for anchor, _ in anchors.most_common(2):
            candidates += [Schedule(frequency, s, anchor=anchor) for s in _SHIFTS]
    else:
        by_day = Counter(d.day for d in days)
        choices = [day for day, _ in by_day.most_common(2)]
        if max(by_day) >= 28 and 31 not in choices:
            choices.append(31)
        for day in choices:
            candidates += [Schedule(frequency, s, day=day) for s in _SHIFTS]
        candidates.append(Schedule(frequency, "previous", day=_LAST_WORKING_DAY))
    best: tuple[int, Schedule, list[int]] | None = None
    for candidate in candidates:
        distances = candidate.distances(days, limit=None if best is None else best[0])
        if distances is not None:
            best = (sum(distances), candidate, distances)
    assert best is not None
    chosen = best[1]
    if chosen.day == 31 and chosen.shift == "previous":  # the same dates, in plainer words
        chosen = Schedule(frequency, "previous", day=_LAST_WORKING_DAY)
    return chosen, best[2]


@lru_cache(maxsize=65536)
def _month_ordinal(day: int, shift: Shift, month_index: int) -> int:
    year, month = divmod(month_index, 12)
    if day == _LAST_WORKING_DAY:
        return wd.last_working_day_of_month(year, month + 1).toordinal()
    return _shifted(wd.clamped_date(year, month + 1, day), shift).toordinal()


@lru_cache(maxsize=65536)
def _interval_ordinal(anchor: int, step: int, shift: Shift, index: int) -> int:
    return _shifted(date.fromordinal(anchor + index * step), shift).toordinal()


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _weekday(day: date) -> str:
    return day.strftime("%A")


def _interval_words(frequency: str) -> str:
    return {"weekly": "", "fortnightly": " fortnightly", "four_weekly": " every four weeks"}[
        frequency
    ]
