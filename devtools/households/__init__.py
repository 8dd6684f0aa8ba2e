"""Labelled synthetic UK household histories (accounts, transactions, planted series).

The stable API shared by the accuracy benchmark, the tests and the sandbox bank::

    from devtools.households import generate_household
    household = generate_household(7, start=date(2021, 1, 1), end=date(2025, 12, 31))
    household.accounts        # HouseholdAccount: id, type, currency, display_name, opening_balance
    household.transactions    # HouseholdTransaction: booked, signed amount, description, labels
    household.series          # TrueSeries: the recurring series planted, with transaction ids
"""

from __future__ import annotations

from devtools.households.generator import generate_household
from devtools.households.model import (
    Household,
    HouseholdAccount,
    HouseholdProfile,
    HouseholdTransaction,
    TrueSeries,
)

__all__ = [
    "Household",
    "HouseholdAccount",
    "HouseholdProfile",
    "HouseholdTransaction",
    "TrueSeries",
    "generate_household",
]
