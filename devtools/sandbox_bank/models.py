"""The sandbox bank's backend: state and behaviour, no HTTP (the moto ``models.py`` shape).

Tests and fault injection talk to :class:`SandboxBank` directly (authorise a connection, move
the clock, switch a quirk on); :mod:`devtools.sandbox_bank.responses` only translates wire
requests into these calls and their results into Data API v3 shapes.

Quirks, per connection (``connection.quirks``) or for every call (``bank.switches``):

* ``pending_books_later`` — the household's last days are served as pending under ``pnd_`` ids
  dated a day early; once the clock moves on they are served booked under their own ids.
* ``changed_id_every`` — every n-th booked transaction gets a new id on each new request.
* ``consent_expired`` — the connection answers 400 Invalid State (also after 90 days).
* ``rate_limit_next`` / ``retry_after`` — the next n calls answer 429 with ``Retry-After``.
* ``unattended_daily_limit`` — data calls without ``Tl-User-IP`` per account per day (4 at
  UK banks); past it, 429 until midnight.
* ``error_burst`` / ``error_rate`` — the next n calls, or that share of calls, answer 5xx.
* ``slow_seconds`` — answers are delayed (to exercise the adapter's read timeout).
* ``polls_before_ready`` — a transactions request stays pending for that many reads.
* ``malformed_items`` — transaction pages carry an item that breaks the wire format.

Webhooks (``bank.webhooks``, :mod:`devtools.sandbox_bank.webhooks`): with a URL configured, a
transactions request completes as soon as it is created and the bank sends a signed
``transactions_request_completed``; :meth:`SandboxBank.user_revokes` sends
``data_connection_revoked``.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from devtools.households import HouseholdAccount, HouseholdTransaction
from devtools.sandbox_bank import exceptions as exc
from devtools.sandbox_bank.households import HISTORY_DAYS, household_until
from devtools.sandbox_bank.webhooks import WebhookSender, WebhookSigner

CONSENT_DAYS = 90
TOKEN_SECONDS = 3600


@dataclass
class Quirks:
    """Behaviour switches (see the module doc); mutate freely in tests."""

    pending_books_later: bool = True
    pending_lag_days: int = 1
    changed_id_every: int | None = None
    consent_expired: bool = False
    rate_limit_next: int = 0
    retry_after: int = 2
    unattended_daily_limit: int | None = None
    error_burst: int = 0
    error_status: int = 503
    error_rate: float = 0.0
    slow_seconds: float = 0.0
    polls_before_ready: int = 1
    page_size: int = 200
    malformed_items: bool = False


@dataclass
class SandboxConnection:
    """A data connection and the user journey behind it."""

    id: str
    state: str
    redirect_uri: str
    scopes: tuple[str, ...]
    created_at: datetime
    household_seed: int
    status: str = "authorization_required"
    quirks: Quirks = field(default_factory=Quirks)
    unattended_calls: dict[tuple[str, date], int] = field(default_factory=dict)
    requests_made: dict[str, int] = field(default_factory=dict)


@dataclass
class TransactionsRequest:
    """An asynchronous transactions request (re-readable once completed)."""

    id: str
    connection_id: str
    account_id: str
    start: date
    end: date
    offset: int
    id_epoch: int
    reads: int = 0
    ready: bool = False


@dataclass(frozen=True)
class Call:
    """One wire call as the backend saw it (for tests that check headers)."""

    method: str
    path: str
    connection_id: str | None
    user_ip: str | None


class SandboxBank:
    """A deterministic UK bank speaking TrueLayer Data API v3 semantics.

    Parameters
    ----------
    household_seed
        Seed of the household every new connection shares (one user, one bank).
    clock
        The bank's "now" (UTC); tests move it to let pending transactions book.
    client_id, client_secret
        The only client credentials the token endpoint accepts.
    history_days
        How far back the household's history goes (benchmarks ask for a century of it).
    """

    def __init__(
        self,
        *,
        household_seed: int = 7,
        clock: Callable[[], datetime] | None = None,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",  # noqa: S107 - a local test double's credential
        fault_seed: int = 0,
        history_days: int = HISTORY_DAYS,
    ) -> None:
        self.household_seed = household_seed
        self._clock = clock or (lambda: datetime.now(UTC))
        self._offset = timedelta(0)
        self.client_id = client_id
        self._client_secret = client_secret
        self.switches = Quirks(pending_books_later=False)
        self.default_quirks = Quirks()
        self.public_url = "http://127.0.0.1"
        self.calls: list[Call] = []
        self.history_start = self._clock().date() - timedelta(days=history_days)
        self._rng = random.Random(fault_seed)  # noqa: S311 - fault injection, not security
        self._lock = threading.RLock()
        self._tokens: dict[str, datetime] = {}
        self._connections: dict[str, SandboxConnection] = {}
        self._requests: dict[str, TransactionsRequest] = {}
        self.webhooks = WebhookSender(WebhookSigner())
        self._window_cache: dict[tuple[object, ...], list[dict[str, Any]]] = {}

    # -- time --------------------------------------------------------------------------------
    def now(self) -> datetime:
        """The bank's current time."""
        return self._clock() + self._offset

    def advance(self, **delta: float) -> None:
        """Move the bank's clock forward (``advance(days=2)``)."""
        self._offset += timedelta(**delta)

    # -- faults (applied to every wire call before it is served) -----------------------------
    def before_call(self, call: Call) -> None:
        """Record the call and apply global and per-connection faults."""
        with self._lock:
            self.calls.append(call)
            conn = self._connections.get(call.connection_id or "")
            delay = 0.0
            for quirks in (self.switches, conn.quirks if conn else None):
                if quirks is None:
                    continue
                delay = max(delay, quirks.slow_seconds)
                if quirks.error_burst > 0:
                    quirks.error_burst -= 1
                    raise exc.provider_error(quirks.error_status, "injected error burst")
                if quirks.error_rate and self._rng.random() < quirks.error_rate:
                    raise exc.provider_error(quirks.error_status, "injected error")
                if quirks.rate_limit_next > 0:
                    quirks.rate_limit_next -= 1
                    raise exc.rate_limited(quirks.retry_after, "injected rate limit")
        if delay:
            time.sleep(delay)

    # -- auth server -------------------------------------------------------------------------
    def issue_token(
        self, *, grant_type: str, client_id: str, client_secret: str, scope: str
    ) -> dict[str, Any]:
        """``POST /connect/token`` with client credentials."""
        if grant_type != "client_credentials":
            raise exc.SandboxError(400, "unsupported_grant_type", grant_type, problem=False)
        if client_id != self.client_id or not secrets.compare_digest(
            client_secret, self._client_secret
        ):
            raise exc.SandboxError(
                401, "invalid_client", "unknown client credentials", problem=False
            )
        if "data" not in scope.split():
            raise exc.SandboxError(
                400, "invalid_scope", "the data scope is required", problem=False
            )
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = self.now() + timedelta(seconds=TOKEN_SECONDS)
        return {
            "access_token": token,
            "expires_in": TOKEN_SECONDS,
            "token_type": "Bearer",
            "scope": "data",
        }

    def check_token(self, authorization: str | None) -> None:
        """Require a live bearer token from :meth:`issue_token`."""
        token = (authorization or "").removeprefix("Bearer ").strip()
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None or self.now() >= expiry:
            raise exc.unauthenticated("the access token is missing, malformed or expired")

    def expire_tokens(self) -> None:
        """Make every issued token expire (to exercise the adapter's refresh)."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, self.now())

    # -- connections -------------------------------------------------------------------------
    def create_connection(
        self, *, scopes: list[str], redirect_uri: str, state: str
    ) -> SandboxConnection:
        """``POST /v3/data-connections``."""
        allowed = {"info", "accounts", "balance", "transactions", "offline_access"}
        if not scopes or not set(scopes) <= allowed:
            raise exc.invalid_parameters(f"scopes must be a subset of {sorted(allowed)}")
        if not redirect_uri.startswith(("http://", "https://")):
            raise exc.invalid_parameters("redirect_uri must be an absolute http(s) URI")
        conn = SandboxConnection(
            id=str(uuid.uuid4()),
            state=state,
            redirect_uri=redirect_uri,
            scopes=tuple(scopes),
            created_at=self.now(),
            household_seed=self.household_seed,
            quirks=replace(self.default_quirks),
        )
        with self._lock:
            self._connections[conn.id] = conn
        return conn

    def connection(self, connection_id: str) -> SandboxConnection:
        """A connection by id (404 if unknown)."""
        with self._lock:
            conn = self._connections.get(connection_id)
        if conn is None:
            raise exc.not_found("no such connection")
        return conn

    def connections(self) -> list[SandboxConnection]:
        """Every connection made so far."""
        with self._lock:
            return list(self._connections.values())

    def hosted_page_uri(self, conn: SandboxConnection) -> str:
        """Where the user consents."""
        return f"{self.public_url}/sandbox/consent/{conn.id}"

    def decide(self, connection_id: str, *, allow: bool) -> str:
        """The user's choice on the consent page; returns the redirect back to the client."""
        conn = self.connection(connection_id)
        if conn.status != "authorization_required":
            raise exc.invalid_state("this consent journey is already finished")
        if allow:
            conn.status = "authorized"
            query = {"state": conn.state, "connection_id": conn.id}
        else:
            conn.status = "inactive"
            query = {"state": conn.state, "error": "access_denied"}
        sep = "&" if "?" in conn.redirect_uri else "?"
        return f"{conn.redirect_uri}{sep}{urlencode(query)}"

    def view_connection(self, connection_id: str) -> dict[str, Any]:
        """``GET /v3/data-connections/{id}``."""
        conn = self.connection(connection_id)
        return {
            "id": conn.id,
            "status": self._status(conn),
            "created_at": conn.created_at.isoformat(),
            "consent_expires_at": (conn.created_at + timedelta(days=CONSENT_DAYS)).isoformat(),
        }

    def revoke(self, connection_id: str) -> None:
        """``DELETE /v3/data-connections/{id}``."""
        self.connection(connection_id).status = "revoked"

    def user_revokes(self, connection_id: str) -> int | None:
        """The user withdraws consent at the bank: revoked, and a webhook if switched on."""
        self.revoke(connection_id)
        return self.webhooks.send(self.webhooks.event(
            "data_connection_revoked", connection_id=connection_id,
            revoked_at=self.now().isoformat()))

    def complete_request(self, request_id: str) -> int | None:
        """Finish an asynchronous transactions request now and notify (webhooks on)."""
        with self._lock:
            req = self._requests.get(request_id)
            if req is None:
                raise exc.not_found("no such transactions request")
            req.ready = True
        return self.webhooks.send(self.webhooks.event(
            "transactions_request_completed", connection_id=req.connection_id,
            account_id=req.account_id, request_id=req.id,
            completed_at=self.now().isoformat()))

    def _status(self, conn: SandboxConnection) -> str:
        if conn.status == "revoked":
            return "inactive"
        if conn.status == "authorized" and (
            conn.quirks.consent_expired
            or self.now() >= conn.created_at + timedelta(days=CONSENT_DAYS)
        ):
            return "inactive"
        return conn.status

    def _authorised(self, connection_id: str | None, scope: str) -> SandboxConnection:
        if not connection_id:
            raise exc.invalid_parameters("the Connection-Id header is required")
        conn = self.connection(connection_id)
        if conn.status == "revoked":
            raise exc.forbidden("the user revoked access to this connection")
        if self._status(conn) != "authorized":
            raise exc.invalid_state(
                "the data connection is no longer authorized; ask the user to reconnect"
            )
        if scope not in conn.scopes:
            raise exc.forbidden(f"the connection was not granted the {scope} scope")
        return conn

    def _count_unattended(
        self, conn: SandboxConnection, account_id: str, user_ip: str | None
    ) -> None:
        limit = conn.quirks.unattended_daily_limit
        if limit is None or user_ip:
            return
        today = self.now().date()
        with self._lock:
            used = conn.unattended_calls.get((account_id, today), 0)
            if used >= limit:
                midnight = datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC)
                wait = int((midnight - self.now()).total_seconds()) + 1
                raise exc.rate_limited(
                    wait, "unattended access limit for this account reached today"
                )
            conn.unattended_calls[(account_id, today)] = used + 1

    # -- accounts and balances ---------------------------------------------------------------
    def _accounts(self, conn: SandboxConnection) -> dict[str, HouseholdAccount]:
        household = household_until(conn.household_seed, self.history_start, self.now().date())
        # Data API v3 serves current and savings accounts only (cards are not in v3 yet).
        return {_account_id(conn, a): a for a in household.accounts if a.type != "credit"}

    def list_accounts(self, connection_id: str | None) -> list[dict[str, Any]]:
        """``GET /v3/connected-accounts`` (ordered by type, then id, as documented)."""
        conn = self._authorised(connection_id, "accounts")
        items = [_account_wire(pid, a) for pid, a in self._accounts(conn).items()]
        return sorted(items, key=lambda i: (i["account_type"], i["id"]))

    def _account(self, conn: SandboxConnection, account_id: str) -> HouseholdAccount:
        account = self._accounts(conn).get(account_id)
        if account is None:
            raise exc.not_found("no such account on this connection")
        return account

    def balance(
        self, connection_id: str | None, account_id: str, user_ip: str | None
    ) -> dict[str, Any]:
        """``GET /v3/connected-accounts/{id}/balance``."""
        conn = self._authorised(connection_id, "balance")
        account = self._account(conn, account_id)
        self._count_unattended(conn, account_id, user_ip)
        household = household_until(conn.household_seed, self.history_start, self.now().date())
        current = household.closing_balance(account.id)
        available = household.closing_balance(account.id, include_pending=True)
        return {
            "current": _amount(current, account.currency),
            "available": _amount(available, account.currency),
            "updated_at": self.now().replace(microsecond=0).isoformat(),
        }

    # -- transactions ------------------------------------------------------------------------
    def request_transactions(
        self, connection_id: str | None, account_id: str, body: dict[str, Any], user_ip: str | None
    ) -> TransactionsRequest:
        """``POST /v3/connected-accounts/{id}/transactions/requests``."""
        conn = self._authorised(connection_id, "transactions")
        self._account(conn, account_id)
        try:
            start = date.fromisoformat(str(body["from"]))
            end = date.fromisoformat(str(body["to"]))
        except (KeyError, ValueError):
            raise exc.invalid_parameters(
                "from and to are required dates in YYYY-MM-DD format"
            ) from None
        if end < start:
            raise exc.invalid_parameters("to is before from")
        cursor = body.get("cursor")
        offset = 0
        epoch = 0
        if cursor is not None:
            try:
                epoch_text, offset_text = str(cursor).split(".", 1)
                epoch, offset = int(epoch_text), int(offset_text)
            except ValueError:
                raise exc.invalid_parameters("cursor is not one this bank issued") from None
        else:
            self._count_unattended(conn, account_id, user_ip)
            with self._lock:
                epoch = conn.requests_made.get(account_id, 0)
                conn.requests_made[account_id] = epoch + 1
        req = TransactionsRequest(
            id=str(uuid.uuid4()),
            connection_id=conn.id,
            account_id=account_id,
            start=start,
            end=end,
            offset=offset,
            id_epoch=epoch,
        )
        with self._lock:
            self._requests[req.id] = req
        return req

    def read_transactions(
        self, connection_id: str | None, account_id: str, request_id: str
    ) -> dict[str, Any]:
        """``GET .../transactions/requests/{request_id}``: pending, then the same page each read."""
        conn = self._authorised(connection_id, "transactions")
        with self._lock:
            req = self._requests.get(request_id)
            if req is None or req.connection_id != conn.id or req.account_id != account_id:
                raise exc.not_found("no such transactions request")
            req.reads += 1
            if not req.ready and req.reads <= conn.quirks.polls_before_ready:
                return {"id": req.id, "status": "pending"}
        items = self._window_items(conn, req)
        size = conn.quirks.page_size
        page = items[req.offset : req.offset + size]
        if conn.quirks.malformed_items and page:
            page[-1] = {**page[-1], "amount": "lots"}
        more = req.offset + size < len(items)
        return {
            "id": req.id,
            "status": "completed",
            "items": page,
            "next_cursor": f"{req.id_epoch}.{req.offset + size}" if more else None,
        }

    def _window_items(
        self, conn: SandboxConnection, req: TransactionsRequest
    ) -> list[dict[str, Any]]:
        # Every page of a request chain reads the same window: build it once per bank state.
        quirks = conn.quirks
        key = (conn.id, req.account_id, req.start, req.end, req.id_epoch, self.now().date(),
               quirks.pending_books_later, quirks.pending_lag_days, quirks.changed_id_every)
        with self._lock:
            cached = self._window_cache.get(key)
        if cached is None:
            cached = self._build_window_items(conn, req)
            with self._lock:
                self._window_cache = {key: cached}  # one window kept: memory stays bounded
        return cached  # callers slice it and never mutate its items

    def _build_window_items(
        self, conn: SandboxConnection, req: TransactionsRequest
    ) -> list[dict[str, Any]]:
        today = self.now().date()
        household = household_until(conn.household_seed, self.history_start, today)
        account = self._account(conn, req.account_id)
        quirks = conn.quirks
        items = []
        for txn in household.transactions_of(account.id):
            pending = txn.pending and quirks.pending_books_later
            day = txn.booked - timedelta(days=quirks.pending_lag_days) if pending else txn.booked
            if not req.start <= day <= req.end:
                continue
            items.append(
                _transaction_wire(txn, day, pending, _txn_id(txn, pending, req.id_epoch, quirks))
            )
        # Documented order: booking date descending, then transaction_id descending.
        items.sort(key=lambda i: (i["timestamp"], i["transaction_id"]), reverse=True)
        return items


def _account_id(conn: SandboxConnection, account: HouseholdAccount) -> str:
    # Provider account ids differ per connection, as they do after a reconnection.
    return str(uuid.uuid5(uuid.UUID(conn.id), account.id))


def _txn_id(txn: HouseholdTransaction, pending: bool, epoch: int, quirks: Quirks) -> str:
    if pending:
        return f"pnd_{txn.id.removeprefix('txn_')}"
    every = quirks.changed_id_every
    if every and epoch and int(hashlib.sha256(txn.id.encode()).hexdigest(), 16) % every == 0:
        return f"{txn.id}_v{epoch}"
    return txn.id


def _amount(value: Decimal, currency: str) -> dict[str, Any]:
    return {"value": str(value), "currency": currency}


_WIRE_ACCOUNT_TYPE = {"current": "current", "savings": "savings"}


def _account_wire(pid: str, account: HouseholdAccount) -> dict[str, Any]:
    identifiers: list[dict[str, str]] = []
    if account.sort_code and account.account_number:
        identifiers.append(
            {
                "type": "sort_code_account_number",
                "sort_code": account.sort_code.replace("-", ""),
                "account_number": account.account_number,
            }
        )
    return {
        "id": pid,
        "account_type": _WIRE_ACCOUNT_TYPE[account.type],
        "customer_segment": "retail",
        "currency": account.currency,
        "display_name": account.display_name,
        "account_identifiers": identifiers,
        "account_holder_names": ["Sandbox Household"],
    }


def _transaction_wire(
    txn: HouseholdTransaction, day: date, pending: bool, txn_id: str
) -> dict[str, Any]:
    return {
        "transaction_id": txn_id,
        "status": "pending" if pending else "booked",
        "timestamp": f"{day.isoformat()}T00:00:00+00:00",
        "description": txn.description,
        "amount": _amount(abs(txn.amount), txn.currency),
        "transaction_type": txn.transaction_type,
        "transaction_category": txn.transaction_category,
        "merchant_name": txn.merchant_name,
    }
