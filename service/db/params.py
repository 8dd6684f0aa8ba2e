"""Parameter checks shared by both adapters, so both reject the same mistakes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from service.db.port import DatabaseError, Json, Params, SqlValue

_SUPPORTED = (bool, int, float, str, bytes, Decimal, datetime, date, UUID, Json)


class ParameterError(DatabaseError, TypeError):
    """A parameter is missing, of an unsupported type, or a naive ``datetime``."""


def check_params(names: Sequence[str], params: Params | None) -> dict[str, SqlValue]:
    """Validate ``params`` against the placeholder ``names`` used by a statement.

    Returns only the parameters the statement uses (extra keys are ignored, as
    callers often share one mapping between statements).

    Raises
    ------
    ParameterError
        If a placeholder has no value, a value has an unsupported type, or a
        ``datetime`` is naive (timestamps must be timezone-aware).
    """
    given = params or {}
    used: dict[str, SqlValue] = {}
    for name in dict.fromkeys(names):
        if name not in given:
            raise ParameterError(f"no value for SQL parameter :{name}")
        used[name] = check_value(name, given[name])
    return used


def check_value(name: str, value: SqlValue) -> SqlValue:
    """Return ``value`` if the port supports it, else raise :class:`ParameterError`."""
    if value is None:
        return value
    if not isinstance(value, _SUPPORTED):
        raise ParameterError(f"SQL parameter :{name} has unsupported type {type(value).__name__}")
    if isinstance(value, datetime) and value.utcoffset() is None:
        raise ParameterError(f"SQL parameter :{name} is a naive datetime; use an aware one")
    return value
