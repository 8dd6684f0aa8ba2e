"""Query objects: what a caller asks for, validated once, read from the API down to SQL.

:class:`TransactionQuery` is the API's query-string model (``GET
/v1/families/{fid}/transactions``), the use case's argument and what the repository turns
into SQL. Adding a filter touches two places: a field here and its clause in
:func:`service.repositories.transactions.list_transactions`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Self
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from service.domain.cursor import decode_transaction_cursor
from service.domain.money import to_minor
from service.insights.taxonomy import CATEGORY_IDS, is_category

#: Text without control characters (PostgreSQL cannot store NUL).
NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
#: Amount filters are in major units of two-decimal currencies (the family's GBP accounts).
FILTER_CURRENCY = "GBP"
MAX_PAGE = 200


def bounded_text(max_length: int, min_length: int = 1) -> StringConstraints:
    """Stripped text of bounded length without control characters."""
    return StringConstraints(strip_whitespace=True, min_length=min_length,
                             max_length=max_length, pattern=NO_CONTROL)


def checked_category(value: str) -> str:
    """A taxonomy category id, or a clear error naming where the ids are listed."""
    if not is_category(value):
        raise ValueError(f"Unknown category {value!r}: use a taxonomy id from "
                         "GET /v1/families/{fid}/categories (e.g. 'groceries').")
    return value


Cursor = Annotated[str, StringConstraints(min_length=1, max_length=200,
                                          pattern=r"^[A-Za-z0-9_-]+$")]
_Amount = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=17, decimal_places=2)]


class TransactionQuery(BaseModel):
    """Filters and paging of the transaction list. Amounts are major units (decimal strings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_id: UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    category: Annotated[str, bounded_text(50), AfterValidator(checked_category),
                        Field(json_schema_extra={"enum": list(CATEGORY_IDS)})] | None = None
    text: Annotated[str, bounded_text(100)] | None = Field(
        default=None, description="Case-insensitive substring of description, merchant or "
        "note (no wildcards).")
    amount_min: _Amount | None = None
    amount_max: _Amount | None = None
    pending: bool | None = None
    cursor: Cursor | None = None
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)

    @model_validator(mode="after")
    def _ranges(self) -> Self:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from must not be after date_to.")
        if (self.amount_min is not None and self.amount_max is not None
                and self.amount_min > self.amount_max):
            raise ValueError("amount_min must not be greater than amount_max.")
        return self

    @property
    def amount_min_minor(self) -> int | None:
        """``amount_min`` in minor units."""
        return None if self.amount_min is None else to_minor(self.amount_min, FILTER_CURRENCY)

    @property
    def amount_max_minor(self) -> int | None:
        """``amount_max`` in minor units."""
        return None if self.amount_max is None else to_minor(self.amount_max, FILTER_CURRENCY)

    @property
    def after(self) -> tuple[date, UUID] | None:
        """The decoded cursor: the last (booked_on, id) of the previous page.

        Raises
        ------
        ValidationFailedError
            The cursor was not issued by this API.
        """
        return None if self.cursor is None else decode_transaction_cursor(self.cursor)
