"""Recurring payments and income: series found in a family's transactions.

How a series is found, per group of transactions with the same normalised merchant and
direction:

1. For each cadence (shortest first) a dynamic programme finds the longest chain of
   transactions whose gaps are one period (or two: one missed occurrence), preferring links
   between similar amounts, so one-off purchases at the same merchant stay out.
2. The chain's dates are fitted to a calendar rule (:mod:`service.insights.schedule`), and
   members further than the cadence's tolerance from it are dropped.
3. A chain that survives with enough occurrences becomes a series; in a busy group (many other
   payments to the merchant in the same span) only a chain of steady amounts counts, so weekly
   shopping at a supermarket is not a "series". Then the group is searched again for another
   series (two subscriptions billed by one merchant).

Detection (chains) does not depend on the as-of date; status, next date and explanation do
and are cheap, so :class:`RecurringIndex` keeps chains per group and re-detects only the
groups a sync touched.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right, insort
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Final, Literal

from service.insights.categorisation import known_merchant, merchant_key
from service.insights.model import Direction, Transaction
from service.insights.schedule import PERIOD_DAYS, Frequency, Schedule, fit

Decision = Literal["confirmed", "dismissed"]
Status = Literal["active", "ended"]

_PENNY: Final = Decimal("0.01")
#: Cadences in the order they are tried, with gap windows in days for one and two periods.
_WINDOWS: Final[dict[Frequency, tuple[int, int, int, int]]] = {
    # wide enough for a payment moved four days by a bank-holiday weekend (Easter, Christmas)
    "weekly": (3, 11, 12, 18),
    "fortnightly": (10, 18, 24, 32),
    "four_weekly": (24, 32, 52, 60),
    "monthly": (23, 38, 54, 68),
    "quarterly": (80, 102, 172, 194),
    "annual": (340, 390, 710, 750),
}
#: Furthest a member may be from the fitted schedule (days).
_TOLERANCE: Final[dict[Frequency, int]] = {
    "weekly": 2,
    "fortnightly": 3,
    "four_weekly": 3,
    "monthly": 4,
    "quarterly": 6,
    "annual": 10,
}
_MIN_OCCURRENCES: Final[dict[Frequency, int]] = {
    "weekly": 4,
    "fortnightly": 4,
    "four_weekly": 3,
    "monthly": 3,
    "quarterly": 3,
    "annual": 2,
}
#: How long after an expected date a series still counts as active (days).
_GRACE: Final[dict[Frequency, int]] = {
    "weekly": 10,
    "fortnightly": 17,
    "four_weekly": 10,
    "monthly": 10,
    "quarterly": 20,
    "annual": 35,
}
_STEADY: Final = 0.02  # amounts within 2% count as the same price
_VARIABLE_BILL: Final = 0.35  # most a long series' amounts may vary (coefficient of variation)
_FEW_STEADY: Final = 0.12  # ... and a short one's
_MAX_SERIES_PER_GROUP: Final = 4
_BUSY_MINIMUM: Final = 4  # occurrences a steady price needs to stand out at a busy merchant


@dataclass(frozen=True, slots=True)
class PriceChange:
    """A lasting change of a series' amount from one occurrence on."""

    on: date
    previous: Decimal
    new: Decimal


@dataclass(frozen=True, slots=True)
class Series:
    """A detected recurring series (amounts signed like transactions: negative is money out)."""

    id: str
    direction: Direction
    merchant: str
    merchant_key: str
    frequency: Frequency
    schedule: Schedule
    average_amount: Decimal
    min_amount: Decimal
    max_amount: Decimal
    last_amount: Decimal
    first_date: date
    last_date: date
    next_date: date | None
    next_amount: Decimal | None
    status: Status
    transaction_ids: tuple[str, ...]
    account_ids: tuple[str, ...]
    variable: bool
    price_changes: tuple[PriceChange, ...]
    missed: int
    explanation: str
    decision: Decision | None = None
    schedule_position: int = 0

    def upcoming(self, after: date, until: date) -> Iterator[tuple[date, Decimal]]:
        """Predicted occurrences in ``(after, until]`` (nothing once ended or dismissed)."""
        if self.status != "active" or self.decision == "dismissed" or self.next_date is None:
            return
        assert self.next_amount is not None
        for day in self.schedule.following(self.schedule_position):
            if day <= self.last_date:
                continue
            if day > until:
                return
            if day > after:
                yield day, self.next_amount


@dataclass(frozen=True, slots=True)
class _Chain:
    """A detected chain: what detection keeps per group, independent of the as-of date."""

    id: str
    key: str
    direction: Direction
    frequency: Frequency
    schedule: Schedule
    members: tuple[Transaction, ...]
    last_position: int
    missed: int

    def upcoming(self) -> Iterator[date]:
        last = self.members[-1].booked
        for day in self.schedule.following(self.last_position):
            if day > last:
                yield day


def series_id(direction: Direction, key: str, first_transaction_id: str) -> str:
    """Deterministic id: the same input gives the same id, and later syncs keep it."""
    digest = hashlib.sha256(f"{direction}|{key}|{first_transaction_id}".encode()).hexdigest()
    return f"rs_{digest[:16]}"


def detect_recurring(
    transactions: Iterable[Transaction],
    *,
    as_of: date,
    decisions: Mapping[str, Decision] | None = None,
) -> list[Series]:
    """Detect recurring series in transactions booked on or before ``as_of``.

    ``decisions`` (series id -> ``confirmed``/``dismissed``) are members' earlier choices;
    they are carried onto the series with the same id, so they persist across re-detection.
    """
    index = RecurringIndex(decisions=decisions)
    index.add(t for t in transactions if t.booked <= as_of)
    return index.series(as_of=as_of)


class RecurringIndex:
    """A family's transactions grouped for detection, re-detecting only what changes.

    ``add`` is idempotent (a transaction id seen before is ignored) and re-detects only the
    groups that received new transactions; ``series`` computes status as of a date.
    """

    def __init__(self, *, decisions: Mapping[str, Decision] | None = None) -> None:
        self._groups: dict[tuple[str, Direction], list[Transaction]] = {}
        self._chains: dict[tuple[str, Direction], list[_Chain]] = {}
        self._seen: set[str] = set()
        self._decisions: dict[str, Decision] = dict(decisions or {})
        self._presented: dict[tuple[str, Direction], tuple[date, list[Series]]] = {}

    def decide(self, series_id: str, decision: Decision | None) -> None:
        """Record (or with ``None`` clear) a member's confirmation or dismissal of a series."""
        if decision is None:
            self._decisions.pop(series_id, None)
        else:
            self._decisions[series_id] = decision
        self._presented.clear()

    @property
    def decisions(self) -> dict[str, Decision]:
        """Members' decisions by series id (a copy; persist it and pass it back next time)."""
        return dict(self._decisions)

    def add(self, transactions: Iterable[Transaction]) -> set[tuple[str, Direction]]:
        """Add transactions and re-detect the groups they touch; returns those groups."""
        touched: set[tuple[str, Direction]] = set()
        for txn in transactions:
            if txn.id in self._seen or txn.amount == 0:
                continue
            self._seen.add(txn.id)
            group = (merchant_key(txn), txn.direction)
            insort(self._groups.setdefault(group, []), txn, key=_date_order)
            touched.add(group)
        for group in touched:
            members = self._groups[group]
            self._presented.pop(group, None)
            self._chains[group] = _detect_group(group[0], group[1], members)
        return touched

    def series(self, *, as_of: date) -> list[Series]:
        """Every detected series with its status as of ``as_of``, in a stable order."""
        found: list[Series] = []
        for group, chains in self._chains.items():
            cached = self._presented.get(group)
            if cached is None or cached[0] != as_of:
                cached = (as_of, [_to_series(c, as_of, self._decisions.get(c.id)) for c in chains])
                self._presented[group] = cached
            found.extend(cached[1])
        found.sort(key=lambda s: (s.merchant_key, s.direction, s.transaction_ids[0]))
        return found


# -- detection ------------------------------------------------------------------------------


def _date_order(txn: Transaction) -> tuple[date, str]:
    return txn.booked, txn.id


def _detect_group(key: str, direction: Direction, members: list[Transaction]) -> list[_Chain]:
    if len(members) < 2 or _is_cash(key, members):
        return []
    remaining = list(members)
    chains: list[_Chain] = []
    while len(remaining) >= 2 and len(chains) < _MAX_SERIES_PER_GROUP:
        chain = _best_chain(key, direction, remaining, first=not chains)
        if chain is None:
            break
        chains.append(chain)
        taken = {t.id for t in chain.members}
        remaining = [t for t in remaining if t.id not in taken]
    return chains


def _is_cash(key: str, members: Sequence[Transaction]) -> bool:
    """Cash withdrawals repeat in round amounts but are not payments to anyone."""
    if known_merchant(key) == "cash":
        return True
    cash = sum(1 for t in members if (t.provider_category or "").upper() in {"ATM", "CASH"})
    return cash * 2 > len(members)


def _best_chain(
    key: str, direction: Direction, txns: list[Transaction], *, first: bool
) -> _Chain | None:
    days = [t.booked.toordinal() for t in txns]
    amounts = [float(abs(t.amount)) for t in txns]
    span = days[-1] - days[0]
    best: tuple[float, _Chain] | None = None
    buckets: list[list[int]] | None = None
    for frequency, window in _WINDOWS.items():
        period = PERIOD_DAYS[frequency]
        if best is not None and span / period + 2 <= best[0]:
            continue  # cannot beat what a shorter cadence found
        if span < window[0] * (_MIN_OCCURRENCES[frequency] - 1):
            continue
        if len(txns) > 2.5 * (span / period + 1):  # busy: only steady prices can stand out
            if buckets is None:
                buckets = _price_buckets(amounts)
            chains = [_longest_chain(days, amounts, window, b) for b in buckets]
        else:
            chains = [_longest_chain(days, amounts, window, list(range(len(days))))]
        for indices in chains:
            candidate = _accept(
                key, direction, frequency, txns, indices, days, amounts, first=first
            )
            if candidate is None:
                continue
            chain, score = candidate
            if best is None or score > best[0]:
                best = (score, chain)
    return None if best is None else best[1]


def _price_buckets(amounts: list[float]) -> list[list[int]]:
    """Indices grouped by exact amount, only groups big enough to stand out when busy.

    At a busy merchant only an exact, repeated price can tell a subscription from shopping
    (see :func:`_plausible`), so nothing is lost by not linking across prices there.
    """
    repeated = sorted(a for a, n in Counter(amounts).items() if n >= _BUSY_MINIMUM)
    return [[i for i, a in enumerate(amounts) if a == price] for price in repeated]


def _longest_chain(
    days: list[int], amounts: list[float], window: tuple[int, int, int, int], pool: list[int]
) -> list[int]:
    """Dynamic programme over ``pool`` (indices in date order) for the best-scoring chain."""
    lo1, hi1, lo2, hi2 = window
    score = [1.0] * len(pool)
    back = [-1] * len(pool)
    for i, ti in enumerate(pool):
        di, ai = days[ti], amounts[ti]
        for j in range(i - 1, -1, -1):
            tj = pool[j]
            gap = di - days[tj]
            if gap > hi2:
                break
            if lo1 <= gap <= hi1:
                penalty = 0.0
            elif lo2 <= gap <= hi2:
                penalty = 0.6
            else:
                continue
            aj = amounts[tj]
            change = abs(ai - aj) / (ai if ai > aj else aj or 0.01)
            if change <= _STEADY:
                cost = 0.0
            else:
                cost = 0.1 if change <= 0.15 else 0.35 if change <= 0.6 else 0.6
            value = score[j] + 1.0 - penalty - cost
            if value > score[i]:
                score[i], back[i] = value, j
    end = max(range(len(pool)), key=lambda i: (score[i], -i))
    chain: list[int] = []
    while end != -1:
        chain.append(pool[end])
        end = back[end]
    return chain[::-1]


def _accept(  # noqa: PLR0917 - private, called once
    key: str,
    direction: Direction,
    frequency: Frequency,
    txns: list[Transaction],
    indices: list[int],
    days: list[int],
    amounts: list[float],
    *,
    first: bool,
) -> tuple[_Chain, float] | None:
    minimum = _MIN_OCCURRENCES[frequency]
    if len(indices) < minimum:
        return None
    if not _plausible(
        frequency, indices, [amounts[i] for i in indices], days, len(txns), first=first
    ):
        return None  # checked again on the members that fit the schedule
    dates = [txns[i].booked for i in indices]
    schedule, distances = fit(frequency, dates)
    tolerance = _TOLERANCE[frequency]
    kept = [i for i, d in zip(indices, distances, strict=True) if d <= tolerance]
    if len(kept) < minimum or len(kept) < 0.8 * len(indices):
        return None
    kept_amounts = [amounts[i] for i in kept]
    if not _plausible(frequency, kept, kept_amounts, days, len(txns), first=first):
        return None
    positions = [schedule.nearest(txns[i].booked)[1] for i in kept]
    step = 1 if schedule.anchor is not None else _month_step(frequency)
    gaps = [(b - a) // step for a, b in pairwise(positions)]
    if any(g < 1 or g > 2 for g in gaps):
        return None  # two members on one scheduled date, or more than one missed in a row
    missed = sum(1 for g in gaps if g == 2)
    if missed > max(1, len(kept) // 12):
        return None
    members = tuple(txns[i] for i in kept)
    chain = _Chain(
        series_id(direction, key, members[0].id),
        key,
        direction,
        frequency,
        schedule,
        members,
        positions[-1],
        missed,
    )
    score = len(kept) - 0.6 * missed - 0.05 * sum(distances) / len(distances)
    return chain, score


def _plausible(
    frequency: Frequency,
    kept: list[int],
    amounts: list[float],
    days: list[int],
    group: int,
    *,
    first: bool,
) -> bool:
    """Whether a chain's amounts and its merchant's other payments allow calling it a series."""
    steady = _steady_share(amounts)
    exact = _steady_share(amounts, tolerance=0.0)
    count = len(kept)
    others = group - count
    inside = bisect_right(days, days[kept[-1]]) - bisect_left(days, days[kept[0]]) - count
    if inside > 0.5 * count:
        # A busy merchant: only an exact, repeated price stands out from everyday spending.
        return exact >= 0.75 and count >= _BUSY_MINIMUM
    if count == 2:  # a yearly pair: only when the merchant sees nothing else at all
        return first and others == 0 and steady == 1.0
    if others > count and steady < 0.8:
        return False  # a few regular-looking visits among many irregular ones
    variation = _variation(amounts)
    if count >= 6 and others <= 0.1 * count:
        return True  # a long, exclusive, on-schedule series may vary freely (card repayments)
    if count >= 6 and frequency not in {"weekly", "fortnightly"}:
        return variation <= _VARIABLE_BILL
    return variation <= _FEW_STEADY


def _month_step(frequency: Frequency) -> int:
    return {"monthly": 1, "quarterly": 3, "annual": 12}[frequency]


def _variation(amounts: Sequence[float]) -> float:
    """Coefficient of variation of the amounts."""
    mean = sum(amounts) / len(amounts)
    if mean <= 0:
        return 0.0
    variance = sum((a - mean) ** 2 for a in amounts) / len(amounts)
    return float(variance**0.5 / mean)


def _steady_share(amounts: Sequence[float], *, tolerance: float = _STEADY) -> float:
    """Share of consecutive amounts within ``tolerance`` of each other (0 means to the penny)."""
    if len(amounts) < 2:
        return 1.0
    same = sum(1 for a, b in pairwise(amounts) if abs(a - b) <= tolerance * max(a, b) + 0.005)
    return same / (len(amounts) - 1)


# -- presentation -----------------------------------------------------------------------------


def _money(value: Decimal) -> Decimal:
    return value.quantize(_PENNY, rounding=ROUND_HALF_UP)


def _to_series(chain: _Chain, as_of: date, decision: Decision | None) -> Series:
    members = chain.members
    amounts = [t.amount for t in members]
    magnitudes = [abs(a) for a in amounts]
    floats = [float(m) for m in magnitudes]
    variable = _steady_share(floats) < 0.7
    changes = () if variable else _price_changes(members)
    expected = next(chain.upcoming())
    grace = _GRACE[chain.frequency]
    active = (as_of - expected).days <= grace
    if variable:
        recent = amounts[-3:]
        next_amount = _money(sum(recent, Decimal(0)) / len(recent))
    else:
        next_amount = amounts[-1]
    status: Status = "active" if active else "ended"
    name = next((t.merchant_name for t in reversed(members) if t.merchant_name), None)
    merchant = name or chain.key.title()
    series = Series(
        id=chain.id,
        direction=chain.direction,
        merchant=merchant,
        merchant_key=chain.key,
        frequency=chain.frequency,
        schedule=chain.schedule,
        average_amount=_money(sum(amounts, Decimal(0)) / len(amounts)),
        min_amount=min(amounts, key=abs),
        max_amount=max(amounts, key=abs),
        last_amount=amounts[-1],
        first_date=members[0].booked,
        last_date=members[-1].booked,
        next_date=expected if active else None,
        next_amount=next_amount if active else None,
        status=status,
        transaction_ids=tuple(t.id for t in members),
        account_ids=tuple(sorted({t.account_id for t in members})),
        variable=variable,
        price_changes=changes,
        missed=chain.missed,
        explanation="",
        decision=decision,
        schedule_position=chain.last_position,
    )
    return replace(series, explanation=_explain(series, expected))


def _price_changes(members: Sequence[Transaction]) -> tuple[PriceChange, ...]:
    changes: list[PriceChange] = []
    for i in range(1, len(members)):
        before, after = abs(members[i - 1].amount), abs(members[i].amount)
        if abs(after - before) <= Decimal(str(_STEADY)) * max(before, after):
            continue
        lasting = i + 1 >= len(members) or abs(abs(members[i + 1].amount) - after) <= (
            Decimal(str(_STEADY)) * after
        )
        if lasting:
            changes.append(PriceChange(members[i].booked, before, after))
    return tuple(changes)


_FREQUENCY_WORDS: Final[dict[str, str]] = {
    "weekly": "Weekly",
    "fortnightly": "Fortnightly",
    "four_weekly": "Every four weeks",
    "monthly": "Monthly",
    "quarterly": "Quarterly",
    "annual": "Yearly",
}


def _pounds(value: Decimal) -> str:
    return f"£{abs(value):,.2f}"


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def _explain(series: Series, expected: date) -> str:
    count = len(series.transaction_ids)
    kind = "payments" if series.direction == "outflow" else "receipts"
    parts = [
        f"{_FREQUENCY_WORDS[series.frequency]} {kind} {series.schedule.describe()}: "
        f"{count} seen from {_day(series.first_date)} to {_day(series.last_date)}"
    ]
    low, high = abs(series.min_amount), abs(series.max_amount)
    if low == high:
        parts.append(f"always {_pounds(low)}")
    elif series.variable:
        parts.append(f"varies from {_pounds(low)} to {_pounds(high)}")
    else:
        parts.append(f"between {_pounds(low)} and {_pounds(high)}")
    for change in series.price_changes:
        verb = "rose" if change.new > change.previous else "fell"
        parts.append(
            f"price {verb} from {_pounds(change.previous)} to {_pounds(change.new)} "
            f"on {_day(change.on)}"
        )
    if series.missed:
        parts.append(
            "one occurrence was missed" if series.missed == 1 else f"{series.missed} missed"
        )
    if series.status == "active":
        assert series.next_amount is not None
        parts.append(f"active: next expected {_day(expected)}, about {_pounds(series.next_amount)}")
    else:
        parts.append(f"ended: expected by {_day(expected)} and not seen since")
    if series.decision == "confirmed":
        parts.append("confirmed by a member")
    elif series.decision == "dismissed":
        parts.append("dismissed by a member")
    return "; ".join(parts) + "."
