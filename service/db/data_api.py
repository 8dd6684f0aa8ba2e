"""RDS Data API adapter of the database port (Aurora Serverless v2 from a Lambda outside the VPC).

Typing
    Parameters carry the port's types as Data API fields with ``typeHint``\\ s
    (``Decimal`` → ``stringValue`` + ``DECIMAL``, aware ``datetime`` → UTC
    ``'YYYY-MM-DD HH:MM:SS[.ffffff]'`` + ``TIMESTAMP``, ``date`` → ``DATE``,
    ``UUID`` → ``UUID``, ``Json`` → ``JSON``, ``bytes`` → ``blobValue``).
    Results are decoded by ``columnMetadata.typeName``.

Large results (the 1 MiB response limit)
    ``fetch_all`` first runs the query as is — one call, the common case. If
    the Data API answers "Database returned more than the allowed response
    size limit", and the statement is a query (``SELECT``/``WITH``/``VALUES``/
    ``TABLE``), it is re-run through a server-side cursor inside a transaction
    (the caller's, or a short one of its own): ``DECLARE ... SCROLL CURSOR
    FOR <query>`` then ``FETCH FORWARD n`` until exhausted. Unlike wrapping the
    query in ``LIMIT/OFFSET`` this is correct for every query: one snapshot,
    the query's own order (no ORDER BY needed for consistency), no row seen
    twice or skipped. The page size adapts to the observed row size; a page that
    is still too large is re-fetched smaller after ``MOVE ABSOLUTE`` back to
    the last good position. A single row over the limit, or an oversized result
    of a data-changing statement, raises :class:`StatementTooLargeError` (the
    statement has run by then: outside a transaction its effect is committed).
    The fallback assumes, as the local Data API does, that a refused response
    leaves the transaction usable. Callers that read unbounded sets should
    still page themselves (keyset pagination) — the fallback costs the failed
    call plus one call per page.

Retries
    Exponential backoff with full jitter. Errors that mean the call did not run
    (``DatabaseResumingException`` while Aurora resumes from 0 ACU, throttling,
    ``ServiceUnavailableError``, failure to connect) are retried always.
    Errors where the statement may have run (``StatementTimeoutException``,
    ``DatabaseUnavailableException``, internal errors, read timeouts) are
    retried only for reads outside a transaction and for ``BeginTransaction``.

Statement time
    ``ExecuteStatement`` is bounded by the Data API itself: 45 s, after which
    the statement is cancelled (``continueAfterTimeout`` is left false). The
    client's read timeout (default 50 s) sits just above, so that timeout
    surfaces as ``StatementTimeoutException`` rather than as a client abort that
    would leave the statement running. Tighter bounds belong to the database
    role (``ALTER ROLE ... SET statement_timeout``); ``statement_timeout_ms``
    here adds ``SET LOCAL statement_timeout`` at the start of each transaction
    at the price of one call.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast
from uuid import UUID

from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

from service.db.errors import StatementTimeout, TransactionExpired
from service.db.params import check_params
from service.db.port import (
    DatabaseError,
    IntegrityViolationError,
    Params,
    Row,
    SqlValue,
    StatementTooLargeError,
    TransientDatabaseError,
)
from service.db.sql import first_keyword, parameter_names_of

if TYPE_CHECKING:
    from mypy_boto3_rds_data import RDSDataServiceClient
    from mypy_boto3_rds_data.type_defs import (
        ExecuteStatementResponseTypeDef,
        FieldOutputTypeDef,
        SqlParameterTypeDef,
    )

T = TypeVar("T")

RESPONSE_TOO_LARGE = "more than the allowed response size limit"
_NOT_RUN = frozenset(
    {
        "DatabaseResumingException",
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "ServiceUnavailableError",
    }
)
_MAYBE_RUN = frozenset(
    {"StatementTimeoutException", "DatabaseUnavailableException", "InternalServerErrorException"}
)
_INTEGRITY_MARKERS = (
    "violates unique constraint",
    "violates foreign key constraint",
    "violates check constraint",
    "violates not-null constraint",
    "violates exclusion constraint",
)
_QUERY_KEYWORDS = frozenset({"SELECT", "WITH", "VALUES", "TABLE"})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter: sleep ``uniform(0, min(cap, base * 2**n))``.

    The defaults span about 30 s, enough for Aurora to resume from 0 ACU.
    """

    max_attempts: int = 8
    base_delay: float = 0.25
    max_delay: float = 8.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))  # noqa: S311


def _format_timestamp(value: datetime) -> str:
    utc = value.astimezone(UTC)
    text = f"{utc.year:04d}-{utc:%m-%d %H:%M:%S}"
    return f"{text}.{utc.microsecond:06d}" if utc.microsecond else text


def encode_parameter(name: str, value: SqlValue) -> SqlParameterTypeDef:
    """Encode one port value as a Data API ``SqlParameter``."""
    if value is None:
        return {"name": name, "value": {"isNull": True}}
    if isinstance(value, bool):
        return {"name": name, "value": {"booleanValue": value}}
    if isinstance(value, int):
        return {"name": name, "value": {"longValue": value}}
    if isinstance(value, float):
        return {"name": name, "value": {"doubleValue": value}}
    if isinstance(value, str):
        return {"name": name, "value": {"stringValue": value}}
    if isinstance(value, bytes):
        return {"name": name, "value": {"blobValue": value}}
    if isinstance(value, Decimal):
        return {"name": name, "value": {"stringValue": format(value, "f")}, "typeHint": "DECIMAL"}
    if isinstance(value, datetime):
        return {
            "name": name,
            "value": {"stringValue": _format_timestamp(value)},
            "typeHint": "TIMESTAMP",
        }
    if isinstance(value, date):
        return {"name": name, "value": {"stringValue": value.isoformat()}, "typeHint": "DATE"}
    if isinstance(value, UUID):
        return {"name": name, "value": {"stringValue": str(value)}, "typeHint": "UUID"}
    text = json.dumps(value.value, separators=(",", ":"), ensure_ascii=False)
    return {"name": name, "value": {"stringValue": text}, "typeHint": "JSON"}


def encode_parameters(sql: str, params: Params | None) -> list[SqlParameterTypeDef]:
    """Encode the parameters ``sql`` uses (checked as the psycopg adapter checks them)."""
    values = check_params(parameter_names_of(sql), params)
    return [encode_parameter(name, value) for name, value in values.items()]


def _parse_timestamp(text: str, *, aware: bool) -> datetime:
    parsed = datetime.fromisoformat(text)
    if aware:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return parsed


def _array(value: Any, element_type: str) -> list[Any]:
    if "arrayValues" in value:
        return [_array(v, element_type) for v in value["arrayValues"]]
    for key in ("booleanValues", "longValues", "doubleValues"):
        if key in value:
            return list(value[key])
    strings = value.get("stringValues", [])
    return [None if s is None else _decode_text(element_type, s) for s in strings]


def _decode_text(type_name: str, text: str) -> Any:
    if type_name in ("numeric", "decimal"):
        return Decimal(text)
    if type_name == "timestamptz":
        return _parse_timestamp(text, aware=True)
    if type_name == "timestamp":
        return _parse_timestamp(text, aware=False)
    if type_name == "date":
        return date.fromisoformat(text)
    if type_name == "uuid":
        return UUID(text)
    if type_name in ("json", "jsonb"):
        return json.loads(text)
    return text


def decode_field(type_name: str, field: FieldOutputTypeDef) -> Any:
    """Decode one result ``Field`` using its column's ``typeName``."""
    if field.get("isNull"):
        return None
    name = type_name.lower()
    if "arrayValue" in field:
        return _array(field["arrayValue"], name.lstrip("_"))
    if "stringValue" in field:
        return _decode_text(name, field["stringValue"])
    if "booleanValue" in field:
        return field["booleanValue"]
    if "longValue" in field:
        return Decimal(field["longValue"]) if name in ("numeric", "decimal") else field["longValue"]
    if "doubleValue" in field:
        value = field["doubleValue"]
        return Decimal(str(value)) if name in ("numeric", "decimal") else value
    if "blobValue" in field:
        return bytes(field["blobValue"])
    return None


def decode_rows(response: ExecuteStatementResponseTypeDef) -> list[Row]:
    """Rows of an ``ExecuteStatement`` response made with ``includeResultMetadata``."""
    columns = [
        (c.get("label") or c.get("name") or "?", c.get("typeName", ""))
        for c in response.get("columnMetadata", [])
    ]
    rows: list[Row] = []
    for record in response.get("records", []):
        rows.append(
            {name: decode_field(tn, fld) for (name, tn), fld in zip(columns, record, strict=True)}
        )
    return rows


class _TooLargeError(Exception):
    """Internal: the Data API refused a response over its size limit."""


def _first_line(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line.removeprefix("ERROR: ").strip()


def _raise_mapped(exc: ClientError) -> NoReturn:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", ""))
    # Only the first line: PostgreSQL's "Detail:" lines can hold row values (personal data).
    summary = _first_line(message)
    if RESPONSE_TOO_LARGE in message:
        raise _TooLargeError(summary) from exc
    if code in ("TransactionNotFoundException", "NotFoundException") or (
        "Transaction" in message and "is not found" in message
    ):
        raise TransactionExpired(
            "Data API transaction is unknown: it timed out (3 minutes without a call, or"
            " 24 hours in total) or already ended; nothing of it was committed"
        ) from exc
    if code == "StatementTimeoutException":
        raise StatementTimeout(f"statement timed out: {summary}") from exc
    if any(marker in message for marker in _INTEGRITY_MARKERS):
        raise IntegrityViolationError(summary) from exc
    if code in _NOT_RUN or code in _MAYBE_RUN:
        raise TransientDatabaseError(f"{code}: {summary}") from exc
    raise DatabaseError(f"{code}: {summary}" if summary else code) from exc


class DataApiDatabase:
    """The database port on Aurora PostgreSQL through the RDS Data API.

    Parameters
    ----------
    cluster_arn, secret_arn:
        The Aurora cluster and the Secrets Manager secret holding its credentials.
    database:
        Database name; ``None`` uses the cluster's default.
    client:
        An ``rds-data`` client; by default one is created on first use, with
        botocore's own retries off (this adapter's :class:`RetryPolicy` applies).
    retry:
        Backoff policy for transient errors.
    statement_timeout_ms:
        If set, each transaction starts with ``SET LOCAL statement_timeout``.
    batch_size:
        Parameter sets per ``BatchExecuteStatement`` call.
    """

    def __init__(
        self,
        *,
        cluster_arn: str,
        secret_arn: str,
        database: str | None = None,
        client: RDSDataServiceClient | object | None = None,
        retry: RetryPolicy | None = None,
        statement_timeout_ms: int | None = None,
        batch_size: int = 200,
        page_target_bytes: int = 512 * 1024,
        read_timeout: float = 50.0,
    ) -> None:
        self.cluster_arn = cluster_arn
        self.secret_arn = secret_arn
        self.database = database
        self.retry = retry or RetryPolicy()
        self.statement_timeout_ms = statement_timeout_ms
        self.batch_size = batch_size
        self.page_target_bytes = page_target_bytes
        self._read_timeout = read_timeout
        self._client = cast("RDSDataServiceClient | None", client)

    # -- plumbing ----------------------------------------------------------------------

    @property
    def client(self) -> RDSDataServiceClient:
        """The ``rds-data`` client, created on first use."""
        if self._client is None:
            import boto3  # noqa: PLC0415 - no client (or boto3 import cost) until needed
            from botocore.config import Config  # noqa: PLC0415

            self._client = boto3.client(
                "rds-data",
                config=Config(
                    connect_timeout=5,
                    read_timeout=self._read_timeout,
                    retries={"total_max_attempts": 1},
                ),
            )
        return self._client

    def _target(self) -> dict[str, str]:
        target = {"resourceArn": self.cluster_arn, "secretArn": self.secret_arn}
        if self.database:
            target["database"] = self.database
        return target

    def _call(self, fn: Callable[[], T], *, idempotent: bool) -> T:
        attempt = 0
        while True:
            try:
                return fn()
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                retryable = code in _NOT_RUN or (idempotent and code in _MAYBE_RUN)
                if not retryable or attempt + 1 >= self.retry.max_attempts:
                    _raise_mapped(exc)
            except ConnectionError as exc:
                # ReadTimeoutError: the call reached the service and may have run.
                retryable = idempotent or not isinstance(exc, ReadTimeoutError)
                if not retryable or attempt + 1 >= self.retry.max_attempts:
                    raise TransientDatabaseError(f"Data API unreachable: {exc}") from exc
            self.retry.sleep(self.retry.delay(attempt))
            attempt += 1

    def _execute(
        self, sql: str, params: Params | None, tx_id: str | None, *, read: bool
    ) -> ExecuteStatementResponseTypeDef:
        parameters = encode_parameters(sql, params)
        request: dict[str, Any] = {
            **self._target(),
            "sql": sql,
            "parameters": parameters,
            "includeResultMetadata": True,
        }
        if tx_id is not None:
            request["transactionId"] = tx_id
        return self._call(
            lambda: self.client.execute_statement(**request),
            idempotent=read and tx_id is None,
        )

    # -- reads with paging -------------------------------------------------------------

    def run_query(
        self, sql: str, params: Params | None, tx_id: str | None, limit: int | None
    ) -> list[Row]:
        """Run a query, outside (``tx_id=None``) or inside a transaction; at most ``limit`` rows.

        This and :meth:`run_statement` / :meth:`run_batch` are what an open transaction
        (:meth:`transaction`) runs its statements through.
        """
        try:
            rows = decode_rows(self._execute(sql, params, tx_id, read=True))
        except _TooLargeError:
            if first_keyword(sql) not in _QUERY_KEYWORDS:
                raise StatementTooLargeError(
                    "the statement's result exceeds the Data API's 1 MiB response limit;"
                    " return fewer columns/rows (only queries are paged automatically)"
                ) from None
            if tx_id is not None:
                return self._fetch_with_cursor(sql, params, tx_id, limit)
            with self.transaction() as tx:
                return self._fetch_with_cursor(sql, params, tx.transaction_id, limit)
        return rows if limit is None else rows[:limit]

    def _fetch_with_cursor(
        self, sql: str, params: Params | None, tx_id: str, limit: int | None
    ) -> list[Row]:
        cursor = f"page_{uuid.uuid4().hex[:16]}"
        query = sql.strip().rstrip(";")
        self._execute(f"DECLARE {cursor} SCROLL CURSOR FOR {query}", params, tx_id, read=False)
        rows: list[Row] = []
        page = 100 if limit is None else min(100, limit)
        try:
            while limit is None or len(rows) < limit:
                if limit is not None:
                    page = min(page, limit - len(rows))
                try:
                    response = self._execute(
                        f"FETCH FORWARD {page} FROM {cursor}", None, tx_id, read=False
                    )
                except _TooLargeError:
                    if page == 1:
                        raise StatementTooLargeError(
                            "a single row exceeds the Data API's 1 MiB response limit"
                        ) from None
                    page = max(1, page // 4)
                    self._execute(f"MOVE ABSOLUTE {len(rows)} IN {cursor}", None, tx_id, read=False)
                    continue
                batch = decode_rows(response)
                rows.extend(batch)
                if len(batch) < page:
                    break
                page = self._next_page_size(response, len(batch))
        finally:
            self._execute(f"CLOSE {cursor}", None, tx_id, read=False)
        return rows

    def _next_page_size(self, response: ExecuteStatementResponseTypeDef, count: int) -> int:
        size = len(json.dumps(response.get("records", []), default=str))
        per_row = max(1.0, size / max(count, 1))
        return max(1, min(10_000, int(self.page_target_bytes / per_row)))

    # -- the port ----------------------------------------------------------------------

    def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        """Run a query and return every row (paged through a cursor past 1 MiB)."""
        return self.run_query(sql, params, None, None)

    def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        """Run a query and return the first row, or ``None``."""
        rows = self.run_query(sql, params, None, 1)
        return rows[0] if rows else None

    def execute(self, sql: str, params: Params | None = None) -> int:
        """Run a statement (auto-committed) and return the rows it changed."""
        return _updated(self.run_statement(sql, params, None))

    def run_statement(
        self, sql: str, params: Params | None, tx_id: str | None
    ) -> ExecuteStatementResponseTypeDef:
        """Run a data-changing statement, outside or inside a transaction."""
        try:
            return self._execute(sql, params, tx_id, read=False)
        except _TooLargeError:
            raise StatementTooLargeError(
                "the statement's result exceeds the Data API's 1 MiB response limit"
                " (the statement ran; outside a transaction its effect is committed)"
            ) from None

    def execute_batch(self, sql: str, param_sets: Sequence[Params]) -> None:
        """Run one statement per parameter set, all-or-nothing (in chunks of ``batch_size``)."""
        if not param_sets:
            return
        with self.transaction() as tx:
            tx.execute_batch(sql, param_sets)

    def run_batch(self, sql: str, param_sets: Sequence[Params], tx_id: str) -> None:
        """Run one statement per parameter set in transaction ``tx_id`` (chunked)."""
        encoded = [encode_parameters(sql, params) for params in param_sets]
        for start in range(0, len(encoded), self.batch_size):
            chunk = encoded[start : start + self.batch_size]
            request: dict[str, Any] = {
                **self._target(),
                "sql": sql,
                "parameterSets": chunk,
                "transactionId": tx_id,
            }
            self._call(partial(self.client.batch_execute_statement, **request), idempotent=False)

    @contextmanager
    def transaction(self) -> Iterator[_DataApiTransaction]:
        """Begin a Data API transaction; commit on exit, roll back on any exception."""
        begin = self._call(lambda: self.client.begin_transaction(**self._target()), idempotent=True)
        tx = _DataApiTransaction(self, begin["transactionId"])
        try:
            if self.statement_timeout_ms is not None:
                tx.execute(f"SET LOCAL statement_timeout = {int(self.statement_timeout_ms)}")
            yield tx
        except BaseException:
            tx.finished = True
            self._end(tx.transaction_id, commit=False)
            raise
        tx.finished = True
        self._end(tx.transaction_id, commit=True)

    def _end(self, tx_id: str, *, commit: bool) -> None:
        request = {
            "resourceArn": self.cluster_arn,
            "secretArn": self.secret_arn,
            "transactionId": tx_id,
        }
        if commit:
            self._call(lambda: self.client.commit_transaction(**request), idempotent=False)
            return
        # The transaction is gone either way; the caller's original error matters.
        with suppress(TransactionExpired, TransientDatabaseError):
            self._call(lambda: self.client.rollback_transaction(**request), idempotent=False)

    def close(self) -> None:
        """Drop the client reference (boto3 clients hold no connections worth closing)."""
        self._client = None


def _updated(response: ExecuteStatementResponseTypeDef) -> int:
    return int(response.get("numberOfRecordsUpdated", 0))


class _DataApiTransaction:
    """An open Data API transaction: every call carries its ``transactionId``."""

    def __init__(self, db: DataApiDatabase, transaction_id: str) -> None:
        self._db = db
        self.transaction_id = transaction_id
        self.finished = False

    def _live(self) -> str:
        if self.finished:
            raise DatabaseError("transaction is finished; it cannot run more statements")
        return self.transaction_id

    def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        return self._db.run_query(sql, params, self._live(), None)

    def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        rows = self._db.run_query(sql, params, self._live(), 1)
        return rows[0] if rows else None

    def execute(self, sql: str, params: Params | None = None) -> int:
        return _updated(self._db.run_statement(sql, params, self._live()))

    def execute_batch(self, sql: str, param_sets: Sequence[Params]) -> None:
        if param_sets:
            self._db.run_batch(sql, param_sets, self._live())
