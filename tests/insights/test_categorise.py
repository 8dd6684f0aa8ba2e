"""Categorisation: evidence order, family rules, learning, members' choices, confidence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.insights.categorisation import (
    Categoriser,
    FamilyRule,
    categorise,
    learn_from_members,
    merchant_consensus,
    merchant_key,
)
from service.insights.errors import InvalidRuleError
from service.insights.model import Transaction
from service.insights.taxonomy import CATEGORIES, CATEGORY_IDS
from tests.insights.builders import txn

DAY = date(2024, 5, 3)


def category_of(description: str, amount: str = "-10.00", **kw: object) -> tuple[str, str]:
    result = Categoriser().categorise(txn("t", DAY, amount, description, **kw))  # type: ignore[arg-type]
    return result.category, result.source


def test_taxonomy_is_exactly_the_issue_list() -> None:
    assert list(CATEGORY_IDS) == [
        "income", "transfers", "housing", "bills", "groceries", "eating_out", "transport",
        "shopping", "entertainment", "health", "childcare_education", "insurance",
        "savings_investments", "cash", "fees_charges", "charity_gifts", "travel",
        "personal_care", "other",
    ]  # fmt: skip
    assert all(CATEGORIES[c] for c in CATEGORY_IDS)


@pytest.mark.parametrize(
    ("description", "category"),
    [
        ("TESCO STORES 3297", "groceries"),
        ("CARD PAYMENT TO SAINSBURYS S/MKTS ON 12MAR", "groceries"),
        ("PAYPAL *SPOTIFY", "entertainment"),
        ("BRITISH GAS DD", "bills"),
        ("TFL TRAVEL CH", "transport"),
        ("EASYJET 7M08KL", "travel"),
        ("PETPLAN", "insurance"),
        ("BOOTS 1234 YORK", "health"),
        ("TESCO MOBILE", "bills"),  # the longer alias wins over "tesco"
    ],
)
def test_built_in_merchants(description: str, category: str) -> None:
    assert category_of(description) == (category, "merchant")


@pytest.mark.parametrize(
    ("description", "category"),
    [
        ("SQ *HARTLEYS BAKERY", "groceries"),
        ("THE OLD MILL COFFEE HOUSE", "eating_out"),
        ("SUMUP *RIVERSIDE BARBERS", "personal_care"),
        ("KELMO HOME INSURANCE", "insurance"),
        ("WILLOW DAY NURSERY DD", "childcare_education"),
        ("ZAVO ENERGY", "bills"),
        ("ABBEY PHARMACY", "health"),
        ("GOLDEN FISH BAR", "eating_out"),
    ],
)
def test_keywords_for_merchants_no_list_holds(description: str, category: str) -> None:
    assert category_of(description) == (category, "keyword")


def test_provider_types() -> None:
    assert category_of("NOTEMACHINE YORK", provider_category="ATM") == ("cash", "provider")
    assert category_of("UNKNOWN", provider_category="FEE_CHARGE") == ("fees_charges", "provider")
    assert category_of("KORVEL", provider_category="DIRECT_DEBIT") == ("bills", "provider")
    assert category_of("KORVEL", provider_category="STANDING_ORDER") == ("transfers", "provider")
    assert category_of("KORVEL", "12.00", provider_category="INTEREST") == ("income", "provider")
    # a decisive provider type beats a merchant name that suggests otherwise
    assert category_of("TESCO BANK ATM", provider_category="ATM") == ("cash", "provider")


def test_classification_when_nothing_else_speaks() -> None:
    row = Transaction("t", "a", DAY, Decimal("-20.00"), description="KORVEL",
                      provider_classification=("Shopping", "Groceries"))  # fmt: skip
    result = Categoriser().categorise(row)
    assert (result.category, result.source) == ("groceries", "provider")


def test_directions_and_people() -> None:
    assert category_of("KORVEL HOLDINGS", "2500.00") == ("income", "default")
    assert category_of("KORVEL HOLDINGS BGC", "2500.00")[0] == "income"
    assert category_of("TESCO STORES 3297", "12.50") == ("groceries", "merchant")  # a refund
    assert category_of("TO J SMITH") == ("transfers", "keyword")
    assert category_of("KORVEL") == ("other", "default")
    # income words do not make money out income
    assert category_of("KORVEL PENSION SALARY SACRIFICE")[0] != "income"


def test_every_result_has_a_category_confidence_and_source() -> None:
    rows = [txn(str(i), DAY, a, d) for i, (a, d) in enumerate(
        [("-3.20", "GREGGS"), ("1200", "ACME LTD"), ("-50", "KORVEL"), ("-9.99", "NETFLIX.COM")]
    )]  # fmt: skip
    for result in categorise(rows):
        assert result.category in CATEGORIES
        assert 0 < result.confidence <= 1
        assert result.source in {"member", "rule", "learned", "merchant", "keyword", "provider",
                                 "default"}  # fmt: skip


def test_family_rules_by_merchant_text_amount_and_priority() -> None:
    rules = [
        FamilyRule("childcare_education", merchant="Tesco", max_amount=Decimal("5"), id="a"),
        FamilyRule("charity_gifts", text="church", id="b"),
        FamilyRule(
            "entertainment", merchant="tesco stores", priority=5, id="c", min_amount=Decimal(100)
        ),
    ]
    c = Categoriser(rules=rules)
    assert c.categorise(txn("1", DAY, "-4.50", "TESCO STORES 1")).source == "rule"
    assert c.categorise(txn("1", DAY, "-4.50", "TESCO STORES 1")).category == (
        "childcare_education"
    )
    assert c.categorise(txn("2", DAY, "-40.00", "TESCO STORES 1")).source == "merchant"
    assert c.categorise(txn("3", DAY, "-150.00", "TESCO STORES 1")).category == "entertainment"
    assert c.categorise(txn("4", DAY, "-10", "ST MARYS CHURCH")).category == "charity_gifts"


def test_rule_priority_beats_order() -> None:
    low = FamilyRule("shopping", text="korvel", priority=1, id="z")
    high = FamilyRule("travel", text="korvel", priority=9, id="a")
    for rules in ([low, high], [high, low]):
        assert Categoriser(rules=rules).categorise(txn("t", DAY, "-1", "KORVEL")).category == (
            "travel"
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"category": "food"},
        {"category": "groceries"},
        {"category": "groceries", "merchant": "***"},
        {"category": "groceries", "min_amount": Decimal(5), "max_amount": Decimal(1)},
    ],
)
def test_invalid_rules_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidRuleError):
        FamilyRule(**kwargs)  # type: ignore[arg-type]


def test_learning_applies_a_member_choice_to_the_merchant() -> None:
    chosen = txn("1", DAY, "-30.00", "SQ *KORVEL 1234")
    learned = learn_from_members([(chosen, "personal_care")])
    c = Categoriser(learned=learned)
    other = c.categorise(txn("2", date(2024, 6, 1), "-28.00", "KORVEL CD 9999"))
    assert (other.category, other.source) == ("personal_care", "learned")
    assert c.categorise(txn("3", DAY, "-5", "GREGGS")).source == "merchant"
    with pytest.raises(InvalidRuleError):
        learn_from_members([(chosen, "nope")])


@given(st.sampled_from(CATEGORY_IDS), st.text(max_size=30), st.decimals("-500", "500", places=2))
def test_a_member_choice_is_never_overwritten(chosen: str, text: str, amount: Decimal) -> None:
    rules = [FamilyRule("travel", text=text or "x", priority=100)]
    learned = {merchant_key(txn("t", DAY, "1", text)): "bills"}
    row = txn("t", DAY, str(amount), text, provider_category="ATM")
    result = categorise([row], rules=rules, learned=learned, member_categories={"t": chosen})[0]
    assert (result.category, result.source, result.confidence) == (chosen, "member", 1.0)


def test_merchant_consensus_from_the_providers_classification() -> None:
    def row(i: int, labels: tuple[str, ...]) -> Transaction:
        return Transaction(f"k{i}", "a", DAY, Decimal("-12.00"), description=f"KORVEL {i}001",
                           provider_classification=labels)  # fmt: skip

    rows = [row(0, ("Shopping", "Groceries")), row(1, ("Shopping", "Groceries")),
            row(2, ("Entertainment",)), row(3, ()), row(4, ())]  # fmt: skip
    assert merchant_consensus(rows) == {"korvel": "groceries"}
    results = categorise(rows)
    assert {r.category for r in results} == {"groceries"}  # the odd one out is outvoted
    assert {r.source for r in results} == {"provider"}
    # too few or split votes say nothing
    assert merchant_consensus(rows[:1]) == {}
    assert merchant_consensus([rows[0], rows[2]]) == {}
    # a telling word still beats the crowd, and the consensus can be passed in (persisted)
    bakery = txn("b", DAY, "-3.00", "KORVEL BAKERY")
    assert categorise([bakery], consensus={"korvel bakery": "shopping"})[0].category == (
        "groceries"
    )
    alone = txn("c", DAY, "-3.00", "KORVEL 9")
    assert categorise([alone], consensus={"korvel": "groceries"})[0].category == "groceries"
