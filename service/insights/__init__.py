"""Money insights: categorisation, recurring payments and runway over a small transaction model.

Pure functions over :class:`Transaction` (no database, network or Flask), so the sync
workflow's steps, the API and the offline CLI (``python -m service.insights``) are thin
wrappers around the same code. Nothing heavy is imported here: the bank-holiday calendar loads
on first use.
"""

from __future__ import annotations

from service.insights.categorisation import (
    Categoriser,
    FamilyRule,
    categorise,
    learn_from_members,
    merchant_consensus,
    merchant_key,
)
from service.insights.errors import (
    InsightsError,
    InvalidRuleError,
    InvalidTransactionError,
    UnknownSeriesError,
)
from service.insights.model import CategoryResult, Transaction
from service.insights.recurring import (
    PriceChange,
    RecurringIndex,
    Series,
    detect_recurring,
    series_id,
)
from service.insights.runway import Runway, Scenario, project, runway
from service.insights.taxonomy import CATEGORIES, CATEGORY_IDS

__all__ = [
    "CATEGORIES",
    "CATEGORY_IDS",
    "Categoriser",
    "CategoryResult",
    "FamilyRule",
    "InsightsError",
    "InvalidRuleError",
    "InvalidTransactionError",
    "PriceChange",
    "RecurringIndex",
    "Runway",
    "Scenario",
    "Series",
    "Transaction",
    "UnknownSeriesError",
    "categorise",
    "detect_recurring",
    "learn_from_members",
    "merchant_consensus",
    "merchant_key",
    "project",
    "runway",
    "series_id",
]
