"""The product's post-sync refresh on PostgreSQL for a family with five years of history.

Run: ``.venv/bin/python bench/bench_insights_refresh.py``. Seeds a generated household
(~20k transactions over its accounts) into a fresh database on the embedded PostgreSQL, as
the owner role through the project's repositories, then prints medians of several runs:

- first: every transaction uncategorised and no series stored (a first sync): everything is
  written;
- re-run: the same refresh again (a retried step): nothing is written;
- daily sync: a few dozen new transactions, then the refresh;
- baseline: the offline core alone (categorise + detect over the same rows, in memory),
  measured in the same process, so the ratios show what reading and writing costs.

Asserts nothing.
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devtools.embedded import (  # noqa: E402
    create_database,
    drop_database,
    embedded_postgres_url,
    with_database,
)
from devtools.households import HouseholdProfile, generate_household  # noqa: E402
from devtools.households.export import to_transaction  # noqa: E402
from devtools.households.model import HouseholdTransaction  # noqa: E402
from service.audit import AuditKeys, AuditSigner  # noqa: E402
from service.db.migrations import upgrade  # noqa: E402
from service.db.postgres import PostgresDatabase  # noqa: E402
from service.domain.models import AccountType, TransactionStatus, Visibility  # noqa: E402
from service.domain.money import to_minor  # noqa: E402
from service.domain.principal import Principal  # noqa: E402
from service.insights import categorise, detect_recurring  # noqa: E402
from service.repositories import accounts, users  # noqa: E402
from service.repositories import transactions as tx_repo  # noqa: E402
from service.repositories.transactions import NewTransaction  # noqa: E402
from service.use_cases.insights import refresh_after_sync  # noqa: E402

RUNS = 5
START, END = date(2021, 1, 1), date(2025, 12, 31)
PROFILE = HouseholdProfile(adults=2, children=2, has_car=True, has_credit_card=True,
                           subscriptions=6, spend_scale=9.0, pending_days=0)
_TYPES = {"current": AccountType.CURRENT, "savings": AccountType.SAVINGS,
          "credit_card": AccountType.CREDIT_CARD}
SYNC_DAYS = 3


def median_ms(fn: Callable[[], object], *, before: Callable[[], object] | None = None) -> float:
    """Median wall time of ``fn`` over RUNS runs (``before`` runs untimed ahead of each)."""
    samples = []
    for _ in range(RUNS):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def seed(db: PostgresDatabase, cut: date
         ) -> tuple[uuid.UUID, list[uuid.UUID], list[tuple[uuid.UUID, NewTransaction]]]:
    """The household up to ``cut`` in the database; returns family, accounts, later rows."""
    from service.use_cases.families import create_family  # noqa: PLC0415

    owner = Principal(issuer="bench", subject="owner", email="bench.owner@example.com")
    family = create_family(db, AuditSigner(AuditKeys.generate()), owner, name="Bench")
    household = generate_household(2024, start=START, end=END, profile=PROFILE)
    later: list[tuple[uuid.UUID, NewTransaction]] = []
    ids: dict[str, uuid.UUID] = {}
    with db.transaction() as tx:
        holder = users.ensure_user(tx, owner)
        for account in household.accounts:
            ids[account.id] = accounts.insert_account(
                tx, family_id=family.id, holder_user_id=holder.id, connection_id=None,
                provider_account_id=account.id, name=account.display_name[:100],
                type_=_TYPES.get(str(account.type), AccountType.OTHER),
                currency=account.currency, visibility=Visibility.FAMILY).id
        for account in household.accounts:
            rows = [new_row(t) for t in household.transactions_of(account.id) if not t.pending]
            tx_repo.insert_transactions(tx, family.id, ids[account.id],
                                        [r for r in rows if r.booked_on <= cut])
            later += [(ids[account.id], r) for r in rows if r.booked_on > cut]
    return family.id, list(ids.values()), later


def new_row(t: HouseholdTransaction) -> NewTransaction:
    """A generated transaction as the sync ingests it (the provider's category kept raw)."""
    return NewTransaction(
        provider_transaction_id=t.id, status=TransactionStatus.BOOKED, booked_on=t.booked,
        booked_at=None, description=t.description, merchant=t.merchant_name,
        amount_minor=to_minor(t.amount, t.currency), currency=t.currency,
        category=t.transaction_category)


def main() -> None:
    admin_url = embedded_postgres_url(ROOT / ".cache" / "bench-pg")
    name = create_database(admin_url, "bench")
    try:
        run(PostgresDatabase(with_database(admin_url, name)))
    finally:
        drop_database(admin_url, name)


def run(db: PostgresDatabase) -> None:
    upgrade(db)
    cut = END - timedelta(days=RUNS * SYNC_DAYS + 1)
    family, account_ids, later = seed(db, cut)
    count = int(db.fetch_one("SELECT count(*) AS n FROM transactions")["n"])  # type: ignore[index]

    def reset() -> None:
        db.execute("UPDATE transactions SET category_id = NULL, category_source = NULL, "
                   "category_confidence = NULL")
        db.execute("DELETE FROM recurring_series")

    def refresh(as_of: date = cut) -> object:
        return refresh_after_sync(db, family_id=family, account_ids=account_ids, as_of=as_of)

    first = median_ms(refresh, before=reset)
    refresh()
    rerun = median_ms(refresh)
    rows = db.fetch_all("SELECT t.id, t.booked_on FROM transactions t")
    assert len(rows) == count

    household = generate_household(2024, start=START, end=END, profile=PROFILE)
    offline = [to_transaction(t) for t in household.transactions
               if not t.pending and t.booked <= cut]

    def core() -> None:
        categorise(offline)
        detect_recurring(offline, as_of=cut)

    baseline = median_ms(core)

    days = sorted({r.booked_on for _, r in later})
    samples = []
    for n in range(RUNS):
        window = days[n * SYNC_DAYS:(n + 1) * SYNC_DAYS]
        batch = [(a, r) for a, r in later if r.booked_on in window]
        with db.transaction() as tx:
            for account_id in {a for a, _ in batch}:
                tx_repo.insert_transactions(tx, family, account_id,
                                            [r for a, r in batch if a == account_id])
        start = time.perf_counter()
        refresh(window[-1])
        samples.append(((time.perf_counter() - start) * 1000, len(batch)))
    daily = statistics.median(ms for ms, _ in samples)
    new_rows = statistics.median(n for _, n in samples)
    print(f"family with {count} transactions (PostgreSQL adapter), median of {RUNS} runs")
    print(f"refresh, first sync (writes all)   : {first:8.1f} ms")
    print(f"refresh, re-run (writes nothing)   : {rerun:8.1f} ms")
    print(f"refresh, daily sync (~{new_rows:.0f} new rows): {daily:8.1f} ms")
    print(f"baseline: offline core alone       : {baseline:8.1f} ms")
    print(f"ratios: first/core {first / baseline:.1f}x, re-run/core {rerun / baseline:.1f}x, "
          f"daily/core {daily / baseline:.1f}x")
    db.close()


if __name__ == "__main__":
    main()
