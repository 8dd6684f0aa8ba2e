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
  ``resourceArn``/``secretArn``; each ``secretArn`` resolves to the database user
  the call runs as (a fixed table, or Secrets Manager as in AWS).

SQL errors come back as ``DatabaseErrorException`` with PostgreSQL's message
(``ERROR: duplicate key value violates unique constraint "..."``), as Aurora's do.
Test hook: :meth:`LocalDataApi.inject_error` makes the next calls fail with a
chosen error code, e.g. ``DatabaseResumingException`` as after an auto-pause.

Layout (as moto's services): :mod:`.models` is the backend without HTTP,
:mod:`.responses` the wire layer, :mod:`.exceptions` the error shapes; this module
only runs the HTTP server and the transaction reaper.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from http.server import ThreadingHTTPServer
from types import TracebackType

import psycopg

from devtools.local_data_api.exceptions import STATUS
from devtools.local_data_api.models import (
    CredentialsResolver,
    DataApiBackend,
    DatabaseCredentials,
    static_credentials,
)
from devtools.local_data_api.responses import DataApiRequestHandler

MIB = 1024 * 1024


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
    credentials:
        ``{secretArn: DatabaseCredentials}``: who each secret logs in as; other
        secrets are refused. Without it (and without ``resolve_credentials``) every
        call runs as the URL's user.
    resolve_credentials:
        A resolver instead of the table, e.g.
        :func:`~devtools.local_data_api.models.secrets_manager_credentials`.

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
        credentials: Mapping[str, DatabaseCredentials] | None = None,
        resolve_credentials: CredentialsResolver | None = None,
    ) -> None:
        if credentials is not None and resolve_credentials is not None:
            raise ValueError("give credentials or resolve_credentials, not both")
        default_db = psycopg.conninfo.conninfo_to_dict(postgres_url).get("dbname") or "postgres"
        resolver = resolve_credentials
        if credentials is not None:
            resolver = static_credentials(credentials)
        self.backend = DataApiBackend(
            postgres_url,
            default_database=str(default_db),
            transaction_idle_timeout=transaction_idle_timeout,
            transaction_max_lifetime=transaction_max_lifetime,
            statement_timeout=statement_timeout,
            max_response_bytes=max_response_bytes,
            secret_arns=frozenset(secret_arns) if secret_arns is not None else None,
            resolve_credentials=resolver,
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
        handler = type("Handler", (DataApiRequestHandler,), {"backend": self.backend})
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
        if code not in STATUS:
            raise ValueError(f"unknown error code {code!r}; one of {sorted(STATUS)}")
        self.backend.inject(code, count, message)

    def inject_error_rate(self, code: str | None, *, rate: float = 0.0, seed: int = 0) -> None:
        """Test hook: a share ``rate`` of the following calls fail with ``code`` (before any
        SQL runs), drawn from a seeded generator; ``None`` stops it."""
        if code is not None and code not in STATUS:
            raise ValueError(f"unknown error code {code!r}; one of {sorted(STATUS)}")
        self.backend.inject_rate(code, rate, seed)

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
