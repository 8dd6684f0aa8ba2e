"""The database :class:`~service.banking.ingestion.IngestionPort`: ``plan_ingest`` over SQL.

One window of one account is one transaction of a fixed number of statements, whatever its
size: a lock statement (the account's live family ``FOR SHARE``, so a family deletion never
interleaves), one read of the rows the planner needs, then rows travel as JSON documents
(``json_to_recordset``) in chunks of at most :data:`CHUNK_BYTES` — one ``INSERT`` for new
rows, one ``UPDATE`` for changed rows, one ``UPDATE`` stamping the run on unchanged rows. A
JSON document per chunk rather than a ``BatchExecuteStatement`` parameter set per row: it
is the same single call on both adapters, PostgreSQL plans it once, and a chunk stays far
inside the Data API's 4 MiB request limit. The chunks are cast to ``json``, not ``jsonb``:
each is read once, front to back, so building ``jsonb``'s binary form first would only cost
time (about a third of the JSON handling). Reconcile is one ``DELETE``.

``owner_key`` is the connection's id (:class:`~service.workflows.targets.DatabaseSyncTargets`
hands it out): its family, holder and visibility decide where accounts go, and an account
seen before in that family for that holder, under any connection, is recognised by its
provider id or ``match_key`` and keeps its row.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any
from uuid import UUID

from service.banking.errors import ReauthRequiredError
from service.banking.ingest_plan import (
    PENDING_TOLERANCE,
    StoredTransaction,
    plan_ingest,
)
from service.banking.ingestion import LinkedAccount
from service.banking.models import (
    DateWindow,
    ProviderAccount,
    ProviderBalance,
    ProviderTransaction,
    TransactionState,
)
from service.db.port import Database, Executor, Json, Row, SqlValue

#: Upper bound of one JSON chunk of rows (the Data API refuses requests over 4 MiB).
CHUNK_BYTES = 1_500_000

_ACCOUNT_TYPES = {"current", "savings", "credit_card", "loan", "other"}

_LOCK_ACCOUNT = """SELECT a.family_id FROM accounts a
    JOIN families f ON f.id = a.family_id AND f.deleted_at IS NULL
    WHERE a.id = :account_id FOR SHARE OF f"""

_WINDOW_ROWS = """SELECT id, provider_transaction_id, status, booked_on, amount_minor, currency,
           description, merchant, provider_category, fingerprint, pending_key, last_seen_run
    FROM transactions
    WHERE account_id = :account_id
      AND booked_on BETWEEN :earliest AND :end
      AND (status = 'pending' OR booked_on >= :start)"""

_RECORD = """r(pid text, state text, booked_on date, amount bigint, currency text,
               description text, merchant text, category text, fp text, pk text)"""

_INSERT = f"""INSERT INTO transactions (family_id, account_id, provider_transaction_id, status,
        booked_on, description, merchant, amount_minor, currency, provider_category,
        fingerprint, pending_key, last_seen_run)
    SELECT :family_id, :account_id, r.pid, r.state, r.booked_on, r.description, r.merchant,
           r.amount, r.currency, r.category, r.fp, r.pk, :run_id
    FROM json_to_recordset(CAST(:rows AS json)) AS {_RECORD}"""  # noqa: S608

_UPDATE = """UPDATE transactions t SET provider_transaction_id = r.pid, status = r.state,
        booked_on = r.booked_on, description = r.description, merchant = r.merchant,
        amount_minor = r.amount, currency = r.currency, provider_category = r.category,
        fingerprint = r.fp, pending_key = r.pk, last_seen_run = :run_id, updated_at = now()
    FROM json_to_recordset(CAST(:rows AS json))
         AS r(id uuid, pid text, state text, booked_on date, amount bigint, currency text,
              description text, merchant text, category text, fp text, pk text)
    WHERE t.id = r.id AND t.account_id = :account_id"""

_STAMP = """UPDATE transactions SET last_seen_run = :run_id
    WHERE account_id = :account_id
      AND id IN (SELECT CAST(value AS uuid) FROM json_array_elements_text(CAST(:ids AS json)))"""

_RECONCILE = """DELETE FROM transactions
    WHERE account_id = :account_id AND status = 'pending'
      AND booked_on BETWEEN :start AND :end
      AND last_seen_run IS DISTINCT FROM :run_id"""


def _stored(row: Row, account_id: str) -> StoredTransaction:
    return StoredTransaction(
        row_id=str(row["id"]),
        account_id=account_id,
        provider_transaction_id=row["provider_transaction_id"],
        state=TransactionState(row["status"]),
        booked_on=row["booked_on"],
        amount_minor=int(row["amount_minor"]),
        currency=row["currency"],
        description=row["description"],
        merchant_name=row["merchant"],
        category=row["provider_category"],
        fingerprint=row["fingerprint"] or "",
        pending_key=row["pending_key"] or "",
        last_seen_run=row["last_seen_run"],
    )


def _doc(row: StoredTransaction) -> dict[str, Any]:
    return {
        "pid": row.provider_transaction_id,
        "state": row.state.value,
        "booked_on": row.booked_on.isoformat(),
        "amount": row.amount_minor,
        "currency": row.currency,
        "description": row.description,
        "merchant": row.merchant_name,
        "category": row.category,
        "fp": row.fingerprint,
        "pk": row.pending_key,
    }


def json_chunks(
    docs: Iterable[object], *, max_bytes: int = CHUNK_BYTES, batch: int = 256
) -> Iterator[str]:
    """Split ``docs`` into JSON array texts of at most about ``max_bytes`` each.

    Each document is serialised once, here: the chunk travels as that text (cast to ``json``
    in SQL) instead of being measured and then serialised again by the adapter. Documents are
    encoded ``batch`` at a time (one call of the C encoder instead of one per document); a
    batch too large for one chunk is encoded again document by document, so the bound holds.
    """
    encode = _ENCODER.encode
    pending = iter(docs)
    parts: list[str] = []
    size = 2
    while group := list(islice(pending, batch)):
        text = encode(group)[1:-1]  # the documents, comma-separated, without the brackets
        pieces = [text] if len(text) + 2 <= max_bytes else [encode(doc) for doc in group]
        for piece in pieces:
            if parts and size + len(piece) + 1 > max_bytes:
                yield f"[{','.join(parts)}]"
                parts, size = [], 2
            parts.append(piece)
            size += len(piece) + 1
    if parts:
        yield f"[{','.join(parts)}]"


_ENCODER = json.JSONEncoder(separators=(",", ":"))


def _same(a: StoredTransaction, b: StoredTransaction) -> bool:
    return _doc(a) == _doc(b)


class DatabaseIngestion:
    """:class:`~service.banking.ingestion.IngestionPort` on the application database."""

    def __init__(self, database: Database) -> None:
        self._db = database

    # -- accounts ----------------------------------------------------------------------------
    def link_accounts(
        self, *, owner_key: str, provider: str, accounts: Sequence[ProviderAccount]
    ) -> dict[str, str]:
        """See :meth:`IngestionPort.link_accounts` (``owner_key``: the connection id)."""
        connection_id = _uuid(owner_key)
        with self._db.transaction() as tx:
            owner = tx.fetch_one(
                """SELECT c.family_id, c.created_by, c.visibility FROM connections c
                   JOIN families f ON f.id = c.family_id AND f.deleted_at IS NULL
                   WHERE c.id = :connection_id FOR SHARE OF f""",
                {"connection_id": connection_id},
            )
            if owner is None:
                raise ReauthRequiredError("the connection no longer exists")
            known = tx.fetch_all(
                """SELECT id, provider_account_id, match_key FROM accounts
                   WHERE family_id = :family_id AND holder_user_id = :holder
                     AND (provider = :provider OR provider IS NULL)""",
                {"family_id": owner["family_id"], "holder": owner["created_by"],
                 "provider": provider},
            )
            by_pid = {r["provider_account_id"]: r["id"] for r in known}
            by_key = {r["match_key"]: r["id"] for r in known if r["match_key"]}
            mapping: dict[str, str] = {}
            docs = []
            for acct in accounts:
                found = by_pid.get(acct.provider_account_id) or (
                    by_key.get(acct.match_key) if acct.match_key else None
                )
                docs.append(
                    {
                        "id": None if found is None else str(found),
                        "pid": acct.provider_account_id,
                        "name": (acct.display_name or acct.account_type)[:100],
                        "type": acct.account_type if acct.account_type in _ACCOUNT_TYPES
                        else "other",
                        "currency": acct.currency,
                        "match_key": acct.match_key,
                    }
                )
            if docs:
                rows = tx.fetch_all(
                    """WITH r AS (
                           SELECT * FROM jsonb_to_recordset(CAST(:docs AS jsonb))
                               AS r(id uuid, pid text, name text, type text, currency text,
                                    match_key text)),
                       updated AS (
                           UPDATE accounts a SET provider_account_id = r.pid,
                               connection_id = :connection_id, provider = :provider,
                               match_key = r.match_key, type = r.type, currency = r.currency
                           FROM r WHERE a.id = r.id AND a.family_id = :family_id
                           RETURNING a.id, a.provider_account_id),
                       inserted AS (
                           INSERT INTO accounts (family_id, connection_id, holder_user_id,
                               provider_account_id, name, type, currency, visibility,
                               provider, match_key)
                           SELECT :family_id, :connection_id, :holder, r.pid, r.name, r.type,
                                  r.currency, :visibility, :provider, r.match_key
                           FROM r WHERE r.id IS NULL
                           RETURNING id, provider_account_id)
                       SELECT * FROM updated UNION ALL SELECT * FROM inserted""",
                    {"docs": Json(docs), "connection_id": connection_id,
                     "provider": provider, "family_id": owner["family_id"],
                     "holder": owner["created_by"], "visibility": owner["visibility"]},
                )
                mapping = {r["provider_account_id"]: str(r["id"]) for r in rows}
            return mapping

    # -- balances ----------------------------------------------------------------------------
    def record_balance(self, *, account_id: str, balance: ProviderBalance) -> bool:
        """See :meth:`IngestionPort.record_balance`."""
        changed = self._db.execute(
            """INSERT INTO balances (account_id, family_id, as_of, amount_minor, currency,
                   available_minor)
               SELECT a.id, a.family_id, :as_of, :current, :currency, :available
               FROM accounts a JOIN families f ON f.id = a.family_id AND f.deleted_at IS NULL
               WHERE a.id = :account_id
               ON CONFLICT (account_id, as_of) DO NOTHING""",
            {"account_id": _uuid(account_id), "as_of": balance.as_of,
             "current": balance.current_minor, "currency": balance.currency,
             "available": balance.available_minor},
        )
        return changed == 1

    # -- transactions ------------------------------------------------------------------------
    def ingest_window(
        self,
        *,
        account_id: str,
        window: DateWindow,
        transactions: Sequence[ProviderTransaction],
        run_id: str,
    ) -> Counter[str]:
        """See :meth:`IngestionPort.ingest_window`: all of the window or nothing."""
        aid = _uuid(account_id)
        with self._db.transaction() as tx:
            family_id = self._lock(tx, aid)
            existing = [
                _stored(r, account_id)
                for r in tx.fetch_all(
                    _WINDOW_ROWS,
                    {"account_id": aid, "start": window.start, "end": window.end,
                     "earliest": window.start - PENDING_TOLERANCE},
                )
            ]
            plan = plan_ingest(
                account_id=account_id, existing=existing, incoming=transactions, run_id=run_id
            )
            before = {r.row_id: r for r in existing}
            changed: list[StoredTransaction] = []
            unchanged: list[str] = []
            for r in plan.updates:  # one comparison per row (a re-sync updates every row)
                if _same(r, before[r.row_id]):
                    unchanged.append(r.row_id)
                else:
                    changed.append(r)
            base: dict[str, SqlValue] = {"account_id": aid, "run_id": run_id,
                                         "family_id": family_id}
            # Generators: one chunk of JSON text exists at a time (worker memory).
            for chunk in json_chunks(_doc(r) for r in plan.inserts):
                tx.execute(_INSERT, {**base, "rows": chunk})
            for chunk in json_chunks({"id": r.row_id, **_doc(r)} for r in changed):
                tx.execute(_UPDATE, {**base, "rows": chunk})
            for ids in json_chunks(unchanged):
                tx.execute(_STAMP, {**base, "ids": ids})
            return plan.counts

    def reconcile_pending(self, *, account_id: str, window: DateWindow, run_id: str) -> int:
        """See :meth:`IngestionPort.reconcile_pending` (one ``DELETE``)."""
        return self._db.execute(
            _RECONCILE,
            {"account_id": _uuid(account_id), "start": window.start, "end": window.end,
             "run_id": run_id},
        )

    @staticmethod
    def _lock(tx: Executor, account_id: UUID) -> UUID:
        row = tx.fetch_one(_LOCK_ACCOUNT, {"account_id": account_id})
        if row is None:
            raise ReauthRequiredError("the account or its family no longer exists")
        family_id: UUID = row["family_id"]
        return family_id

    # -- reads for tests and tools -----------------------------------------------------------
    def transactions(self, account_id: str | None = None) -> list[StoredTransaction]:
        """Stored transactions (of one account), by date then provider id."""
        rows = self._db.fetch_all(
            """SELECT id, account_id, provider_transaction_id, status, booked_on, amount_minor,
                      currency, description, merchant, provider_category, fingerprint,
                      pending_key, last_seen_run
               FROM transactions
               WHERE CAST(:account_id AS uuid) IS NULL OR account_id = CAST(:account_id AS uuid)
               ORDER BY booked_on, provider_transaction_id""",
            {"account_id": None if account_id is None else _uuid(account_id)},
        )
        return [_stored(r, str(r["account_id"])) for r in rows]

    def accounts(self) -> list[LinkedAccount]:
        """Every stored account (bank identifiers are not stored, only their digest)."""
        rows = self._db.fetch_all(
            """SELECT id, connection_id, provider, provider_account_id, match_key, type,
                      currency, name FROM accounts ORDER BY created_at, id"""
        )
        return [
            LinkedAccount(
                account_id=str(r["id"]),
                owner_key=str(r["connection_id"]),
                provider=r["provider"] or "",
                provider_account_id=r["provider_account_id"],
                match_key=r["match_key"],
                account=ProviderAccount(
                    r["provider_account_id"], r["type"], r["currency"], r["name"]
                ),
            )
            for r in rows
        ]


def _uuid(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise ReauthRequiredError(f"{value!r} is not a stored id") from None


__all__ = ["CHUNK_BYTES", "DatabaseIngestion", "json_chunks"]

