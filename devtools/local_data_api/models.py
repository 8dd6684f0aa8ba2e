"""The local Data API's backend: state and behaviour, no HTTP.

It holds a connection pool per (database, database user), the registry of open
transactions with the Data API's idle timeout and lifetime, the error-injection queue
and a cache of type names. Like the real service it resolves each call's
``secretArn`` to database credentials, so a call made with the app role's secret runs
as the app role and one made with the owner's secret as the owner.
"""

from __future__ import annotations

import base64
import json
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.numeric import Int8Dumper
from psycopg.types.string import StrDumper

from devtools.embedded import with_database
from devtools.local_data_api.codec import register_text_loaders
from devtools.local_data_api.exceptions import (
    DEFAULT_MESSAGES,
    DataApiError,
    bad_request,
    database_error,
    transaction_not_found,
)
from service.db.postgres import affected_rows

Connection = psycopg.Connection[Any]


@dataclass(frozen=True, slots=True)
class DatabaseCredentials:
    """What a Data API secret holds: the database user and its password."""

    username: str
    password: str | None = None

    def __repr__(self) -> str:
        return f"DatabaseCredentials(username={self.username!r}, password=***)"


CredentialsResolver = Callable[[str], DatabaseCredentials | None]
"""Maps a ``secretArn`` to credentials; ``None`` means the secret is not accessible."""


def static_credentials(by_secret_arn: Mapping[str, DatabaseCredentials]) -> CredentialsResolver:
    """A resolver over a fixed ``{secretArn: credentials}`` table."""
    table = dict(by_secret_arn)
    return table.get


def secrets_manager_credentials(secrets_client: Any) -> CredentialsResolver:
    """A resolver reading the secret's ``AWSCURRENT`` JSON, as the Data API does.

    ``secrets_client`` is a boto3 Secrets Manager client (moto in tests).
    """

    def resolve(secret_arn: str) -> DatabaseCredentials | None:
        try:
            value = secrets_client.get_secret_value(
                SecretId=secret_arn, VersionStage="AWSCURRENT"
            )["SecretString"]
            data = json.loads(value)
            return DatabaseCredentials(str(data["username"]), str(data["password"]))
        except Exception:  # any unreadable secret is a refusal, as in AWS
            return None

    return resolve


@dataclass(frozen=True, slots=True)
class StatementResult:
    """What one statement returned: affected rows, and columns/rows for a query."""

    updated: int
    columns: tuple[tuple[str, str], ...] | None = None
    rows: tuple[tuple[Any, ...], ...] = ()


@dataclass
class _Transaction:
    id: str
    database: str
    username: str | None
    conn: Connection
    created: float
    last_used: float
    lock: threading.Lock = field(default_factory=threading.Lock)


_PoolKey = tuple[str, str | None]


class DataApiBackend:
    """Connections, open transactions, limits and error injection of one local endpoint.

    Parameters
    ----------
    postgres_url:
        A libpq URL of the server; its user is used when no resolver is configured.
    resolve_credentials:
        ``secretArn`` to credentials; ``None`` connects every call as the URL's user.
    secret_arns:
        If given, only these secret ARNs are accepted.
    """

    def __init__(
        self,
        postgres_url: str,
        *,
        default_database: str,
        transaction_idle_timeout: float,
        transaction_max_lifetime: float,
        statement_timeout: float,
        max_response_bytes: int,
        secret_arns: frozenset[str] | None = None,
        resolve_credentials: CredentialsResolver | None = None,
    ) -> None:
        self.postgres_url = postgres_url
        self.default_database = default_database
        self.transaction_idle_timeout = transaction_idle_timeout
        self.transaction_max_lifetime = transaction_max_lifetime
        self.statement_timeout = statement_timeout
        self.max_response_bytes = max_response_bytes
        self._secret_arns = secret_arns
        self._resolve = resolve_credentials
        self._idle: dict[_PoolKey, list[Connection]] = {}
        self._transactions: dict[str, _Transaction] = {}
        self._injected: list[tuple[str, str]] = []
        self._injected_rate: tuple[str, float, random.Random] | None = None
        self._lock = threading.Lock()
        self._type_names: dict[int, str] = {}

    # -- identity ----------------------------------------------------------------------

    def credentials_for(self, secret_arn: str) -> DatabaseCredentials | None:
        """The credentials a call with ``secret_arn`` runs as (``None``: the URL's user).

        Raises
        ------
        DataApiError
            ``ForbiddenException`` when the secret is not accepted or not readable.
        """
        if self._secret_arns is not None and secret_arn not in self._secret_arns:
            raise DataApiError("ForbiddenException", "The secret is not accessible")
        if self._resolve is None:
            return None
        credentials = self._resolve(secret_arn)
        if credentials is None:
            raise DataApiError("ForbiddenException", "The secret is not accessible")
        return credentials

    # -- connections -------------------------------------------------------------------

    def _connect(self, database: str, credentials: DatabaseCredentials | None) -> Connection:
        login: dict[str, str] = {}
        if credentials is not None:
            login["user"] = credentials.username
            if credentials.password is not None:
                login["password"] = credentials.password
        conninfo = psycopg.conninfo.make_conninfo(
            with_database(self.postgres_url, database), **login
        )
        try:
            conn = psycopg.connect(conninfo, autocommit=True)
        except psycopg.OperationalError as exc:
            if f'database "{database}" does not exist' in str(exc):
                raise DataApiError(
                    "DatabaseErrorException", f"Database {database} does not exist"
                ) from exc
            if "authentication failed" in str(exc) or "does not exist" in str(exc):
                raise DataApiError(
                    "BadRequestException", "FATAL: password authentication failed"
                ) from exc
            raise DataApiError("DatabaseUnavailableException", "Database is unavailable") from exc
        conn.adapters.register_dumper(str, StrDumper)
        conn.adapters.register_dumper(int, Int8Dumper)
        register_text_loaders(conn.adapters)
        conn.execute("SET TIME ZONE 'UTC'")
        conn.execute(f"SET statement_timeout = {int(self.statement_timeout * 1000)}")
        return conn

    def _acquire(self, database: str, credentials: DatabaseCredentials | None) -> Connection:
        key = (database, None if credentials is None else credentials.username)
        with self._lock:
            idle = self._idle.get(key, [])
            while idle:
                conn = idle.pop()
                if not conn.closed and not conn.broken:
                    return conn
        return self._connect(database, credentials)

    def _release(self, key: _PoolKey, conn: Connection) -> None:
        ok = (
            not conn.closed
            and not conn.broken
            and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        )
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if ok and len(idle) < 4:
                idle.append(conn)
                return
        conn.close()

    def release_database(self, database: str) -> None:
        """Close idle connections to ``database`` (e.g. before it is dropped)."""
        with self._lock:
            keys = [key for key in self._idle if key[0] == database]
            pools = [self._idle.pop(key) for key in keys]
        for pool in pools:
            for conn in pool:
                conn.close()

    def close(self) -> None:
        """Roll back open transactions and close every connection."""
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

    def begin(self, database: str, credentials: DatabaseCredentials | None) -> str:
        """Open a transaction and return its id."""
        conn = self._acquire(database, credentials)
        conn.execute("BEGIN")
        now = time.monotonic()
        tx_id = base64.b64encode(secrets.token_bytes(48)).decode("ascii")
        username = None if credentials is None else credentials.username
        with self._lock:
            self._transactions[tx_id] = _Transaction(tx_id, database, username, conn, now, now)
        return tx_id

    def transaction_database(self, tx_id: str) -> str:
        """The database a transaction runs in (Commit/Rollback calls carry none)."""
        with self._lock:
            tx = self._transactions.get(tx_id)
        return tx.database if tx is not None else self.default_database

    def _expired(self, tx: _Transaction, now: float) -> bool:
        return (
            now - tx.last_used > self.transaction_idle_timeout
            or now - tx.created > self.transaction_max_lifetime
        )

    @contextmanager
    def _use_transaction(
        self, tx_id: str, database: str, credentials: DatabaseCredentials | None
    ) -> Iterator[_Transaction]:
        with self._lock:
            tx = self._transactions.get(tx_id)
        if tx is None:
            raise transaction_not_found(tx_id)
        with tx.lock:
            if self._expired(tx, time.monotonic()):
                self._discard(tx)
                raise transaction_not_found(tx_id)
            if tx.database != database:
                raise bad_request("Transaction belongs to a different database")
            if tx.username != (None if credentials is None else credentials.username):
                raise bad_request("Transaction belongs to a different secret")
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

    def end(
        self, tx_id: str, database: str, credentials: DatabaseCredentials | None, *, commit: bool
    ) -> None:
        """Commit or roll back a transaction; its id becomes unknown."""
        with self._use_transaction(tx_id, database, credentials) as tx:
            with self._lock:
                self._transactions.pop(tx_id, None)
            try:
                tx.conn.execute("COMMIT" if commit else "ROLLBACK")
            except psycopg.Error as exc:
                tx.conn.close()
                raise database_error(exc) from exc
            self._release((tx.database, tx.username), tx.conn)

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

    # -- statements --------------------------------------------------------------------

    @contextmanager
    def _connection(
        self,
        database: str,
        credentials: DatabaseCredentials | None,
        tx_id: str | None,
        *,
        atomic: bool,
    ) -> Iterator[Connection]:
        if tx_id:
            with self._use_transaction(tx_id, database, credentials) as tx:
                yield tx.conn
            return
        conn = self._acquire(database, credentials)
        key = (database, None if credentials is None else credentials.username)
        try:
            if atomic:
                with conn.transaction():
                    yield conn
            else:
                yield conn
        finally:
            self._release(key, conn)

    def execute(
        self,
        database: str,
        credentials: DatabaseCredentials | None,
        tx_id: str | None,
        query: str,
        values: Mapping[str, object] | None,
    ) -> StatementResult:
        """Run one statement (in ``tx_id`` when given, else auto-committed)."""
        with self._connection(database, credentials, tx_id, atomic=False) as conn:
            try:
                with conn.cursor() as cur:
                    cur.execute(query, values)
                    updated = affected_rows(cur)
                    if cur.description is None:
                        return StatementResult(updated)
                    columns = tuple(
                        (col.name, self._type_name(conn, col.type_code))
                        for col in cur.description
                    )
                    return StatementResult(updated, columns, tuple(cur.fetchall()))
            except psycopg.Error as exc:
                raise database_error(exc) from exc

    def batch_execute(
        self,
        database: str,
        credentials: DatabaseCredentials | None,
        tx_id: str | None,
        bound: Sequence[tuple[str, Mapping[str, object] | None]],
    ) -> int:
        """Run one statement per parameter set, all or nothing; return how many ran."""
        with self._connection(database, credentials, tx_id, atomic=True) as conn:
            try:
                with conn.cursor() as cur:
                    for query, values in bound:
                        cur.execute(query, values)
            except psycopg.Error as exc:
                raise database_error(exc) from exc
        return len(bound)

    def _type_name(self, conn: Connection, oid: int) -> str:
        with self._lock:
            known = self._type_names.get(oid)
        if known is not None:
            return known
        info = conn.adapters.types.get(oid)
        if info is not None:
            name = info.name
        else:
            row = conn.execute("SELECT typname FROM pg_type WHERE oid = %s", [oid]).fetchone()
            name = str(row[0]) if row else "unknown"
        with self._lock:
            self._type_names[oid] = name
        return name

    # -- errors injected by tests ------------------------------------------------------

    def inject(self, code: str, count: int, message: str | None) -> None:
        """The next ``count`` calls fail with ``code`` before any SQL runs."""
        with self._lock:
            self._injected.extend([(code, message or DEFAULT_MESSAGES.get(code, code))] * count)

    def inject_rate(self, code: str | None, rate: float, seed: int) -> None:
        """From now on a share ``rate`` of calls fail with ``code`` (``None``: stop)."""
        with self._lock:
            self._injected_rate = (
                None if code is None else (code, rate, random.Random(seed))  # noqa: S311
            )

    def take_injected(self) -> DataApiError | None:
        """The next injected error, if any (consumed), else one drawn at the injected rate."""
        with self._lock:
            if self._injected:
                code, message = self._injected.pop(0)
                return DataApiError(code, message)
            if self._injected_rate is not None:
                code, rate, rng = self._injected_rate
                if rng.random() < rate:
                    return DataApiError(code, DEFAULT_MESSAGES.get(code, code))
        return None
