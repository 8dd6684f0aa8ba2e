"""PostgreSQL adapter of the database port, on psycopg 3 (local runs and tests).

Connections are autocommit and come from a tiny thread-safe pool: each call on
the database borrows one for the duration of the call, and a transaction keeps
one until it ends, so statements run on the database inside a ``with
db.transaction()`` block run *outside* that transaction, exactly as with the
Data API adapter.

Parameters are typed like the Data API types them: ``str`` is sent as
``text`` (not as an untyped literal) and ``int`` as ``bigint``, so SQL that
would need a cast in Aurora (e.g. ``text`` into a ``uuid`` column) fails here too.
An aware ``datetime`` is sent as a UTC ``timestamp`` (the Data API's
``TIMESTAMP`` hint): stored into ``timestamptz`` it is the same instant, but an
expression on it (``:ts + interval '1 day'``) yields a naive ``timestamp`` —
write ``CAST(:ts AS timestamptz)`` where the result must be aware.
Every session runs with ``TimeZone = 'UTC'``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NoReturn

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg.types.numeric import Int8Dumper
from psycopg.types.string import StrDumper

from service.db.errors import StatementTimeout
from service.db.params import check_params
from service.db.port import (
    DatabaseError,
    IntegrityViolationError,
    Json,
    Params,
    Row,
    SqlValue,
    TransientDatabaseError,
)
from service.db.sql import to_pyformat

Connection = psycopg.Connection[Row]

_ROWCOUNT_COMMANDS = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "COPY"})


def configure_connection(
    conn: psycopg.Connection[Any], *, statement_timeout_ms: int | None
) -> None:
    """Apply the port's type rules and session settings to a fresh connection."""
    conn.adapters.register_dumper(str, StrDumper)
    conn.adapters.register_dumper(int, Int8Dumper)
    with conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
        if statement_timeout_ms is not None:
            cur.execute(f"SET statement_timeout = {int(statement_timeout_ms)}")


def prepare(sql: str, params: Params | None) -> tuple[str, dict[str, Any] | None]:
    """Turn port SQL and parameters into psycopg SQL and parameters."""
    query, names = to_pyformat(sql)
    values = check_params(names, params)
    if not names:
        return query, None
    return query, {k: _adapt(v) for k, v in values.items()}


def _adapt(value: SqlValue) -> object:
    if isinstance(value, Json):
        return Jsonb(value.value)
    if isinstance(value, datetime):
        # Sent as UTC `timestamp`, as the Data API's TIMESTAMP hint does: stored in a
        # timestamptz column it is the same instant; in an expression it stays naive.
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def affected_rows(cursor: psycopg.Cursor[Any]) -> int:
    """Rows changed by the last statement: DML row count, else 0 (as the Data API reports)."""
    status = (cursor.statusmessage or "").split(" ", 1)[0].upper()
    return max(cursor.rowcount, 0) if status in _ROWCOUNT_COMMANDS else 0


def describe_error(exc: psycopg.Error) -> str:
    """A log-safe description: primary message, SQLSTATE and constraint, never DETAIL values."""
    diag = exc.diag
    text = diag.message_primary or type(exc).__name__
    parts = [text]
    if diag.sqlstate:
        parts.append(f"SQLSTATE {diag.sqlstate}")
    if diag.constraint_name:
        parts.append(f'constraint "{diag.constraint_name}"')
    return "; ".join(parts)


def translate_error(exc: psycopg.Error) -> NoReturn:
    """Raise the port error matching a psycopg error."""
    message = describe_error(exc)
    if isinstance(exc, pg_errors.IntegrityError):
        raise IntegrityViolationError(message) from exc
    if isinstance(exc, pg_errors.QueryCanceled):
        raise StatementTimeout(message) from exc
    if isinstance(exc, psycopg.OperationalError) and exc.sqlstate is None:
        raise TransientDatabaseError(f"database unreachable: {type(exc).__name__}") from exc
    raise DatabaseError(message) from exc


class _Pool:
    """Keeps a few idle autocommit connections; opens more on demand."""

    def __init__(self, url: str, *, max_idle: int, statement_timeout_ms: int | None) -> None:
        self._url = url
        self._max_idle = max_idle
        self._statement_timeout_ms = statement_timeout_ms
        self._idle: list[Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def acquire(self) -> Connection:
        with self._lock:
            if self._closed:
                raise DatabaseError("database adapter is closed")
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed and not conn.broken:
                    return conn
        try:
            conn = psycopg.connect(self._url, autocommit=True, row_factory=dict_row)
            configure_connection(conn, statement_timeout_ms=self._statement_timeout_ms)
        except psycopg.Error as exc:
            translate_error(exc)
        return conn

    def release(self, conn: Connection) -> None:
        reusable = (
            not conn.closed
            and not conn.broken
            and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        )
        with self._lock:
            if reusable and not self._closed and len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class _ConnectionExecutor:
    """Runs statements on one connection (used for the duration of a transaction)."""

    def __init__(self, conn: Connection) -> None:
        self._conn: Connection | None = conn

    def _live(self) -> Connection:
        if self._conn is None:
            raise DatabaseError("transaction is finished; it cannot run more statements")
        return self._conn

    def _finish(self) -> None:
        self._conn = None

    def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        query, values = prepare(sql, params)
        try:
            with self._live().cursor() as cur:
                cur.execute(query, values)
                return cur.fetchall() if cur.description is not None else []
        except psycopg.Error as exc:
            translate_error(exc)

    def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        query, values = prepare(sql, params)
        try:
            with self._live().cursor() as cur:
                cur.execute(query, values)
                return cur.fetchone() if cur.description is not None else None
        except psycopg.Error as exc:
            translate_error(exc)

    def execute(self, sql: str, params: Params | None = None) -> int:
        query, values = prepare(sql, params)
        try:
            with self._live().cursor() as cur:
                cur.execute(query, values)
                return affected_rows(cur)
        except psycopg.Error as exc:
            translate_error(exc)

    def execute_batch(self, sql: str, param_sets: Sequence[Params]) -> None:
        if not param_sets:
            return
        prepared = [prepare(sql, params) for params in param_sets]
        query = prepared[0][0]
        try:
            conn = self._live()
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(query, [values or {} for _, values in prepared])
        except psycopg.Error as exc:
            translate_error(exc)


class PostgresDatabase:
    """The database port on a PostgreSQL server reached with psycopg 3.

    Parameters
    ----------
    url:
        A libpq connection URL, e.g. from :func:`devtools.embedded.embedded_postgres_url`.
    max_idle_connections:
        How many idle connections the pool keeps for reuse.
    statement_timeout_ms:
        Optional per-session ``statement_timeout``; ``None`` keeps the server default.

    Notes
    -----
    Nothing connects until the first statement. The object is thread-safe; an
    executor returned by :meth:`transaction` belongs to the thread that opened it.
    """

    def __init__(
        self,
        url: str,
        *,
        max_idle_connections: int = 4,
        statement_timeout_ms: int | None = None,
    ) -> None:
        self.url = url
        self._pool = _Pool(
            url, max_idle=max_idle_connections, statement_timeout_ms=statement_timeout_ms
        )

    @contextmanager
    def _borrow(self) -> Iterator[_ConnectionExecutor]:
        conn = self._pool.acquire()
        executor = _ConnectionExecutor(conn)
        try:
            yield executor
        finally:
            executor._finish()
            self._pool.release(conn)

    def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        """Run a query and return every row."""
        with self._borrow() as ex:
            return ex.fetch_all(sql, params)

    def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        """Run a query and return the first row, or ``None``."""
        with self._borrow() as ex:
            return ex.fetch_one(sql, params)

    def execute(self, sql: str, params: Params | None = None) -> int:
        """Run a statement (auto-committed) and return the rows it changed."""
        with self._borrow() as ex:
            return ex.execute(sql, params)

    def execute_batch(self, sql: str, param_sets: Sequence[Params]) -> None:
        """Run one statement per parameter set, all-or-nothing."""
        with self._borrow() as ex:
            ex.execute_batch(sql, param_sets)

    @contextmanager
    def transaction(self) -> Iterator[_ConnectionExecutor]:
        """Open a transaction on a dedicated connection; commit on exit, roll back on error."""
        with self._borrow() as ex:
            conn = ex._live()
            try:
                with conn.transaction():
                    yield ex
            except psycopg.Error as exc:
                translate_error(exc)

    def close(self) -> None:
        """Close every pooled connection; the adapter cannot be used afterwards."""
        self._pool.close()
