"""The database ingestion adapter dressed for the contract suite's names.

The contract tests name accounts and owners with short strings (``"x"``, ``"fam"``); the
database keys them by uuid and foreign keys. This wrapper creates, as the owner role, one
real family with a member and a connection per owner key and one real account per account
name on first use, then forwards to :class:`~service.repositories.bank_ingestion.DatabaseIngestion`
running as the application role. Nothing of the adapter is replaced.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

from service.banking import DateWindow, ProviderAccount, ProviderBalance, ProviderTransaction
from service.banking.ingest_plan import StoredTransaction
from service.banking.ingestion import LinkedAccount
from service.db.port import Database
from service.repositories.bank_ingestion import DatabaseIngestion


def seed_connection(owner: Database, *, visibility: str = "family") -> dict[str, uuid.UUID]:
    """A user, a family, the user's owner membership and an active connection (as owner)."""
    ids = {k: uuid.uuid4() for k in ("user", "family", "connection")}
    owner.execute(
        "INSERT INTO users (id, issuer, subject, email) VALUES (:id, 'test', :s, 'a@example.com')",
        {"id": ids["user"], "s": str(ids["user"])},
    )
    owner.execute("INSERT INTO families (id, name) VALUES (:id, 'Test')", {"id": ids["family"]})
    owner.execute(
        "INSERT INTO memberships (family_id, user_id, role) VALUES (:f, :u, 'owner')",
        {"f": ids["family"], "u": ids["user"]},
    )
    owner.execute(
        """INSERT INTO connections (id, family_id, provider, status, created_by, visibility)
           VALUES (:c, :f, 'truelayer', 'active', :u, :v)""",
        {"c": ids["connection"], "f": ids["family"], "u": ids["user"], "v": visibility},
    )
    return ids


class ContractDbStore:
    """:class:`DatabaseIngestion` addressed by the contract suite's short names."""

    def __init__(self, app_db: Database, owner_db: Database) -> None:
        self.port = DatabaseIngestion(app_db)
        self._owner_db = owner_db
        self._owners: dict[str, dict[str, uuid.UUID]] = {}
        self._accounts: dict[str, str] = {}

    def _owner(self, key: str) -> dict[str, uuid.UUID]:
        if key not in self._owners:
            self._owners[key] = seed_connection(self._owner_db)
        return self._owners[key]

    def _account(self, name: str) -> str:
        if name not in self._accounts:
            ids = self._owner("__accounts__")
            mapping = self.port.link_accounts(
                owner_key=str(ids["connection"]),
                provider="truelayer",
                accounts=[ProviderAccount(f"acct-{name}", "current", "GBP", f"Account {name}")],
            )
            self._accounts[name] = mapping[f"acct-{name}"]
        return self._accounts[name]

    def link_accounts(
        self, *, owner_key: str, provider: str, accounts: Sequence[ProviderAccount]
    ) -> dict[str, str]:
        conn = str(self._owner(owner_key)["connection"])
        return self.port.link_accounts(owner_key=conn, provider=provider, accounts=accounts)

    def record_balance(self, *, account_id: str, balance: ProviderBalance) -> bool:
        return self.port.record_balance(account_id=self._account(account_id), balance=balance)

    def ingest_window(
        self, *, account_id: str, window: DateWindow,
        transactions: Sequence[ProviderTransaction], run_id: str,
    ) -> Counter[str]:
        return self.port.ingest_window(account_id=self._account(account_id), window=window,
                                       transactions=transactions, run_id=run_id)

    def reconcile_pending(self, *, account_id: str, window: DateWindow, run_id: str) -> int:
        return self.port.reconcile_pending(account_id=self._account(account_id), window=window,
                                           run_id=run_id)

    def transactions(self, account_id: str | None = None) -> list[StoredTransaction]:
        real = None if account_id is None else self._account(account_id)
        return self.port.transactions(real)

    def accounts(self) -> list[LinkedAccount]:
        internal = {a for a in self._accounts.values()}
        return [a for a in self.port.accounts() if a.account_id not in internal]

    def reset(self) -> None:
        """Empty the transactions (hypothesis examples share one database)."""
        self._owner_db.execute("DELETE FROM transactions")

    def __getattr__(self, name: str) -> Any:  # pragma: no cover - convenience
        return getattr(self.port, name)
