"""Major-unit amounts to minor units: exact, and every bad amount a clear error."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.errors import ValidationFailedError
from service.domain.money import MAX_MINOR, to_minor


@given(st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR))
def test_every_amount_in_range_converts_exactly(minor: int) -> None:
    assert to_minor(Decimal(minor).scaleb(-2), "GBP") == minor
    assert to_minor(str(Decimal(minor).scaleb(-2)), "GBP") == minor
    assert to_minor(Decimal(minor), "JPY") == minor


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("lots", "not a decimal amount"),
        ("NaN", "finite"),
        ("-Infinity", "finite"),
        ("1.234", "at most 2 decimal places"),
        ("10000000000000.01", "out of range"),
        # A huge exponent is compared as a decimal, never built as an integer (seconds of CPU)...
        ("1E+999990", "out of range"),
        # ...and one beyond the decimal context is the same error, not a decimal.Overflow.
        ("1E+999999999", "out of range"),
    ],
)
def test_bad_amounts_are_validation_errors(amount: str, message: str) -> None:
    with pytest.raises(ValidationFailedError, match=message):
        to_minor(amount, "GBP")
