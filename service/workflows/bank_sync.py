"""The bank-sync workflow: its definition (data) and its step functions (behaviour).

One run syncs one connection for one window of booking dates. Steps pass ids and cursors
through the run state, never transaction payloads. ``poll_transactions`` follows each account's
chain of asynchronous requests to its end; when one attempt reads a whole chain (no page of it
was read by an earlier attempt) it has every page in hand, parsed exactly, and ingests that
account's window there and then, marking the chain ``ingested`` in the run state, so each page
is downloaded and parsed once. A chain that spans attempts (a page still being prepared
mid-way; the step re-polls a just-requested follow-up page a few times within the attempt,
:data:`FOLLOW_UP_PAGE_WAITS`, before giving up on keeping the chain whole) is followed keeping
only each page's cursor (every page is still parsed and checked,
so a malformed answer fails the poll step before its account is ingested), and
``ingest_transactions`` then re-reads its completed requests (TrueLayer documents them as
re-readable) and ingests the accounts the poll step did not. Either way one account's window
reaches the ingest planner at once, as one database transaction, and only one account's pages
are held in memory at a time. The ingest counts (``fetched``, ``inserted``, ``unchanged``, ...,
and ``accounts_ingested``) are recorded by whichever of the two steps did the work, so a run's
totals are the sum over both. Every step is idempotent, so a retry or a re-run never
duplicates: a window ingested twice (a poll attempt that ingested but could not record it)
only restamps the same rows.

Run input: ``connection_ref`` (our id of the connection), ``window_start`` and ``window_end``
(ISO dates) and, for a sync the user asked for, ``user_ip`` (from ``CloudFront-Viewer-Address``)
with ``user_present_until``: the IP is sent only until then, because it tells the bank the user
is present, which is no longer true of a run resumed hours later.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from service.banking.errors import ReauthRequiredError, TransactionsNotReadyError, UnsupportedError
from service.banking.ingestion import IngestionPort
from service.banking.models import (
    DateWindow,
    ProviderConnection,
    ProviderTransaction,
    TransactionsBatch,
)
from service.banking.port import BankProvider, ProviderRegistry
from service.workflows.definition import ParkPolicy, RetryPolicy, StepSpec, WorkflowDefinition
from service.workflows.runner import StepContext, StepFunction

# Errors worth another attempt; everything else (reauth_required, unsupported, rejected, bugs)
# fails the step at once with its reason.
TRANSIENT = ("ProviderUnavailableError", "RateLimitedError", "TransientDatabaseError")
_PROVIDER_CALL = RetryPolicy(max_attempts=4, initial_delay=2, max_delay=60, retry_on=TRANSIENT)

BANK_SYNC = WorkflowDefinition(
    "bank-sync",
    (
        StepSpec(
            name="refresh_credentials",
            description="Load the connection and check its consent is still valid.",
            retry=RetryPolicy(max_attempts=3, initial_delay=1, max_delay=10, retry_on=TRANSIENT),
        ),
        StepSpec(
            name="accounts",
            description="Fetch and link the connection's accounts.",
            retry=_PROVIDER_CALL,
        ),
        StepSpec(
            name="balances",
            description="Append each account's balance to its history.",
            retry=_PROVIDER_CALL,
        ),
        StepSpec(
            name="request_transactions",
            description="Create one asynchronous transactions request per account for the window.",
            retry=_PROVIDER_CALL,
        ),
        StepSpec(
            name="poll_transactions",
            description=("Poll each request, follow its cursor chain, and ingest each account "
                         "whose whole chain this attempt read."),
            retry=RetryPolicy(
                max_attempts=12,
                initial_delay=2,
                backoff_rate=1.5,
                max_delay=60,
                retry_on=("TransactionsNotReadyError", *TRANSIENT),
            ),
            # Still preparing after this pass's polls: park the run until the bank's
            # "transactions ready" webhook resumes it, or half an hour passes.
            park=ParkPolicy(park_on=("TransactionsNotReadyError",),
                            wait=timedelta(minutes=30), max_parks=4),
            # It may do all of the ingest step's work (every page read, planned, written).
            timeout_seconds=300,
        ),
        StepSpec(
            name="ingest_transactions",
            description="Re-read and upsert the accounts the poll step did not ingest.",
            retry=_PROVIDER_CALL,
            timeout_seconds=300,
        ),
        StepSpec(
            name="reconcile_pending",
            description="Remove pending transactions the bank no longer reports.",
            retry=RetryPolicy(max_attempts=3, initial_delay=1, max_delay=10, retry_on=TRANSIENT),
        ),
        StepSpec(
            name="post_processing",
            description="Run the post-sync hooks (categorising, recurring detection, runway).",
            retry=RetryPolicy(max_attempts=3, initial_delay=1, max_delay=30, retry_on=TRANSIENT),
            timeout_seconds=300,
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class SyncTarget:
    """What a sync needs to know about a connection (decrypted from the token store)."""

    owner_key: str  # whose accounts these are (the family, or the member for private ones)
    provider: str
    connection: ProviderConnection


class SyncTargets(Protocol):
    """Resolves a connection reference to its provider connection
    (:class:`service.workflows.targets.DatabaseSyncTargets` over the database)."""

    def load(self, connection_ref: str) -> SyncTarget:
        """The target, or :class:`ReauthRequiredError` if the connection is gone or revoked."""
        ...


class InMemorySyncTargets:
    """:class:`SyncTargets` over a dictionary."""

    def __init__(self, targets: Mapping[str, SyncTarget] | None = None) -> None:
        self.targets: dict[str, SyncTarget] = dict(targets or {})

    def load(self, connection_ref: str) -> SyncTarget:
        """See :meth:`SyncTargets.load`."""
        try:
            return self.targets[connection_ref]
        except KeyError:
            raise ReauthRequiredError("the connection no longer exists") from None


@dataclass(frozen=True, slots=True)
class PostSyncEvent:
    """What a post-processing hook is told: which run, which accounts, which window."""

    run_id: str
    connection_ref: str
    account_ids: tuple[str, ...]
    window: DateWindow


PostSyncHook = Callable[[PostSyncEvent], None]

# No hooks by default: the composition root (service.bootstrap) passes the insights refresh
# (service.workflows.insights_hook). Each hook must be idempotent: the step retries as a whole.
POST_PROCESSING_HOOKS: tuple[PostSyncHook, ...] = ()


# Seconds between re-polls of a follow-up page the poll step has just requested, while it
# still holds every earlier page of the chain: a bank usually prepares the next page of a
# chain it is already serving within moments, and a page that arrives here spares the ingest
# step re-reading the whole chain. Bounded (3 s per page), far inside the step's timeout.
FOLLOW_UP_PAGE_WAITS: tuple[float, ...] = (0.2, 0.4, 0.8, 1.6)


@dataclass(frozen=True, slots=True)
class BankSyncDeps:
    """The ports the steps use."""

    providers: ProviderRegistry
    targets: SyncTargets
    ingestion: IngestionPort
    hooks: Sequence[PostSyncHook] = field(default=POST_PROCESSING_HOOKS)
    page_waits: Sequence[float] = FOLLOW_UP_PAGE_WAITS
    sleep: Callable[[float], None] = time.sleep


def default_window(today: date, *, days: int = 90) -> DateWindow:
    """The last ``days`` days up to ``today`` (what a routine sync asks for)."""
    return DateWindow(today - timedelta(days=days - 1), today)


USER_PRESENCE = timedelta(minutes=10)


def bank_sync_input(
    connection_ref: str,
    window: DateWindow,
    *,
    user_ip: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The run input for one connection and window (``now`` is required with ``user_ip``)."""
    data: dict[str, Any] = {
        "connection_ref": connection_ref,
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
    }
    if user_ip:
        if now is None:
            raise ValueError("a user-present sync needs the time the user asked for it")
        data["user_ip"] = user_ip
        data["user_present_until"] = (now + USER_PRESENCE).isoformat()
    return data


class _Sync:
    """Binds the deps to one step context; each public method is one step."""

    def __init__(self, deps: BankSyncDeps, ctx: StepContext) -> None:
        self.deps = deps
        self.ctx = ctx
        self.target = deps.targets.load(str(ctx.input["connection_ref"]))
        self.provider: BankProvider = deps.providers[self.target.provider]
        self.window = DateWindow(
            date.fromisoformat(str(ctx.input["window_start"])),
            date.fromisoformat(str(ctx.input["window_end"])),
        )
        ip, until = ctx.input.get("user_ip"), ctx.input.get("user_present_until")
        present = bool(ip and until and ctx.now() < datetime.fromisoformat(str(until)))
        self.user_ip = str(ip) if present else None

    @property
    def accounts(self) -> dict[str, str]:
        """Provider account id → our account id, from the ``accounts`` step."""
        accounts: dict[str, str] = self.ctx.state.get("accounts", {})
        return accounts

    def refresh_credentials(self) -> None:
        if self.target.connection.consent_expired(self.ctx.now()):
            raise ReauthRequiredError("the consent has expired; the user must reconfirm it")

    def fetch_accounts(self) -> None:
        found = self.provider.list_accounts(self.target.connection, user_ip=self.user_ip)
        mapping = self.deps.ingestion.link_accounts(
            owner_key=self.target.owner_key, provider=self.provider.name, accounts=found
        )
        self.ctx.state["accounts"] = mapping
        self.ctx.count("accounts", len(mapping))

    def balances(self) -> None:
        for pid, account_id in sorted(self.accounts.items()):
            try:
                balance = self.provider.get_balance(
                    self.target.connection, pid, user_ip=self.user_ip
                )
            except UnsupportedError:
                self.ctx.count("unsupported")
                continue
            stored = self.deps.ingestion.record_balance(account_id=account_id, balance=balance)
            self.ctx.count("recorded" if stored else "already_recorded")

    def request_transactions(self) -> None:
        chains: dict[str, dict[str, Any]] = self.ctx.state.setdefault("chains", {})
        for pid in sorted(self.accounts):
            if pid in chains:  # requested by an earlier attempt
                continue
            handle = self.provider.request_transactions(
                self.target.connection, pid, self.window, user_ip=self.user_ip
            )
            chains[pid] = {"handles": [handle], "done": False}
            self.ctx.count("requests")

    def poll_transactions(self) -> None:
        chains: dict[str, dict[str, Any]] = self.ctx.state["chains"]
        waiting = []
        for pid in sorted(chains):
            chain = chains[pid]
            if chain["done"]:
                continue
            # No page of the chain was read by an earlier attempt (each read page appends the
            # next handle), so this attempt may see every page: it keeps them and, if the
            # chain ends here, ingests the window without reading any page again. Otherwise
            # each page is still read and checked, but only its cursor is kept.
            pages: list[ProviderTransaction] | None = [] if len(chain["handles"]) == 1 else None
            while not chain["done"]:
                follow_up = pages is not None and len(chain["handles"]) > 1
                try:
                    batch = self._read_page(pid, chain["handles"][-1],
                                            waits=self.deps.page_waits if follow_up else ())
                except TransactionsNotReadyError:
                    waiting.append(pid)
                    break
                self.ctx.count("pages")
                if pages is not None:
                    pages.extend(batch.transactions)
                if batch.next_cursor is None:
                    chain["done"] = True
                else:
                    chain["handles"].append(
                        self.provider.request_transactions(
                            self.target.connection,
                            pid,
                            self.window,
                            cursor=batch.next_cursor,
                            user_ip=self.user_ip,
                        )
                    )
            if chain["done"] and pages is not None:
                self._ingest(pid, pages)
        if waiting:
            raise TransactionsNotReadyError(f"{len(waiting)} account(s) still being prepared")

    def ingest_transactions(self) -> None:
        chains: dict[str, dict[str, Any]] = self.ctx.state["chains"]
        for pid in sorted(self.accounts):
            if chains[pid].get("ingested"):  # by the poll step, or an earlier attempt
                continue
            fetched: list[ProviderTransaction] = []
            for handle in chains[pid]["handles"]:
                fetched.extend(self._read_page(pid, handle).transactions)
            self._ingest(pid, fetched)

    def _read_page(self, pid: str, handle: str, *, waits: Sequence[float] = ()
                   ) -> TransactionsBatch:
        """One page; not ready, it is polled again after each of ``waits`` seconds."""
        left = list(waits)
        while True:
            try:
                return self.provider.poll_transactions(
                    self.target.connection, pid, handle, user_ip=self.user_ip
                )
            except TransactionsNotReadyError:
                if not left:
                    raise
                self.ctx.count("page_waits")
                self.deps.sleep(left.pop(0))

    def _ingest(self, pid: str, transactions: Sequence[ProviderTransaction]) -> None:
        """Upsert one account's whole window (one transaction) and record it in the state."""
        counts = self.deps.ingestion.ingest_window(
            account_id=self.accounts[pid],
            window=self.window,
            transactions=transactions,
            run_id=self.ctx.run_id,
        )
        self.ctx.state["chains"][pid]["ingested"] = True
        self.ctx.count("accounts_ingested")
        self.ctx.count("fetched", len(transactions))
        for key, value in counts.items():
            self.ctx.count(key, value)

    def reconcile_pending(self) -> None:
        for account_id in sorted(self.accounts.values()):
            removed = self.deps.ingestion.reconcile_pending(
                account_id=account_id, window=self.window, run_id=self.ctx.run_id
            )
            self.ctx.count("pending_removed", removed)

    def post_processing(self) -> None:
        event = PostSyncEvent(
            run_id=self.ctx.run_id,
            connection_ref=str(self.ctx.input["connection_ref"]),
            account_ids=tuple(sorted(self.accounts.values())),
            window=self.window,
        )
        for hook in self.deps.hooks:
            hook(event)
            self.ctx.count("hooks")


def bank_sync_steps(deps: BankSyncDeps) -> dict[str, StepFunction]:
    """Step name → function, for :class:`~service.workflows.runner.InProcessRunner` or a worker."""
    methods: dict[str, Callable[[_Sync], None]] = {
        "refresh_credentials": _Sync.refresh_credentials,
        "accounts": _Sync.fetch_accounts,
        "balances": _Sync.balances,
        "request_transactions": _Sync.request_transactions,
        "poll_transactions": _Sync.poll_transactions,
        "ingest_transactions": _Sync.ingest_transactions,
        "reconcile_pending": _Sync.reconcile_pending,
        "post_processing": _Sync.post_processing,
    }

    def bind(method: Callable[[_Sync], None]) -> StepFunction:
        def step(ctx: StepContext) -> None:
            method(_Sync(deps, ctx))

        return step

    return {name: bind(method) for name, method in methods.items()}
