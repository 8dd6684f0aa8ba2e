"""The ingestion port the bank-sync workflow writes through, and its in-memory implementation.

The database-backed implementation (:mod:`service.repositories.bank_ingestion`) applies the same
:func:`~service.banking.ingest_plan.plan_ingest` decisions in batched statements: one read of
the window's rows, one batch of inserts, one of updates; reconcile is one delete. The in-memory
one here is what the workflow tests and the sandbox demo run on, and the contract both must
meet is in ``tests/banking/test_ingestion_contract.py``.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from service.banking.ingest_plan import (
    PENDING_TOLERANCE,
    StoredTransaction,
    plan_ingest,
    vanished_pending,
)
from service.banking.models import DateWindow, ProviderAccount, ProviderBalance, ProviderTransaction


@dataclass(frozen=True, slots=True)
class LinkedAccount:
    """An account as stored: our id, the owner it belongs to, and its latest provider id."""

    account_id: str
    owner_key: str
    provider: str
    provider_account_id: str
    match_key: str | None
    account: ProviderAccount


class IngestionPort(Protocol):
    """Where a sync puts what it fetched. Every method is idempotent."""

    def link_accounts(
        self, *, owner_key: str, provider: str, accounts: Sequence[ProviderAccount]
    ) -> dict[str, str]:
        """Store or refresh accounts; map each provider account id to our account id.

        An account seen before under another provider id (a fresh connection after consent
        reconfirmation) is recognised by its ``match_key`` and keeps its id.
        """
        ...

    def record_balance(self, *, account_id: str, balance: ProviderBalance) -> bool:
        """Append a balance to the account's history; False if that snapshot is stored."""
        ...

    def ingest_window(
        self,
        *,
        account_id: str,
        window: DateWindow,
        transactions: Sequence[ProviderTransaction],
        run_id: str,
    ) -> Counter[str]:
        """Upsert everything fetched for ``window``; returns counts by outcome."""
        ...

    def reconcile_pending(self, *, account_id: str, window: DateWindow, run_id: str) -> int:
        """Remove pending rows in ``window`` that run ``run_id`` did not see; returns how many."""
        ...


class InMemoryIngestion:
    """:class:`IngestionPort` over dictionaries (thread-safe); for tests and the local demo."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accounts: dict[str, LinkedAccount] = {}
        self._balances: dict[str, list[ProviderBalance]] = {}
        self._rows: dict[str, StoredTransaction] = {}

    # -- port --------------------------------------------------------------------------------
    def link_accounts(
        self, *, owner_key: str, provider: str, accounts: Sequence[ProviderAccount]
    ) -> dict[str, str]:
        """See :meth:`IngestionPort.link_accounts`."""
        mapping: dict[str, str] = {}
        with self._lock:
            for acct in accounts:
                found = next(
                    (
                        a
                        for a in self._accounts.values()
                        if a.owner_key == owner_key
                        and a.provider == provider
                        and (
                            a.provider_account_id == acct.provider_account_id
                            or (acct.match_key is not None and a.match_key == acct.match_key)
                        )
                    ),
                    None,
                )
                account_id = found.account_id if found else str(uuid.uuid4())
                self._accounts[account_id] = LinkedAccount(
                    account_id=account_id,
                    owner_key=owner_key,
                    provider=provider,
                    provider_account_id=acct.provider_account_id,
                    match_key=acct.match_key,
                    account=acct,
                )
                mapping[acct.provider_account_id] = account_id
        return mapping

    def record_balance(self, *, account_id: str, balance: ProviderBalance) -> bool:
        """See :meth:`IngestionPort.record_balance`."""
        with self._lock:
            history = self._balances.setdefault(account_id, [])
            if any(b.as_of == balance.as_of for b in history):
                return False
            history.append(balance)
            return True

    def ingest_window(
        self,
        *,
        account_id: str,
        window: DateWindow,
        transactions: Sequence[ProviderTransaction],
        run_id: str,
    ) -> Counter[str]:
        """See :meth:`IngestionPort.ingest_window`."""
        with self._lock:
            existing = [
                r
                for r in self._rows.values()
                if r.account_id == account_id
                and (
                    window.contains(r.booked_on)
                    or (
                        r.state.value == "pending"
                        and window.start - PENDING_TOLERANCE <= r.booked_on <= window.end
                    )
                )
            ]
            plan = plan_ingest(
                account_id=account_id, existing=existing, incoming=transactions, run_id=run_id
            )
            for row in plan.updates:
                self._rows[row.row_id] = row
            for row in plan.inserts:
                new_id = str(uuid.uuid4())
                self._rows[new_id] = replace(row, row_id=new_id)
            return plan.counts

    def reconcile_pending(self, *, account_id: str, window: DateWindow, run_id: str) -> int:
        """See :meth:`IngestionPort.reconcile_pending`."""
        with self._lock:
            rows = [r for r in self._rows.values() if r.account_id == account_id]
            gone = vanished_pending(rows, window=window, run_id=run_id)
            for row in gone:
                del self._rows[row.row_id]
            return len(gone)

    # -- reads for tests and the demo --------------------------------------------------------
    def accounts(self) -> list[LinkedAccount]:
        """Every stored account."""
        with self._lock:
            return list(self._accounts.values())

    def transactions(self, account_id: str | None = None) -> list[StoredTransaction]:
        """Stored transactions (of one account), by date then provider id."""
        with self._lock:
            rows = [r for r in self._rows.values() if account_id in (None, r.account_id)]
        return sorted(rows, key=lambda r: (r.booked_on, r.provider_transaction_id))

    def balances(self, account_id: str) -> list[ProviderBalance]:
        """The account's balance history, oldest first."""
        with self._lock:
            return list(self._balances.get(account_id, []))
