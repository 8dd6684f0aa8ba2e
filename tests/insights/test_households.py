"""The household generator: deterministic per seed, append-only in time, labelled consistently."""

from __future__ import annotations

from datetime import date

import pytest

from devtools.households import Household, HouseholdProfile, generate_household
from service.insights.taxonomy import CATEGORY_IDS

START, END = date(2022, 1, 1), date(2024, 6, 30)


@pytest.fixture(scope="module")
def household() -> Household:
    return generate_household(11, start=START, end=END)


def test_same_seed_same_household(household: Household) -> None:
    assert generate_household(11, start=START, end=END) == household
    assert generate_household(12, start=START, end=END) != household


def test_later_end_only_appends(household: Household) -> None:
    longer = generate_household(11, start=START, end=date(2025, 3, 1))
    by_id = {t.id: t for t in longer.transactions}
    booked = [t for t in household.transactions if not t.pending]
    assert booked and all(by_id[t.id] == t for t in booked)


def test_labels_and_accounts_are_consistent(household: Household) -> None:
    accounts = {a.id for a in household.accounts}
    ids = [t.id for t in household.transactions]
    assert len(ids) == len(set(ids))
    for t in household.transactions:
        assert t.account_id in accounts
        assert START <= t.booked <= END
        assert t.true_category in CATEGORY_IDS
        assert (t.amount > 0) == (t.transaction_type == "CREDIT")
        assert not t.pending or t.booked > date(2024, 6, 28)
    series_of = {t.id: t.true_series_id for t in household.transactions}
    for series in household.series:
        assert len(series.transaction_ids) >= 2
        assert all(series_of[i] == series.id for i in series.transaction_ids)


def test_unseen_pool_avoids_national_brands() -> None:
    household = generate_household(
        5, start=START, end=END, profile=HouseholdProfile(merchant_pool="unseen")
    )
    descriptions = " ".join(t.description for t in household.transactions)
    for brand in ("TESCO", "NETFLIX", "BRITISH GAS", "AMAZON"):
        assert brand not in descriptions
