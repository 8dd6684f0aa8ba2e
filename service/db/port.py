"""The database port: the narrow interface every repository talks to.

Two adapters implement it and share all SQL:

* :mod:`service.db.postgres` (psycopg 3) for local runs and tests;
* :mod:`service.db.data_api` (boto3 ``rds-data``) for Aurora in Lambda.

SQL is written once, with ``:name`` placeholders (the RDS Data API style).
Parameter types are inferred from the Python value:

==================  =====================
Python              SQL type hint
==================  =====================
``None``            NULL
``bool``            boolean
``int``             bigint
``float``           double precision
``str``             text
``bytes``           bytea
``Decimal``         DECIMAL
``datetime``        TIMESTAMP (timezone-aware values only)
``date``            DATE
``UUID``            UUID
``Json(...)``       JSON / jsonb
==================  =====================

Rows come back as ``dict[str, Any]`` with the same Python types.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeAlias
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Json:
    """Marks a parameter value to be sent as JSON (``jsonb``)."""

    value: Any


SqlValue: TypeAlias = (
    bool | int | float | str | bytes | Decimal | datetime | date | UUID | Json | None
)
Params: TypeAlias = Mapping[str, SqlValue]
Row: TypeAlias = dict[str, Any]


class Executor(Protocol):
    """Runs SQL. Both a :class:`Database` and an open transaction are executors."""

    def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        """Run a query and return every row (adapters page internally where needed)."""
        ...

    def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        """Run a query and return the first row, or ``None``."""
        ...

    def execute(self, sql: str, params: Params | None = None) -> int:
        """Run a statement and return the number of rows it affected."""
        ...

    def execute_batch(self, sql: str, param_sets: Sequence[Params]) -> None:
        """Run one statement once per parameter set."""
        ...


class Database(Executor, Protocol):
    """A database reached through one adapter.

    Statements run on the database directly are auto-committed; use
    :meth:`transaction` for a unit of work that must be all-or-nothing.
    """

    def transaction(self) -> AbstractContextManager[Executor]:
        """Open a transaction; commit on normal exit, roll back on any exception."""
        ...

    def close(self) -> None:
        """Release connections or clients held by the adapter."""
        ...


class DatabaseError(Exception):
    """Base class of errors raised by database adapters."""


class IntegrityViolationError(DatabaseError):
    """A unique, foreign-key or check constraint rejected the statement."""


class TransientDatabaseError(DatabaseError):
    """The database was unavailable (resuming, throttled) after all retries."""


class StatementTooLargeError(DatabaseError):
    """A result or statement exceeded a limit of the underlying API."""

