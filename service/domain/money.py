"""Money as integer minor units plus an ISO 4217 code; decimal strings at the API edge."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from service.domain.errors import ValidationFailedError

# ISO 4217 exponents that differ from 2 (the default).
_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}

# Amounts beyond this are not plausible household money and would overflow bigint arithmetic.
MAX_MINOR = 10**15


def exponent(currency: str) -> int:
    """Number of minor-unit digits of ``currency``."""
    return _EXPONENTS.get(currency, 2)


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: ``amount_minor`` (e.g. pence) in ``currency``."""

    amount_minor: int
    currency: str

    @property
    def amount(self) -> Decimal:
        """The amount in major units with the currency's exact scale (``Decimal("-12.30")``)."""
        return Decimal(self.amount_minor).scaleb(-exponent(self.currency))

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def to_minor(amount: Decimal | str, currency: str) -> int:
    """Convert a major-unit amount to minor units, refusing sub-minor precision.

    Raises
    ------
    ValidationFailedError
        If the amount is not a finite number, has more decimals than the currency,
        or is out of range.
    """
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(amount)
    except InvalidOperation:
        raise ValidationFailedError(f"'{amount}' is not a decimal amount.") from None
    if not value.is_finite():
        raise ValidationFailedError("Amounts must be finite numbers.")
    places = _EXPONENTS.get(currency, 2)
    try:
        scaled = value.scaleb(places)
    except ArithmeticError:  # the exponent overflows the decimal context
        raise ValidationFailedError("Amount out of range.") from None
    if scaled != scaled.to_integral_value():
        raise ValidationFailedError(f"Amounts in {currency} have at most {places} decimal places.")
    # Compared as a Decimal first: int() of an amount like 1E+900000 would build a huge integer.
    if abs(scaled) > MAX_MINOR:
        raise ValidationFailedError("Amount out of range.")
    return int(scaled)
