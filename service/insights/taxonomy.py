"""The category taxonomy of money insights: stable ids and the labels members see."""

from __future__ import annotations

from typing import Final

#: Category id -> label, in the order the product lists them.
CATEGORIES: Final[dict[str, str]] = {
    "income": "Income",
    "transfers": "Transfers",
    "housing": "Housing",
    "bills": "Bills",
    "groceries": "Groceries",
    "eating_out": "Eating out",
    "transport": "Transport",
    "shopping": "Shopping",
    "entertainment": "Entertainment",
    "health": "Health",
    "childcare_education": "Childcare & education",
    "insurance": "Insurance",
    "savings_investments": "Savings & investments",
    "cash": "Cash",
    "fees_charges": "Fees & charges",
    "charity_gifts": "Charity & gifts",
    "travel": "Travel",
    "personal_care": "Personal care",
    "other": "Other",
}

#: Every category id, in taxonomy order.
CATEGORY_IDS: Final[tuple[str, ...]] = tuple(CATEGORIES)


def is_category(value: str) -> bool:
    """Return whether ``value`` is a category id of the taxonomy."""
    return value in CATEGORIES
