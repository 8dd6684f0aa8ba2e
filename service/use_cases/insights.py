"""Money insights in the product: taxonomy, spending, recurring series, runway, rules,
decisions, and the idempotent post-sync refresh.

Tenancy is the rest of the API's: every read is one scoped statement, so a child's view
covers only their own accounts (and a series only when every account it was seen on is
visible); rules and recurring decisions are changed by owners and adults only. Runway covers
the caller-visible current and savings accounts, and transfers between the family's own
accounts count neither as income nor as spending.

The offline logic is :mod:`service.insights`; this module only moves data between it and
the repositories.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal
from uuid import UUID

from service.audit import AuditSigner, record_read
from service.db.port import Database
from service.domain.errors import NotFoundError, ValidationFailedError
from service.domain.models import Role
from service.domain.money import Money, exponent
from service.domain.principal import Principal
from service.insights import categorisation
from service.insights import recurring as recurring_core
from service.insights.errors import InsightsError
from service.insights.model import Transaction as InsightTransaction
from service.insights.runway import (
    DEFAULT_HORIZON_DAYS,
    DISCRETIONARY_WINDOW_DAYS,
    Scenario,
    project,
)
from service.insights.schedule import Schedule
from service.insights.taxonomy import CATEGORIES, is_category
from service.repositories import families
from service.repositories import insights as repo
from service.repositories.insights import CategoryRule, RuleFields, StoredSeries
from service.use_cases._common import event, found, require_role

SERIES_NOT_FOUND = "Recurring series not found."
RULE_NOT_FOUND = "Rule not found."
RUNWAY_CURRENCY: Final = "GBP"
MAX_RUNWAY_HORIZON_DAYS: Final = 730
#: How far apart (days) the two legs of a transfer between the family's accounts may book.
TRANSFER_MATCH_DAYS: Final = 3
_TRANSFER_CONFIDENCE: Final = Decimal("0.9")
_PERIODS_PER_YEAR: Final[dict[str, int]] = {
    "weekly": 52, "fortnightly": 26, "four_weekly": 13, "monthly": 12, "quarterly": 4,
    "annual": 1,
}
_SERIES_ID = re.compile(r"^rs_[0-9a-f]{16}$")
_DECISION_WORDS: Final = {"confirmed": "confirmed by a member",
                          "dismissed": "dismissed by a member"}

Period = Literal["week", "month", "quarter", "year"]
#: Default span of a spending report: this many periods, ending with the current one.
_DEFAULT_PERIODS: Final[dict[str, int]] = {"week": 12, "month": 6, "quarter": 4, "year": 3}
MAX_SPENDING_DAYS: Final = 5 * 366 + 31


# -- taxonomy ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Category:
    """A taxonomy category."""

    id: str
    label: str


def taxonomy() -> list[Category]:
    """Every category of the taxonomy, in the order the product lists them."""
    return [Category(id=key, label=label) for key, label in CATEGORIES.items()]


def categories(database: Database, principal: Principal, family_id: UUID) -> list[Category]:
    """The taxonomy, for a member of the family (404 otherwise; one statement)."""
    found(families.get_family(database, principal, family_id))
    return taxonomy()


# -- spending ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CategorySpending:
    """One category's money out and in over one period (``net`` = in - out)."""

    category: str | None
    label: str
    spent: Money
    received: Money
    net: Money
    count: int


@dataclass(frozen=True, slots=True)
class SpendingPeriod:
    """One period of a spending report."""

    start: date
    end: date
    categories: list[CategorySpending]
    total_spent: list[Money]
    total_received: list[Money]


@dataclass(frozen=True, slots=True)
class SpendingReport:
    """Spending by category per period over the caller-visible accounts."""

    period: Period
    by: Literal["category"]
    start: date
    end: date
    periods: list[SpendingPeriod]


def _period_start(day: date, period: Period) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _next_period(start: date, period: Period) -> date:
    if period == "week":
        return start + timedelta(days=7)
    return _add_months(start, {"month": 1, "quarter": 3, "year": 12}[period])


def spending(
    database: Database, principal: Principal, family_id: UUID, *, period: str = "month",
    start: date | None = None, end: date | None = None, by: str = "category",
    today: date | None = None,
) -> SpendingReport:
    """Money out and in per category and ``period`` (``week``, ``month``, ``quarter``,
    ``year``) over the caller-visible accounts, booked in ``[start, end]``.

    Defaults: ``end`` today (UTC), ``start`` the beginning of the period a few periods back
    (12 weeks, 6 months, 4 quarters, 3 years). Transfers between the family's own accounts
    are left out; transactions not yet categorised have category ``None``. One statement.
    """
    if by != "category":
        raise ValidationFailedError("Spending can be grouped by 'category' only.")
    if period not in _DEFAULT_PERIODS:
        raise ValidationFailedError("period must be one of week, month, quarter, year.")
    unit: Period = period  # type: ignore[assignment]
    end = end or today or datetime.now(UTC).date()
    if start is None:
        start = _period_start(end, unit)
        for _ in range(_DEFAULT_PERIODS[unit] - 1):
            start = _period_start(start - timedelta(days=1), unit)
    if start > end:
        raise ValidationFailedError("start must not be after end.")
    if (end - start).days > MAX_SPENDING_DAYS:
        raise ValidationFailedError("A spending report covers at most five years.")
    scope, rows = repo.spending(database, principal, family_id, unit=unit, start=start, end=end)
    scope = found(scope)
    record_read(family_id=family_id, user_id=scope.user_id, action="insights.spending",
                target=("family", family_id))
    by_period: dict[date, list[repo.SpendingRow]] = {}
    for row in rows:
        by_period.setdefault(row.period_start, []).append(row)
    periods: list[SpendingPeriod] = []
    cursor = _period_start(start, unit)
    while cursor <= end:
        following = _next_period(cursor, unit)
        items = by_period.get(cursor, [])
        spent: Counter[str] = Counter()
        received: Counter[str] = Counter()
        lines = []
        for r in sorted(items, key=lambda r: (-r.outflow_minor, r.category or "~", r.currency)):
            spent[r.currency] += r.outflow_minor
            received[r.currency] += r.inflow_minor
            lines.append(CategorySpending(
                category=r.category,
                label=CATEGORIES.get(r.category or "", "Not yet categorised"),
                spent=Money(r.outflow_minor, r.currency),
                received=Money(r.inflow_minor, r.currency),
                net=Money(r.inflow_minor - r.outflow_minor, r.currency), count=r.count))
        periods.append(SpendingPeriod(
            start=max(cursor, start), end=min(following - timedelta(days=1), end),
            categories=lines,
            total_spent=[Money(v, c) for c, v in sorted(spent.items())],
            total_received=[Money(v, c) for c, v in sorted(received.items())]))
        cursor = following
    return SpendingReport(period=unit, by="category", start=start, end=end, periods=periods)


# -- recurring ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeriesView:
    """A recurring series as members see it (amounts signed: negative is money out)."""

    id: str
    direction: Literal["inflow", "outflow"]
    merchant: str
    category: str | None
    frequency: str
    average_amount: Money
    last_amount: Money
    last_date: date
    next_date: date | None
    next_amount: Money | None
    annual_amount: Money | None
    status: Literal["active", "ended"]
    decision: Literal["confirmed", "dismissed"] | None
    internal_transfer: bool
    explanation: str
    transaction_ids: tuple[str, ...]
    account_ids: tuple[str, ...]
    detected_on: date


def _view(series: StoredSeries) -> SeriesView:
    currency = series.currency
    explanation = series.explanation
    if series.decision is not None:
        explanation = f"{explanation.rstrip('.')}; {_DECISION_WORDS[series.decision]}."
    annual = None
    if series.status == "active" and series.decision != "dismissed":
        annual = Money(series.average_amount_minor * _PERIODS_PER_YEAR[series.frequency],
                       currency)
    return SeriesView(
        id=series.id, direction=series.direction, merchant=series.merchant,
        category=series.category, frequency=series.frequency,
        average_amount=Money(series.average_amount_minor, currency),
        last_amount=Money(series.last_amount_minor, currency), last_date=series.last_date,
        next_date=series.next_date,
        next_amount=None if series.next_amount_minor is None
        else Money(series.next_amount_minor, currency),
        annual_amount=annual, status=series.status, decision=series.decision,
        internal_transfer=series.internal_transfer, explanation=explanation,
        transaction_ids=series.transaction_ids, account_ids=series.account_ids,
        detected_on=series.detected_on,
    )


def recurring(database: Database, principal: Principal, family_id: UUID) -> list[SeriesView]:
    """The recurring series the caller may see (active first), as last detected (one
    statement)."""
    scope, stored = repo.list_series(database, principal, family_id)
    scope = found(scope)
    record_read(family_id=family_id, user_id=scope.user_id, action="insights.recurring",
                target=("family", family_id))
    return [_view(s) for s in stored]


def decide_recurring(
    database: Database, signer: AuditSigner, principal: Principal, series_id: str,
    decision: Literal["confirmed", "dismissed"] | None,
) -> SeriesView:
    """Confirm or dismiss a series (``None`` withdraws the decision); owners and adults.

    The decision is kept by series id apart from detection, so it persists across every
    later re-detection. A dismissed series is neither projected by runway nor counted as
    recurring there.
    """
    if not _SERIES_ID.match(series_id):
        raise NotFoundError(SERIES_NOT_FOUND)
    with database.transaction() as tx:
        locked = repo.lock_series(tx, principal, series_id)
        if locked is None:
            raise NotFoundError(SERIES_NOT_FOUND)
        scope, head, series = locked
        require_role(scope, Role.OWNER, Role.ADULT, to="confirm or dismiss recurring payments")
        action = f"recurring.{decision or 'undecided'}"
        entries = signer.seal(head, [event(scope.user_id, action, ("recurring_series",
                                                                    series_id))])
        if not repo.decide_series(tx, principal, scope, series_id, decision=decision,
                                 entries=entries):
            raise NotFoundError(SERIES_NOT_FOUND)
        return _view(replace(series, decision=decision))


# -- runway ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunwayReport:
    """A runway projection over the caller-visible current and savings accounts."""

    as_of: date
    currency: str
    account_count: int
    balance: Money
    horizon_days: int
    runway_days: int | None
    zero_date: date | None
    below_buffer_date: date | None
    buffer: Money | None
    discretionary_daily: Money
    scenario: str | None
    series_ids: list[str]
    daily: list[tuple[date, Money]] = field(default_factory=list)


def _money(amount: Decimal, currency: str) -> Money:
    places = exponent(currency)
    minor = (amount.scaleb(places)).to_integral_value(rounding=ROUND_HALF_UP)
    return Money(int(minor), currency)


def _core_series(series: StoredSeries, currency: str) -> recurring_core.Series:
    def major(minor: int) -> Decimal:
        return Money(minor, currency).amount

    schedule = Schedule(frequency=series.frequency,  # type: ignore[arg-type]
                        shift=series.schedule_shift,  # type: ignore[arg-type]
                        anchor=series.schedule_anchor, day=series.schedule_day)
    return recurring_core.Series(
        id=series.id, direction=series.direction, merchant=series.merchant,
        merchant_key=series.merchant, frequency=schedule.frequency, schedule=schedule,
        average_amount=major(series.average_amount_minor),
        min_amount=major(series.min_amount_minor), max_amount=major(series.max_amount_minor),
        last_amount=major(series.last_amount_minor), first_date=series.first_date,
        last_date=series.last_date, next_date=series.next_date,
        next_amount=None if series.next_amount_minor is None
        else major(series.next_amount_minor),
        status=series.status, transaction_ids=series.transaction_ids,
        account_ids=series.account_ids, variable=False, price_changes=(), missed=0,
        explanation=series.explanation, decision=series.decision,
        schedule_position=series.schedule_position,
    )


def _parse_scenario(scenario: str | None) -> Scenario:
    if scenario is None or not scenario.strip():
        return Scenario()
    from service.insights.cli import parse_scenarios  # noqa: PLC0415 - the CLI's own parser

    try:
        return parse_scenarios([part.strip() for part in scenario.split(",") if part.strip()])
    except InsightsError as error:
        raise ValidationFailedError(str(error)) from None


def runway(
    database: Database, principal: Principal, family_id: UUID, *, scenario: str | None = None,
    buffer_minor: int | None = None, horizon_days: int = DEFAULT_HORIZON_DAYS,
    as_of: date | None = None,
) -> RunwayReport:
    """How long the caller-visible current and savings accounts (GBP) last (one statement).

    ``scenario``: comma-separated ``income_stops``, ``cancel:<series id>``,
    ``expense:<YYYY-MM-DD>:<amount>``. ``as_of`` defaults to the day of the latest balance.
    """
    if not 1 <= horizon_days <= MAX_RUNWAY_HORIZON_DAYS:
        raise ValidationFailedError(
            f"horizon must be between 1 and {MAX_RUNWAY_HORIZON_DAYS} days.")
    what_if = _parse_scenario(scenario)
    currency = RUNWAY_CURRENCY
    loaded = repo.runway_inputs(database, principal, family_id, currency=currency, as_of=as_of,
                                window_days=DISCRETIONARY_WINDOW_DAYS)
    scope, inputs = found(loaded)
    record_read(family_id=family_id, user_id=scope.user_id, action="insights.runway",
                target=("family", family_id))
    series = [_core_series(s, currency) for s in inputs.series]
    income_ids = {s.id for s in inputs.series if s.direction == "inflow"
                  and s.category in {None, "income"}}
    daily_spend = (Money(inputs.discretionary_minor, currency).amount
                   / DISCRETIONARY_WINDOW_DAYS).quantize(
        Decimal(1).scaleb(-exponent(currency)), rounding=ROUND_HALF_UP)
    buffer = None if buffer_minor is None else Money(buffer_minor, currency)
    try:
        result = project(
            balance=Money(inputs.balance_minor, currency).amount, as_of=inputs.as_of,
            series=series, discretionary=daily_spend, horizon_days=horizon_days,
            buffer=None if buffer is None else buffer.amount, scenario=what_if,
            income_ids=income_ids,
        )
    except InsightsError as error:
        raise ValidationFailedError(str(error)) from None
    return RunwayReport(
        as_of=result.as_of, currency=currency, account_count=inputs.account_count,
        balance=Money(inputs.balance_minor, currency), horizon_days=result.horizon_days,
        runway_days=result.runway_days, zero_date=result.zero_date,
        below_buffer_date=result.below_buffer_date, buffer=buffer,
        discretionary_daily=_money(result.discretionary_daily, currency),
        scenario=scenario, series_ids=sorted(s.id for s in series),
        daily=[(day, _money(balance, currency)) for day, balance in result.daily],
    )


# -- rules -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleInput:
    """A rule as a member writes it (amount bounds in minor units of the absolute amount)."""

    category: str
    priority: int = 0
    merchant: str | None = None
    text: str | None = None
    min_amount_minor: int | None = None
    max_amount_minor: int | None = None
    direction: Literal["inflow", "outflow"] | None = None


def _core_rule(rule: RuleInput | CategoryRule, rule_id: str = "") -> categorisation.FamilyRule:
    def major(minor: int | None) -> Decimal | None:
        return None if minor is None else Money(minor, RUNWAY_CURRENCY).amount

    return categorisation.FamilyRule(
        category=rule.category, priority=rule.priority, merchant=rule.merchant,
        text=rule.text, min_amount=major(rule.min_amount_minor),
        max_amount=major(rule.max_amount_minor), direction=rule.direction, id=rule_id,
    )


def _checked_fields(rule: RuleInput) -> RuleFields:
    if not is_category(rule.category):
        raise ValidationFailedError(f"Unknown category {rule.category!r}.")
    try:
        _core_rule(rule)
    except InsightsError as error:
        raise ValidationFailedError(f"The rule is not valid: {error}.") from None
    return RuleFields(category=rule.category, priority=rule.priority, merchant=rule.merchant,
                      text=rule.text, min_amount_minor=rule.min_amount_minor,
                      max_amount_minor=rule.max_amount_minor, direction=rule.direction)


def list_rules(database: Database, principal: Principal, family_id: UUID) -> list[CategoryRule]:
    """The family's rules, highest priority first (owners and adults; one statement)."""
    scope, rules = repo.list_rules(database, principal, family_id)
    scope = found(scope)
    require_role(scope, Role.OWNER, Role.ADULT, to="see categorisation rules")
    return rules


def create_rule(
    database: Database, signer: AuditSigner, principal: Principal, family_id: UUID,
    rule: RuleInput,
) -> CategoryRule:
    """Add a rule (owners and adults); it applies from the next refresh."""
    fields = _checked_fields(rule)
    with database.transaction() as tx:
        scope, head = found(families.lock_scope(tx, principal, family_id))
        require_role(scope, Role.OWNER, Role.ADULT, to="change categorisation rules")
        rule_id = uuid.uuid4()
        entries = signer.seal(head, [event(scope.user_id, "rule.create", ("rule", rule_id))])
        created = repo.create_rule(tx, principal, scope, fields, entries, rule_id=rule_id)
        return found(created)


def update_rule(
    database: Database, signer: AuditSigner, principal: Principal, family_id: UUID,
    rule_id: UUID, *, rule: RuleInput,
) -> CategoryRule:
    """Replace a rule (owners and adults)."""
    fields = _checked_fields(rule)
    with database.transaction() as tx:
        scope, head, current = found(repo.lock_rule(tx, principal, family_id, rule_id))
        require_role(scope, Role.OWNER, Role.ADULT, to="change categorisation rules")
        if current is None:
            raise NotFoundError(RULE_NOT_FOUND)
        entries = signer.seal(head, [event(scope.user_id, "rule.update", ("rule", rule_id))])
        updated = repo.update_rule(tx, principal, scope, rule_id, fields=fields, entries=entries)
        if updated is None:
            raise NotFoundError(RULE_NOT_FOUND)
        return updated


def delete_rule(
    database: Database, signer: AuditSigner, principal: Principal, family_id: UUID,
    rule_id: UUID,
) -> None:
    """Delete a rule (owners and adults)."""
    with database.transaction() as tx:
        scope, head, current = found(repo.lock_rule(tx, principal, family_id, rule_id))
        require_role(scope, Role.OWNER, Role.ADULT, to="change categorisation rules")
        if current is None:
            raise NotFoundError(RULE_NOT_FOUND)
        entries = signer.seal(head, [event(scope.user_id, "rule.delete", ("rule", rule_id))])
        if not repo.delete_rule(tx, principal, scope, rule_id, entries):
            raise NotFoundError(RULE_NOT_FOUND)


# -- the post-sync refresh ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefreshCounts:
    """What one refresh looked at and changed (a re-run reports no changes)."""

    transactions: int = 0
    synced_accounts_transactions: int = 0
    categorised: int = 0
    internal_transfers: int = 0
    series: int = 0
    series_written: int = 0
    series_removed: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts by name (for the workflow's step counters)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _insight_transaction(t: repo.RefreshTransaction) -> InsightTransaction:
    return InsightTransaction(
        id=t.id, account_id=t.account_id, booked=t.booked_on,
        amount=Money(t.amount_minor, t.currency).amount, currency=t.currency,
        description=t.description, merchant_name=t.merchant,
        provider_category=t.provider_category,
    )


def internal_transfer_ids(
    transactions: Sequence[repo.RefreshTransaction], automatic: dict[str, str]
) -> set[str]:
    """Ids of both legs of transfers between the family's own accounts.

    A leg out of one account pairs with a leg into another of the same amount and currency
    booked within :data:`TRANSFER_MATCH_DAYS`, when at least one side reads as a transfer
    (its category, or the provider's TRANSFER/STANDING_ORDER type). Members' choices are
    respected: a leg a member categorised is never paired.
    """
    def transfer_like(t: repo.RefreshTransaction) -> bool:
        return (automatic.get(t.id) in {"transfers", "savings_investments"}
                or (t.provider_category or "").upper() in {"TRANSFER", "STANDING_ORDER"})

    candidates = [t for t in transactions if t.source != "member" and t.amount_minor != 0]
    inflows: dict[tuple[int, str], list[repo.RefreshTransaction]] = {}
    for t in candidates:
        if t.amount_minor > 0:
            inflows.setdefault((t.amount_minor, t.currency), []).append(t)
    paired: set[str] = set()
    for out in candidates:
        if out.amount_minor >= 0:
            continue
        for leg in inflows.get((-out.amount_minor, out.currency), ()):
            if (leg.id in paired or leg.account_id == out.account_id
                    or abs((leg.booked_on - out.booked_on).days) > TRANSFER_MATCH_DAYS):
                continue
            if transfer_like(out) or transfer_like(leg):
                paired.update((out.id, leg.id))
                break
    return paired


def _stored_series(
    series: recurring_core.Series, txns: dict[str, repo.RefreshTransaction],
    categories: dict[str, str], internal: set[str], as_of: date,
) -> StoredSeries | None:
    currencies = {txns[i].currency for i in series.transaction_ids}
    if len(currencies) != 1:
        return None  # amounts in different currencies do not make one series
    (currency,) = currencies

    def minor(amount: Decimal) -> int:
        return _money(amount, currency).amount_minor

    votes = Counter(categories.get(i) for i in series.transaction_ids)
    category = votes.most_common(1)[0][0]
    moved = sum(1 for i in series.transaction_ids if i in internal)
    return StoredSeries(
        id=series.id, direction=series.direction, merchant=series.merchant,
        category=category, frequency=series.frequency, currency=currency,
        average_amount_minor=minor(series.average_amount),
        min_amount_minor=minor(series.min_amount), max_amount_minor=minor(series.max_amount),
        last_amount_minor=minor(series.last_amount), first_date=series.first_date,
        last_date=series.last_date, next_date=series.next_date,
        next_amount_minor=None if series.next_amount is None else minor(series.next_amount),
        schedule_shift=series.schedule.shift, schedule_anchor=series.schedule.anchor,
        schedule_day=series.schedule.day, schedule_position=series.schedule_position,
        status=series.status, explanation=series.explanation,
        internal_transfer=moved * 2 > len(series.transaction_ids),
        transaction_ids=series.transaction_ids, account_ids=series.account_ids,
        detected_on=as_of,
    )


def _same_series(a: StoredSeries, b: StoredSeries) -> bool:
    return replace(a, detected_on=b.detected_on, decision=None) == replace(b, decision=None)


def refresh_after_sync(
    database: Database, *, family_id: UUID, account_ids: Sequence[UUID | str],
    as_of: date | None = None,
) -> RefreshCounts:
    """Post-sync processing of one family: categorise, learn, pair transfers, re-detect.

    Idempotent and incremental in what it writes: categories are recomputed for every
    transaction no member categorised (so new rules and members' re-categorisations of a
    merchant reach its other transactions) and only those that differ are written; a
    member's choice is never overwritten (the write re-checks it). Recurring series are
    re-detected as of ``as_of`` (default today, UTC) and only changed series are written,
    vanished ones deleted; members' decisions are kept apart and survive. A re-run changes
    nothing. ``account_ids`` are the synced accounts and must belong to the family.
    """
    today = as_of or datetime.now(UTC).date()
    wanted = {str(a) for a in account_ids}
    with database.transaction() as tx:
        if not repo.lock_family_for_refresh(tx, family_id):
            return RefreshCounts()  # the family was deleted meanwhile: nothing to do
        snapshot = repo.load_refresh_snapshot(tx, family_id)
        foreign = wanted - snapshot.account_ids
        if foreign:
            raise ValueError(f"accounts {sorted(foreign)} are not accounts of the family")
        by_id = {t.id: t for t in snapshot.transactions}
        insight_txns = [_insight_transaction(t) for t in snapshot.transactions]
        members = sorted((t for t in snapshot.transactions if t.source == "member"),
                         key=lambda t: (t.updated_at, t.id))
        learned = categorisation.learn_from_members(
            (_insight_transaction(t), t.category or "other") for t in members)
        rules = [_core_rule(r, f"{r.created_at.isoformat()}|{r.id}") for r in snapshot.rules]
        chosen = {t.id: t.category or "other" for t in members}
        results = categorisation.categorise(insight_txns, rules=rules, learned=learned,
                                            member_categories=chosen)
        automatic = {r.transaction_id: r.category for r in results}
        internal = internal_transfer_ids(snapshot.transactions, automatic)
        changes: list[repo.CategoryChange] = []
        final: dict[str, str] = {}
        for result in results:
            stored = by_id[result.transaction_id]
            if stored.source == "member":
                final[stored.id] = stored.category or "other"
                continue
            if stored.id in internal:
                wanted_cat, source, confidence = "transfers", "transfer", _TRANSFER_CONFIDENCE
            else:
                wanted_cat, source = result.category, result.source
                confidence = Decimal(str(result.confidence))
            final[stored.id] = wanted_cat
            if (stored.category, stored.source, stored.confidence) != (
                    wanted_cat, source, confidence):
                changes.append(repo.CategoryChange(stored.id, wanted_cat, source, confidence))
        repo.write_categories(tx, family_id, changes)

        booked = [t for t in insight_txns if by_id[t.id].booked and t.booked <= today]
        detected = recurring_core.detect_recurring(booked, as_of=today)
        desired: dict[str, StoredSeries] = {}
        for found_series in detected:
            stored_series = _stored_series(found_series, by_id, final, internal, today)
            if stored_series is not None:
                desired[stored_series.id] = stored_series
        upserts = [s for sid, s in desired.items()
                   if sid not in snapshot.series or not _same_series(s, snapshot.series[sid])]
        removed = sorted(set(snapshot.series) - set(desired))
        repo.write_series(tx, family_id, upserts, removed)
    return RefreshCounts(
        transactions=len(snapshot.transactions),
        synced_accounts_transactions=sum(
            1 for t in snapshot.transactions if t.account_id in wanted),
        categorised=len(changes), internal_transfers=len(internal), series=len(desired),
        series_written=len(upserts), series_removed=len(removed),
    )
