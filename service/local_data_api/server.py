"""A local HTTP server speaking the RDS Data API wire protocol, backed by PostgreSQL.

Point boto3's real ``rds-data`` client at it (``endpoint_url=``, dummy
credentials) and the Data API adapter runs unchanged. The server enforces the
limits that make code fail in AWS, so it fails here first:

* responses over 1 MiB are refused (``BadRequestException`` "Database returned
  more than the allowed response size limit"); the size is measured on the JSON
  records, an upper bound of what Aurora measures;
* a transaction with no call for ``transaction_idle_timeout`` seconds (AWS: 3
  minutes), or older than ``transaction_max_lifetime`` (AWS: 24 hours), is
  rolled back and its id becomes unknown (``TransactionNotFoundException``);
* each statement is cancelled after ``statement_timeout`` seconds (AWS: 45 s for
  synchronous calls) with ``StatementTimeoutException``;
* one SQL statement per call, ``:name`` parameters only, ARN-shaped
  ``resourceArn``/``secretArn`` (optionally only a given set of secrets).

SQL errors come back as ``DatabaseErrorException`` with PostgreSQL's message
(``ERROR: duplicate key value violates unique constraint "..."``), as Aurora's do.
Test hook: :meth:`LocalDataApi.inject_error` makes the next calls fail with a
chosen error code, e.g. ``DatabaseResumingException`` as after an auto-pause.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.types.numeric import Int8Dumper
from psycopg.types.string import StrDumper

from service.db.embedded import with_database
from service.db.postgres import affected_rows
from service.db.sql import split_statements
from service.local_data_api.codec import (
    RequestError,
    bind_parameters,
    column_metadata,
    encode_field,
    json_record_value,
    register_text_loaders,
)

MIB = 1024 * 1024
RESPONSE_TOO_LARGE = "Database returned more than the allowed response size limit"
_CLUSTER_ARN = re.compile(r"^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:cluster:[A-Za-z0-9-]+$")
_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^\s]+$")

# HTTP status of each error code (from botocore's rds-data service model).
_STATUS = {
    "BadRequestException": 400,
    "DatabaseErrorException": 400,
    "StatementTimeoutException": 400,
    "DatabaseResumingException": 400,
    "ForbiddenException": 403,
    "NotFoundException": 404,
    "TransactionNotFoundException": 404,
    "InternalServerErrorException": 500,
    "ServiceUnavailableError": 503,
    "DatabaseUnavailableException": 504,
    "ThrottlingException": 400,
}
_DEFAULT_MESSAGES = {
    "DatabaseResumingException": "The database is resuming after being auto-paused. "
    "Please wait a few seconds and try again.",
    "ThrottlingException": "Rate exceeded",
}


class ApiError(Exception):
    """An error response: code (``x-amzn-ErrorType``) and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


Connection = psycopg.Connection[Any]


@dataclass
class _Transaction:
    id: str
    database: str
    conn: Connection
    created: float
    last_used: float
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Backend:
    """Connections per database, open transactions, limits and error injection."""

    def __init__(
        self,
        postgres_url: str,
        *,
        default_database: str,
        transaction_idle_timeout: float,
        transaction_max_lifetime: float,
        statement_timeout: float,
        max_response_bytes: int,
        secret_arns: frozenset[str] | None,
    ) -> None:
        self.postgres_url = postgres_url
        self.default_database = default_database
        self.transaction_idle_timeout = transaction_idle_timeout
        self.transaction_max_lifetime = transaction_max_lifetime
        self.statement_timeout = statement_timeout
        self.max_response_bytes = max_response_bytes
        self.secret_arns = secret_arns
        self._idle: dict[str, list[Connection]] = {}
        self._transactions: dict[str, _Transaction] = {}
        self._injected: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._type_names: dict[int, str] = {}

    # -- connections -------------------------------------------------------------------

    def _connect(self, database: str) -> Connection:
        try:
            conn = psycopg.connect(with_database(self.postgres_url, database), autocommit=True)
        except psycopg.OperationalError as exc:
            if f'database "{database}" does not exist' in str(exc):
                raise ApiError(
                    "DatabaseErrorException", f"Database {database} does not exist"
                ) from exc
            raise ApiError("DatabaseUnavailableException", "Database is unavailable") from exc
        conn.adapters.register_dumper(str, StrDumper)
        conn.adapters.register_dumper(int, Int8Dumper)
        register_text_loaders(conn.adapters)
        conn.execute("SET TIME ZONE 'UTC'")
        conn.execute(f"SET statement_timeout = {int(self.statement_timeout * 1000)}")
        return conn

    def acquire(self, database: str) -> Connection:
        with self._lock:
            idle = self._idle.get(database, [])
            while idle:
                conn = idle.pop()
                if not conn.closed and not conn.broken:
                    return conn
        return self._connect(database)

    def release(self, database: str, conn: Connection) -> None:
        ok = (
            not conn.closed
            and not conn.broken
            and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        )
        with self._lock:
            idle = self._idle.setdefault(database, [])
            if ok and len(idle) < 4:
                idle.append(conn)
                return
        conn.close()

    def release_database(self, database: str) -> None:
        """Close idle connections to ``database`` (e.g. before it is dropped)."""
        with self._lock:
            idle = self._idle.pop(database, [])
        for conn in idle:
            conn.close()

    def close(self) -> None:
        with self._lock:
            transactions = list(self._transactions.values())
            self._transactions.clear()
            pools = list(self._idle.values())
            self._idle.clear()
        for tx in transactions:
            tx.conn.close()
        for pool in pools:
            for conn in pool:
                conn.close()

    # -- transactions ------------------------------------------------------------------

    def begin(self, database: str) -> str:
        conn = self.acquire(database)
        conn.execute("BEGIN")
        now = time.monotonic()
        tx_id = base64.b64encode(secrets.token_bytes(48)).decode("ascii")
        with self._lock:
            self._transactions[tx_id] = _Transaction(tx_id, database, conn, now, now)
        return tx_id

    def _expired(self, tx: _Transaction, now: float) -> bool:
        return (
            now - tx.last_used > self.transaction_idle_timeout
            or now - tx.created > self.transaction_max_lifetime
        )

    @contextmanager
    def use_transaction(self, tx_id: str, database: str) -> Iterator[_Transaction]:
        with self._lock:
            tx = self._transactions.get(tx_id)
        if tx is None:
            raise ApiError("TransactionNotFoundException", f"Transaction {tx_id} is not found")
        with tx.lock:
            if self._expired(tx, time.monotonic()):
                self._discard(tx)
                raise ApiError("TransactionNotFoundException", f"Transaction {tx_id} is not found")
            if tx.database != database:
                raise ApiError("BadRequestException", "Transaction belongs to a different database")
            try:
                yield tx
            finally:
                tx.last_used = time.monotonic()

    def _discard(self, tx: _Transaction) -> None:
        with self._lock:
            self._transactions.pop(tx.id, None)
        with suppress(psycopg.Error):
            tx.conn.rollback()
        tx.conn.close()

    def end(self, tx_id: str, database: str, *, commit: bool) -> None:
        with self.use_transaction(tx_id, database) as tx:
            with self._lock:
                self._transactions.pop(tx_id, None)
            try:
                tx.conn.execute("COMMIT" if commit else "ROLLBACK")
            except psycopg.Error as exc:
                tx.conn.close()
                raise database_error(exc) from exc
            self.release(tx.database, tx.conn)

    def reap_expired(self) -> None:
        """Roll back transactions past their idle timeout or lifetime (releases their locks)."""
        now = time.monotonic()
        with self._lock:
            candidates = list(self._transactions.values())
        for tx in candidates:
            if tx.lock.acquire(blocking=False):
                try:
                    if self._expired(tx, now):
                        self._discard(tx)
                finally:
                    tx.lock.release()

    # -- errors injected by tests ------------------------------------------------------

    def inject(self, code: str, count: int, message: str | None) -> None:
        with self._lock:
            self._injected.extend([(code, message or _DEFAULT_MESSAGES.get(code, code))] * count)

    def take_injected(self) -> ApiError | None:
        with self._lock:
            if not self._injected:
                return None
            code, message = self._injected.pop(0)
        return ApiError(code, message)

    # -- results -----------------------------------------------------------------------

    def type_name(self, conn: Connection, oid: int) -> str:
        known = self._type_names.get(oid)
        if known is not None:
            return known
        info = conn.adapters.types.get(oid)
        if info is not None:
            name = info.name
        else:
            row = conn.execute("SELECT typname FROM pg_type WHERE oid = %s", [oid]).fetchone()
            name = str(row[0]) if row else "unknown"
        self._type_names[oid] = name
        return name


def database_error(exc: psycopg.Error) -> ApiError:
    """The Data API error for a PostgreSQL error, with Aurora's message layout."""
    if isinstance(exc, pg_errors.QueryCanceled):
        return ApiError("StatementTimeoutException", "The statement timed out")
    diag = exc.diag
    message = f"ERROR: {diag.message_primary or exc}"
    if diag.message_detail:
        message += f"\n  Detail: {diag.message_detail}"
    return ApiError("DatabaseErrorException", message)


class LocalDataApi:
    """A local RDS Data API endpoint on ``127.0.0.1`` backed by ``postgres_url``'s server.

    Parameters
    ----------
    postgres_url:
        A libpq URL; the request's ``database`` selects the database on that
        server, and the URL's own database is the default.
    port:
        TCP port; ``0`` picks a free one.
    transaction_idle_timeout, transaction_max_lifetime, statement_timeout:
        Limits in seconds (AWS: 180, 86400, 45).
    max_response_bytes:
        Response size limit (AWS: 1 MiB).
    secret_arns:
        If given, only these secret ARNs are accepted.

    Examples
    --------
    >>> with LocalDataApi(postgres_url=url) as endpoint_url:  # doctest: +SKIP
    ...     client = boto3.client("rds-data", endpoint_url=endpoint_url, ...)
    """

    def __init__(
        self,
        *,
        postgres_url: str,
        host: str = "127.0.0.1",
        port: int = 0,
        transaction_idle_timeout: float = 180.0,
        transaction_max_lifetime: float = 86_400.0,
        statement_timeout: float = 45.0,
        max_response_bytes: int = MIB,
        secret_arns: Sequence[str] | None = None,
    ) -> None:
        default_db = psycopg.conninfo.conninfo_to_dict(postgres_url).get("dbname") or "postgres"
        self.backend = _Backend(
            postgres_url,
            default_database=str(default_db),
            transaction_idle_timeout=transaction_idle_timeout,
            transaction_max_lifetime=transaction_max_lifetime,
            statement_timeout=statement_timeout,
            max_response_bytes=max_response_bytes,
            secret_arns=frozenset(secret_arns) if secret_arns is not None else None,
        )
        self._address = (host, port)
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    @property
    def endpoint_url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._server is None:
            raise RuntimeError("LocalDataApi is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> str:
        """Start serving in background threads and return the endpoint URL."""
        handler = type("Handler", (_Handler,), {"backend": self.backend})
        self._server = ThreadingHTTPServer(self._address, handler)
        self._server.daemon_threads = True
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=self._server.serve_forever, name="local-data-api", daemon=True),
            threading.Thread(target=self._reap, name="local-data-api-reaper", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self.endpoint_url

    def _reap(self) -> None:
        interval = max(0.05, min(1.0, self.backend.transaction_idle_timeout / 4))
        while not self._stopping.wait(interval):
            self.backend.reap_expired()

    def stop(self) -> None:
        """Stop serving, roll back open transactions and close every connection."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for thread in self._threads:
            thread.join(timeout=5)
        self.backend.close()

    def inject_error(self, code: str, *, count: int = 1, message: str | None = None) -> None:
        """Test hook: the next ``count`` calls fail with error ``code`` (before any SQL runs)."""
        if code not in _STATUS:
            raise ValueError(f"unknown error code {code!r}; one of {sorted(_STATUS)}")
        self.backend.inject(code, count, message)

    def release_database(self, database: str) -> None:
        """Close pooled connections to ``database`` (call before dropping it)."""
        self.backend.release_database(database)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    backend: _Backend
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, keep-alive clients
    # wait ~40 ms for the delayed ACK on every call.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request access log."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        routes: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
            "/Execute": self._execute,
            "/BatchExecute": self._batch_execute,
            "/BeginTransaction": self._begin,
            "/CommitTransaction": self._commit,
            "/RollbackTransaction": self._rollback,
        }
        route = routes.get(self.path.split("?", 1)[0])
        try:
            if route is None:
                raise ApiError("BadRequestException", f"Unsupported operation {self.path}")
            try:
                body = json.loads(raw or b"{}")
            except ValueError as exc:
                raise ApiError("BadRequestException", "Request body is not JSON") from exc
            self._check_identity(body)
            injected = self.backend.take_injected()
            if injected is not None:
                raise injected
            self._send(200, route(body))
        except ApiError as err:
            self._send(_STATUS.get(err.code, 400), {"message": err.message}, error_code=err.code)
        except RequestError as err:
            self._send(400, {"message": str(err)}, error_code="BadRequestException")
        except Exception as exc:  # any bug must still answer the client
            self._send(
                500,
                {"message": f"internal error: {type(exc).__name__}"},
                error_code="InternalServerErrorException",
            )

    def _send(self, status: int, body: Mapping[str, Any], *, error_code: str | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if error_code is not None:
            self.send_header("x-amzn-ErrorType", error_code)
        self.end_headers()
        self.wfile.write(payload)

    def _check_identity(self, body: Mapping[str, Any]) -> None:
        resource = body.get("resourceArn")
        secret = body.get("secretArn")
        if not isinstance(resource, str) or not _CLUSTER_ARN.match(resource):
            raise ApiError("BadRequestException", "Invalid resourceArn: not an Aurora cluster ARN")
        if not isinstance(secret, str) or not _SECRET_ARN.match(secret):
            raise ApiError("BadRequestException", "Invalid secretArn: not a Secrets Manager ARN")
        allowed = self.backend.secret_arns
        if allowed is not None and secret not in allowed:
            raise ApiError("ForbiddenException", "The secret is not accessible")

    def _database(self, body: Mapping[str, Any]) -> str:
        database = body.get("database") or self.backend.default_database
        return str(database)

    # -- operations --------------------------------------------------------------------

    def _begin(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return {"transactionId": self.backend.begin(self._database(body))}

    def _commit(self, body: Mapping[str, Any]) -> dict[str, Any]:
        self.backend.end(str(body.get("transactionId")), self._database_of(body), commit=True)
        return {"transactionStatus": "Transaction Committed"}

    def _rollback(self, body: Mapping[str, Any]) -> dict[str, Any]:
        self.backend.end(str(body.get("transactionId")), self._database_of(body), commit=False)
        return {"transactionStatus": "Rollback Complete"}

    def _database_of(self, body: Mapping[str, Any]) -> str:
        # Commit/Rollback carry no database: the transaction's own applies.
        tx_id = str(body.get("transactionId"))
        with self.backend._lock:
            tx = self.backend._transactions.get(tx_id)
        return tx.database if tx is not None else self.backend.default_database

    @contextmanager
    def _connection(self, body: Mapping[str, Any], *, atomic: bool) -> Iterator[Connection]:
        database = self._database(body)
        tx_id = body.get("transactionId")
        if tx_id:
            with self.backend.use_transaction(str(tx_id), database) as tx:
                yield tx.conn
            return
        conn = self.backend.acquire(database)
        try:
            if atomic:
                with conn.transaction():
                    yield conn
            else:
                yield conn
        finally:
            self.backend.release(database, conn)

    def _execute(self, body: Mapping[str, Any]) -> dict[str, Any]:
        sql = _sql(body)
        if len(split_statements(sql)) > 1:
            raise ApiError("BadRequestException", "Multistatement is not supported")
        query, values = bind_parameters(sql, body.get("parameters") or [])
        with self._connection(body, atomic=False) as conn:
            try:
                with conn.cursor() as cur:
                    cur.execute(query, values)
                    response = self._result(conn, cur, body)
            except psycopg.Error as exc:
                raise database_error(exc) from exc
        size = len(json.dumps(response.get("records") or response.get("formattedRecords") or []))
        if size > self.backend.max_response_bytes:
            raise ApiError("BadRequestException", RESPONSE_TOO_LARGE)
        return response

    def _result(
        self, conn: Connection, cur: psycopg.Cursor[Any], body: Mapping[str, Any]
    ) -> dict[str, Any]:
        response: dict[str, Any] = {
            "numberOfRecordsUpdated": affected_rows(cur),
            "generatedFields": [],
        }
        if cur.description is None:
            return response
        columns = [
            (col.name, self.backend.type_name(conn, col.type_code)) for col in cur.description
        ]
        rows = cur.fetchall()
        if body.get("formatRecordsAs") == "JSON":
            records = [
                {
                    name: json_record_value(tn, value)
                    for (name, tn), value in zip(columns, row, strict=True)
                }
                for row in rows
            ]
            response["formattedRecords"] = json.dumps(records)
        else:
            response["records"] = [
                [encode_field(tn, value) for (_, tn), value in zip(columns, row, strict=True)]
                for row in rows
            ]
        if body.get("includeResultMetadata"):
            response["columnMetadata"] = [column_metadata(name, tn) for name, tn in columns]
        return response

    def _batch_execute(self, body: Mapping[str, Any]) -> dict[str, Any]:
        sql = _sql(body)
        sets = body.get("parameterSets") or [[]]
        bound = [bind_parameters(sql, params) for params in sets]
        with self._connection(body, atomic=True) as conn:
            try:
                with conn.cursor() as cur:
                    for query, values in bound:
                        cur.execute(query, values)
            except psycopg.Error as exc:
                raise database_error(exc) from exc
        return {"updateResults": [{"generatedFields": []} for _ in bound]}


def _sql(body: Mapping[str, Any]) -> str:
    sql = body.get("sql")
    if not isinstance(sql, str) or not sql.strip():
        raise ApiError("BadRequestException", "sql is required")
    return sql
