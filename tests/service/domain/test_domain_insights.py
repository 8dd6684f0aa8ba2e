"""Money insights in the product: refresh, categories, rules, recurring, runway, spending.

Use cases on a real PostgreSQL as the app role; transactions are seeded through the
project's own ingestion repository, members act through the use cases.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from service.db.port import Database
from service.domain.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from service.domain.queries import TransactionQuery
from service.insights.taxonomy import CATEGORY_IDS
from service.use_cases import insights as uc
from service.use_cases import transactions as tx_uc
from tests.service.domain.helpers import World, principal
from tests.service.domain.insights_world import (
    AS_OF,
    MONTHS,
    build_insights_world,
    refresh,
    seed,
    tesco_amount,
    tesco_days,
)


@pytest.fixture
def world(postgres_db: Database) -> World:
    return build_insights_world(postgres_db)


def _transactions(world: World, who: str = "owner", **filters: object) -> dict[str, object]:
    page = tx_uc.list_transactions(world.db, principal(who), world.family,
                                   TransactionQuery(limit=200, **filters))  # type: ignore[arg-type]
    return {t.description: t for t in page.items}


def _by_merchant(world: World, who: str = "owner") -> dict[str, uc.SeriesView]:
    return {s.merchant: s for s in uc.recurring(world.db, principal(who), world.family)}


# -- taxonomy and categories --------------------------------------------------------------

def test_taxonomy_lists_every_category_and_the_family_route_needs_membership(
    world: World,
) -> None:
    assert [c.id for c in uc.taxonomy()] == list(CATEGORY_IDS)
    assert uc.taxonomy()[0].label == "Income"
    assert uc.categories(world.db, principal("child"), world.family) == uc.taxonomy()
    with pytest.raises(NotFoundError):
        uc.categories(world.db, principal("outsider"), world.family)


def test_the_database_taxonomy_matches_the_code(world: World) -> None:
    rows = world.db.fetch_all("SELECT id, label FROM categories ORDER BY position")
    assert [(r["id"], r["label"]) for r in rows] == [(c.id, c.label) for c in uc.taxonomy()]


def test_refresh_categorises_with_source_and_confidence(world: World) -> None:
    assert all(t.category is None for t in _transactions(world).values())  # type: ignore[attr-defined]
    counts = refresh(world)
    assert counts.categorised == counts.transactions - 0  # every transaction was new
    seen = _transactions(world)
    tesco = seen["TESCO STORES 1000"]
    assert (tesco.category, tesco.category_source) == ("groceries", "merchant")  # type: ignore[attr-defined]
    assert tesco.category_confidence == pytest.approx(0.9)  # type: ignore[attr-defined]
    assert seen["ACME LTD SALARY"].category == "income"  # type: ignore[attr-defined]
    moved = seen["TRANSFER TO SAVINGS"]
    assert (moved.category, moved.category_source) == ("transfers", "transfer")  # type: ignore[attr-defined]


def test_refresh_is_idempotent(world: World) -> None:
    first = refresh(world)
    assert first.categorised > 0 and first.series_written > 0

    def state() -> list[list[str]]:
        return [[r["r"] for r in world.db.fetch_all(f"SELECT x::text AS r FROM {t} x ORDER BY 1")]
                for t in ("transactions", "recurring_series")]

    before = state()
    second = refresh(world)
    assert (second.categorised, second.series_written, second.series_removed) == (0, 0, 0)
    assert state() == before


def test_refresh_refuses_accounts_of_another_family(world: World) -> None:
    with pytest.raises(ValueError, match="not accounts of the family"):
        uc.refresh_after_sync(world.db, family_id=world.family,
                              account_ids=[world.accounts["other"]], as_of=AS_OF)


# -- member choices, learning, rules ---------------------------------------------------------

def test_a_member_choice_is_never_overwritten_and_teaches_the_merchant(world: World) -> None:
    refresh(world)
    tesco = _transactions(world)["TESCO STORES 1003"]
    updated = tx_uc.annotate_transaction(
        world.db, world.signer, principal("adult"), tesco.id,  # type: ignore[attr-defined]
        tx_uc.Annotation(fields_set=frozenset({"category"}), category="eating_out"))
    assert (updated.category, updated.category_source) == ("eating_out", "member")
    counts = refresh(world)
    assert counts.categorised > 0  # the merchant's other transactions learned it
    seen = _transactions(world)
    assert seen["TESCO STORES 1003"].category_source == "member"  # type: ignore[attr-defined]
    other = seen["TESCO STORES 1010"]
    assert (other.category, other.category_source) == ("eating_out", "learned")  # type: ignore[attr-defined]
    # A rule does not beat the member's own choice either.
    uc.create_rule(world.db, world.signer, principal("owner"), world.family,
                   uc.RuleInput(category="shopping", priority=100, merchant="Tesco"))
    refresh(world)
    seen = _transactions(world)
    assert seen["TESCO STORES 1003"].category == "eating_out"  # type: ignore[attr-defined]
    assert seen["TESCO STORES 1010"].category == "shopping"  # type: ignore[attr-defined]


def test_rules_apply_by_priority_and_only_owners_and_adults_change_them(world: World) -> None:
    low = uc.create_rule(world.db, world.signer, principal("owner"), world.family,
                         uc.RuleInput(category="entertainment", priority=1, text="netflix"))
    high = uc.create_rule(world.db, world.signer, principal("adult"), world.family,
                          uc.RuleInput(category="bills", priority=5, merchant="Netflix",
                                       max_amount_minor=2000, direction="outflow"))
    assert [r.id for r in uc.list_rules(world.db, principal("owner"), world.family)] == [
        high.id, low.id]
    refresh(world)
    netflix = _transactions(world)["NETFLIX.COM"]
    assert (netflix.category, netflix.category_source) == ("bills", "rule")  # type: ignore[attr-defined]
    uc.update_rule(world.db, world.signer, principal("owner"), world.family, high.id,
                   rule=uc.RuleInput(category="bills", priority=0, merchant="Netflix"))
    refresh(world)
    assert _transactions(world)["NETFLIX.COM"].category == "entertainment"  # type: ignore[attr-defined]
    uc.delete_rule(world.db, world.signer, principal("owner"), world.family, low.id)
    assert [r.id for r in uc.list_rules(world.db, principal("owner"), world.family)] == [high.id]
    with pytest.raises(PermissionDeniedError):
        uc.create_rule(world.db, world.signer, principal("child"), world.family,
                       uc.RuleInput(category="bills", text="x"))
    with pytest.raises(PermissionDeniedError):
        uc.list_rules(world.db, principal("child"), world.family)
    with pytest.raises(NotFoundError):
        uc.delete_rule(world.db, world.signer, principal("outsider"), world.family, high.id)
    with pytest.raises(NotFoundError):
        uc.delete_rule(world.db, world.signer, principal("owner"), world.family, low.id)


@pytest.mark.parametrize("rule", [
    uc.RuleInput(category="nonsense", text="x"),
    uc.RuleInput(category="bills"),
    uc.RuleInput(category="bills", min_amount_minor=500, max_amount_minor=100),
    uc.RuleInput(category="bills", merchant="***"),
])
def test_bad_rules_are_refused_and_write_nothing(world: World, rule: uc.RuleInput) -> None:
    with pytest.raises(ValidationFailedError):
        uc.create_rule(world.db, world.signer, principal("owner"), world.family, rule)
    assert uc.list_rules(world.db, principal("owner"), world.family) == []


# -- recurring ---------------------------------------------------------------------------------

def test_recurring_series_with_next_dates_and_decisions_that_persist(world: World) -> None:
    refresh(world)
    series = _by_merchant(world)
    netflix = series["Netflix"]
    assert (netflix.frequency, netflix.status, netflix.direction) == (
        "monthly", "active", "outflow")
    assert netflix.next_date == date(2025, 7, 15)
    assert str(netflix.next_amount.amount) == "-10.99"  # type: ignore[union-attr]
    assert str(netflix.annual_amount.amount) == "-131.88"  # type: ignore[union-attr]
    assert "Monthly payments" in netflix.explanation
    assert series["ACME Ltd"].direction == "inflow"
    assert "Spotify" not in series  # the adult's private card: not even owners see it
    assert "Spotify" in _by_merchant(world, "adult")

    with pytest.raises(NotFoundError):  # the joint account is not the child's to see
        uc.decide_recurring(world.db, world.signer, principal("child"), netflix.id, "dismissed")
    (pocket,) = uc.recurring(world.db, principal("child"), world.family)
    assert pocket.frequency == "weekly"
    with pytest.raises(PermissionDeniedError):
        uc.decide_recurring(world.db, world.signer, principal("child"), pocket.id, "confirmed")
    with pytest.raises(NotFoundError):
        uc.decide_recurring(world.db, world.signer, principal("outsider"), netflix.id,
                            "dismissed")
    decided = uc.decide_recurring(world.db, world.signer, principal("adult"), netflix.id,
                                  "dismissed")
    assert decided.decision == "dismissed" and decided.explanation.endswith(
        "dismissed by a member.")
    # New data and re-detection keep the series id, so the decision stays.
    seed(world.db, world, "joint", [("netflix-7", date(2025, 7, 15), "NETFLIX.COM", "Netflix",
                                      -1199, None)])
    counts = uc.refresh_after_sync(world.db, family_id=world.family,
                                   account_ids=[world.accounts["joint"]],
                                   as_of=date(2025, 7, 20))
    assert counts.series_written >= 1
    again = _by_merchant(world)["Netflix"]
    assert again.id == netflix.id and again.decision == "dismissed"
    assert str(again.last_amount.amount) == "-11.99"
    assert uc.decide_recurring(world.db, world.signer, principal("owner"), netflix.id,
                               None).decision is None


def test_child_sees_only_series_of_their_own_accounts(world: World) -> None:
    refresh(world)
    assert [s.merchant for s in uc.recurring(world.db, principal("child"), world.family)] == [
        "Olivia Demo"]
    with pytest.raises(NotFoundError):
        uc.recurring(world.db, principal("outsider"), world.family)
    with pytest.raises(NotFoundError):
        uc.decide_recurring(world.db, world.signer, principal("owner"), "rs_0000000000000000",
                            "confirmed")


# -- runway ------------------------------------------------------------------------------

def _expected_daily() -> Decimal:
    since = AS_OF - timedelta(days=90)
    total = -sum(tesco_amount(n) for n, day in enumerate(tesco_days()) if since < day <= AS_OF)
    total += 250  # the child's purchase: their account is family-visible and current
    return (Decimal(total) / 100 / 90).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_runway_projects_visible_current_and_savings_accounts(world: World) -> None:
    refresh(world)
    report = uc.runway(world.db, principal("owner"), world.family, horizon_days=365)
    assert report.as_of == AS_OF
    assert report.account_count == 3  # joint, savings, the child's (family-visible) account
    assert str(report.balance.amount) == "13040.00"
    assert report.discretionary_daily.amount == _expected_daily()
    assert len(report.daily) == 365
    # Transfers to savings net out: neither of their series is projected.
    series = {s.merchant: s for s in uc.recurring(world.db, principal("owner"), world.family)}
    moved = [s for s in series.values() if s.internal_transfer]
    assert moved and not set(report.series_ids) & {s.id for s in moved}
    assert series["Netflix"].id in report.series_ids

    income_stops = uc.runway(world.db, principal("owner"), world.family, scenario="income_stops")
    assert income_stops.runway_days is not None
    assert report.runway_days is None or income_stops.runway_days < report.runway_days
    salary = series["ACME Ltd"].id
    assert uc.runway(world.db, principal("owner"), world.family,
                     scenario=f"cancel:{salary}").runway_days == income_stops.runway_days
    rent = series["Homely Lettings Rent"].id
    fewer_bills = uc.runway(world.db, principal("owner"), world.family,
                            scenario=f"income_stops,cancel:{rent}")
    assert fewer_bills.runway_days is None or fewer_bills.runway_days > income_stops.runway_days
    big = uc.runway(world.db, principal("owner"), world.family,
                    scenario="income_stops,expense:2025-07-10:5000.00", buffer_minor=500_000)
    assert big.runway_days < income_stops.runway_days  # type: ignore[operator]
    assert big.below_buffer_date is not None and big.below_buffer_date < big.zero_date  # type: ignore[operator]
    day_before, day_of = big.daily[8], big.daily[9]
    assert day_of[0] == date(2025, 7, 10)
    no_expense = dict(income_stops.daily)
    assert no_expense[day_of[0]].amount - day_of[1].amount == Decimal("5000.00")
    assert day_before[1] == no_expense[day_before[0]]


@pytest.mark.parametrize("scenario", ["income_stop", "cancel:rs_0123456789abcdef",
                                      "expense:2025-13-01:10", "expense:2025-06-01:10"])
def test_runway_refuses_bad_scenarios(world: World, scenario: str) -> None:
    refresh(world)
    with pytest.raises(ValidationFailedError):
        uc.runway(world.db, principal("owner"), world.family, scenario=scenario)


def test_runway_of_a_child_covers_their_own_account_only(world: World) -> None:
    refresh(world)
    report = uc.runway(world.db, principal("child"), world.family)
    assert report.account_count == 1
    assert str(report.balance.amount) == "40.00"
    assert report.discretionary_daily.amount == Decimal("0.03")  # 2.50 / 90
    (pocket,) = uc.recurring(world.db, principal("child"), world.family)
    assert report.series_ids == [pocket.id]
    assert report.runway_days is None  # pocket money outpaces the sweets
    with pytest.raises(NotFoundError):
        uc.runway(world.db, principal("outsider"), world.family)


# -- spending ------------------------------------------------------------------------------

def test_spending_by_month_and_category_leaves_out_internal_transfers(world: World) -> None:
    refresh(world)
    report = uc.spending(world.db, principal("owner"), world.family, period="month",
                         start=date(2025, 6, 1), end=date(2025, 6, 30))
    (june,) = report.periods
    lines = {line.category: line for line in june.categories}
    assert "transfers" not in lines  # joint -> savings moved money, spent none
    assert str(lines["entertainment"].spent.amount) == "10.99"
    assert str(lines["income"].received.amount) == "2520.00"  # salary and 4 x pocket money
    tesco = -sum(tesco_amount(n) for n, day in enumerate(tesco_days())
                 if day >= date(2025, 6, 1))
    assert lines["groceries"].spent.amount_minor == tesco
    # WHSmith (books, stationery) on the child's family-visible account
    assert lines["childcare_education"].spent.amount_minor == 250
    assert "Spotify" not in {line.label for line in june.categories}
    assert [m.amount_minor for m in june.total_spent] == [
        sum(line.spent.amount_minor for line in june.categories)]

    default = uc.spending(world.db, principal("owner"), world.family, today=AS_OF)
    assert [p.start for p in default.periods] == [date(2025, m, 1) for m in MONTHS]
    weeks = uc.spending(world.db, principal("owner"), world.family, period="week",
                        start=date(2025, 6, 4), end=date(2025, 6, 30))
    assert weeks.periods[0].start == date(2025, 6, 4) and weeks.periods[1].start == date(
        2025, 6, 9)


def test_spending_of_a_child_and_of_outsiders(world: World) -> None:
    refresh(world)
    report = uc.spending(world.db, principal("child"), world.family, start=date(2025, 6, 1),
                         end=date(2025, 6, 30))
    (june,) = report.periods
    assert [(line.category, line.spent.amount_minor, line.received.amount_minor)
            for line in june.categories] == [("childcare_education", 250, 0), ("income", 0, 2000)]
    with pytest.raises(NotFoundError):
        uc.spending(world.db, principal("outsider"), world.family)
    with pytest.raises(ValidationFailedError):
        uc.spending(world.db, principal("owner"), world.family, by="merchant")
    with pytest.raises(ValidationFailedError):
        uc.spending(world.db, principal("owner"), world.family, start=date(2025, 2, 1),
                    end=date(2025, 1, 1))
