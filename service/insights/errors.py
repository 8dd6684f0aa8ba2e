"""Errors of the insights package."""

from __future__ import annotations


class InsightsError(ValueError):
    """Base class: bad input to an insight (the caller can fix it)."""


class InvalidRuleError(InsightsError):
    """A family rule or member choice that cannot be applied (unknown category, no condition)."""


class InvalidTransactionError(InsightsError):
    """A transaction record that cannot be read (missing field, bad date or amount)."""


class UnknownSeriesError(InsightsError):
    """A scenario names a recurring series that detection did not find."""
