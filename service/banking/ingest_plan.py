"""The pure decision of how one fetched window changes an account's stored transactions.

Given what is stored for the account and everything the provider returned for a window (all
pages), :func:`plan_ingest` decides, without I/O, which rows to insert and which to update, so
any store (in memory, PostgreSQL through psycopg or the Data API) applies the same decisions in
one batch:

1. same provider id → update in place (the row keeps its id; a pending row may become booked);
2. a booked row with the same fingerprint whose id is absent from this fetch → the provider
   changed the id: remap, never duplicate;
3. a pending row with the same amount and description dated up to ``pending_tolerance`` days
   before → the pending transaction booked under a new id: it becomes that booked row;
4. anything else is inserted.

Every row the fetch saw is stamped with the run id; :func:`vanished_pending` then lists pending
rows inside the window that the run did not see (declined or expired authorisations), which the
reconcile step removes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from service.banking.fingerprint import fingerprints, pending_match_key
from service.banking.models import DateWindow, ProviderTransaction, TransactionState

PENDING_TOLERANCE = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class StoredTransaction:
    """A stored transaction row as the planner sees it (``row_id`` is ours and never changes)."""

    row_id: str
    account_id: str
    provider_transaction_id: str
    state: TransactionState
    booked_on: date
    amount_minor: int
    currency: str
    description: str
    merchant_name: str | None
    category: str | None
    fingerprint: str
    pending_key: str
    last_seen_run: str | None = None


@dataclass(frozen=True, slots=True)
class IngestPlan:
    """Rows to insert (``row_id`` empty: the store assigns one) and full rows to update."""

    inserts: tuple[StoredTransaction, ...] = ()
    updates: tuple[StoredTransaction, ...] = ()
    counts: Counter[str] = field(default_factory=Counter)


def _row(
    txn: ProviderTransaction,
    account_id: str,
    fp: str,
    pending_key: str,
    run_id: str,
    *,
    row_id: str = "",
) -> StoredTransaction:
    return StoredTransaction(
        row_id=row_id,
        account_id=account_id,
        provider_transaction_id=txn.provider_transaction_id,
        state=txn.state,
        booked_on=txn.booked_on,
        amount_minor=txn.amount_minor,
        currency=txn.currency,
        description=txn.description,
        merchant_name=txn.merchant_name,
        category=txn.category,
        fingerprint=fp,
        pending_key=pending_key,
        last_seen_run=run_id,
    )


def _content_fields(r: StoredTransaction) -> tuple[object, ...]:
    return (
        r.provider_transaction_id,
        r.state,
        r.booked_on,
        r.amount_minor,
        r.currency,
        r.description,
        r.merchant_name,
        r.category,
        r.fingerprint,
    )


def _same_content(a: StoredTransaction, b: StoredTransaction) -> bool:
    return _content_fields(a) == _content_fields(b)


def plan_ingest(
    *,
    account_id: str,
    existing: Sequence[StoredTransaction],
    incoming: Iterable[ProviderTransaction],
    run_id: str,
    pending_tolerance: timedelta = PENDING_TOLERANCE,
) -> IngestPlan:
    """Decide the writes that make ``existing`` reflect ``incoming`` (see the module doc).

    ``existing`` must hold the account's booked rows dated inside the fetched window and its
    pending rows dated from ``pending_tolerance`` before the window's start.
    """
    unique: dict[str, ProviderTransaction] = {}
    for txn in incoming:  # overlapping pages may repeat a transaction
        unique[txn.provider_transaction_id] = txn
    booked = [t for t in unique.values() if t.state is TransactionState.BOOKED]
    pending = [t for t in unique.values() if t.state is TransactionState.PENDING]
    fps = dict(zip((t.provider_transaction_id for t in booked), fingerprints(booked), strict=True))
    fps.update(
        zip((t.provider_transaction_id for t in pending), fingerprints(pending), strict=True)
    )

    pkeys = {pid: pending_match_key(t) for pid, t in unique.items()}
    by_pid = {r.provider_transaction_id: r for r in existing}
    claimed: set[str] = set()  # row ids already matched to an incoming transaction
    decided: dict[str, StoredTransaction] = {}  # provider id → row to write
    counts: Counter[str] = Counter()

    # 1. same provider id
    for pid, txn in unique.items():
        row = by_pid.get(pid)
        if row is not None:
            claimed.add(row.row_id)
            decided[pid] = _row(txn, account_id, fps[pid], pkeys[pid], run_id, row_id=row.row_id)
            if row.state is TransactionState.PENDING and txn.state is TransactionState.BOOKED:
                counts["pending_booked"] += 1
            else:
                counts["unchanged" if _same_content(row, decided[pid]) else "updated"] += 1

    # 2. changed id of a booked transaction: same content, old id not fetched again. Matched on
    #    the content key rather than the whole fingerprint, whose repeat number may shift when
    #    only some of several identical transactions change id.
    absent: dict[str, list[StoredTransaction]] = {}
    for r in sorted(existing, key=lambda r: r.fingerprint):
        if (
            r.state is TransactionState.BOOKED
            and r.row_id not in claimed
            and r.provider_transaction_id not in unique
        ):
            absent.setdefault(_content(r.fingerprint), []).append(r)
    # (Without candidates nothing can match: the sorts below are skipped, as on a first sync.)
    for txn in sorted(booked, key=lambda t: fps[t.provider_transaction_id]) if absent else ():
        pid = txn.provider_transaction_id
        candidates = absent.get(_content(fps[pid]))
        if pid in decided or not candidates:
            continue
        row = candidates.pop(0)
        claimed.add(row.row_id)
        decided[pid] = _row(txn, account_id, fps[pid], pkeys[pid], run_id, row_id=row.row_id)
        counts["changed_id"] += 1

    # 3. pending booked under a new id (oldest pending first)
    open_pending = sorted(
        (
            r
            for r in existing
            if r.state is TransactionState.PENDING
            and r.row_id not in claimed
            and r.provider_transaction_id not in unique
        ),
        key=lambda r: (r.booked_on, r.row_id),
    )
    for txn in (
        sorted(booked, key=lambda t: (t.booked_on, t.provider_transaction_id))
        if open_pending
        else ()
    ):
        pid = txn.provider_transaction_id
        if pid in decided:
            continue
        key = pkeys[pid]
        for row in open_pending:
            if (
                row.row_id not in claimed
                and row.pending_key == key
                and row.booked_on <= txn.booked_on <= row.booked_on + pending_tolerance
            ):
                claimed.add(row.row_id)
                decided[pid] = _row(
                    txn, account_id, fps[pid], pkeys[pid], run_id, row_id=row.row_id
                )
                counts["pending_booked"] += 1
                break

    # 4. new
    inserts = []
    for pid, txn in unique.items():
        if pid not in decided:
            inserts.append(_row(txn, account_id, fps[pid], pkeys[pid], run_id))
            counts["inserted"] += 1

    # Every matched row is written, unchanged ones too: the run stamp is what reconcile reads.
    return IngestPlan(inserts=tuple(inserts), updates=tuple(decided.values()), counts=counts)


def _content(fingerprint: str) -> str:
    return fingerprint.partition("#")[0]


def vanished_pending(
    rows: Iterable[StoredTransaction], *, window: DateWindow, run_id: str
) -> list[StoredTransaction]:
    """Pending rows dated inside ``window`` that run ``run_id`` did not see: to be removed."""
    return [
        r
        for r in rows
        if r.state is TransactionState.PENDING
        and window.contains(r.booked_on)
        and r.last_seen_run != run_id
    ]
