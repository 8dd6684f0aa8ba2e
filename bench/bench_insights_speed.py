"""Speed and memory of money insights for a family with five years of history (~20k rows).

Run: ``.venv/bin/python bench/bench_insights_speed.py``. Prints medians of several runs and
ratios against naive baselines measured in the same process; asserts nothing.

- full: categorise every transaction and detect recurring series from scratch, with every
  cache cleared first (a cold Lambda invocation); memory is the tracemalloc peak of that run;
- incremental: after a daily sync of a few dozen new transactions, categorise only those and
  re-detect only the merchants they touch (:class:`RecurringIndex`), then compute series;
- baselines: a naive categoriser (a substring scan of every built-in alias and keyword per
  transaction, no caches) and naive re-detection (everything from scratch after each sync).
"""

from __future__ import annotations

import gc
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devtools.households import HouseholdProfile, generate_household  # noqa: E402
from devtools.households.export import to_transaction  # noqa: E402
from service.insights import categorisation as categorise_module  # noqa: E402
from service.insights import normalise, schedule  # noqa: E402
from service.insights.categorisation import Categoriser  # noqa: E402
from service.insights.knowledge import KEYWORDS, MERCHANTS  # noqa: E402
from service.insights.model import Transaction  # noqa: E402
from service.insights.recurring import RecurringIndex, detect_recurring  # noqa: E402

RUNS = 7
START, END = date(2021, 1, 1), date(2025, 12, 31)
PROFILE = HouseholdProfile(
    adults=2,
    children=2,
    has_car=True,
    has_credit_card=True,
    subscriptions=6,
    spend_scale=9.0,
    pending_days=0,
)
SYNC_DAYS = 3  # a daily sync re-reads a few days: late bookings land after their date


def clear_caches() -> None:
    """Forget every memoised normalisation, lookup and calendar date (a cold start)."""
    normalise.normalise_merchant.cache_clear()
    categorise_module.known_merchant.cache_clear()
    categorise_module.keyword_category.cache_clear()
    schedule._month_ordinal.cache_clear()
    schedule._interval_ordinal.cache_clear()
    schedule._shifted.cache_clear()


def median_ms(fn: Callable[[], object], *, setup: Callable[[], object] | None = None) -> float:
    samples = []
    for _ in range(RUNS):
        if setup is not None:
            setup()
        gc.collect()
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


_PHRASES = [(p, c) for table in (MERCHANTS, KEYWORDS) for c, ps in table.items() for p in ps]


def naive_categorise(transactions: Sequence[Transaction]) -> list[str]:
    """The obvious first version: lower-case the text and scan every phrase for each row."""
    out = []
    for txn in transactions:
        text = f"{txn.merchant_name or ''} {txn.description}".lower()
        out.append(next((c for p, c in _PHRASES if p in text), "other"))
    return out


def full_run(transactions: Sequence[Transaction]) -> None:
    Categoriser().categorise_all(transactions)
    detect_recurring(transactions, as_of=END)


def main() -> None:
    household = generate_household(2024, start=START, end=END, profile=PROFILE)
    transactions = [to_transaction(t) for t in household.transactions if not t.pending]
    cutoff = END - timedelta(days=SYNC_DAYS)
    history = [t for t in transactions if t.booked <= cutoff]
    synced = [t for t in transactions if t.booked > cutoff]
    print(
        f"family: {len(transactions)} booked transactions over {START.year}-{END.year}, "
        f"daily sync of {len(synced)}; {RUNS} runs, medians"
    )

    full = median_ms(lambda: full_run(transactions), setup=clear_caches)
    warm = median_ms(lambda: full_run(transactions))
    categorise_only = median_ms(
        lambda: Categoriser().categorise_all(transactions), setup=clear_caches
    )
    naive_cat = median_ms(lambda: naive_categorise(transactions))
    clear_caches()
    tracemalloc.start()
    full_run(transactions)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"full categorise + detect, cold caches: {full:.0f} ms (warm caches: {warm:.0f} ms)")
    print(
        f"  of which categorise: {categorise_only:.0f} ms; naive categoriser: "
        f"{naive_cat:.0f} ms ({naive_cat / categorise_only:.1f}x ours)"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  memory: tracemalloc peak of the run {peak / 2**20:.1f} MiB; whole process max RSS "
        f"{rss:.0f} MiB (interpreter, generator and the data included)"
    )

    indexes: list[RecurringIndex] = []

    def build() -> None:
        index = RecurringIndex()
        index.add(history)
        indexes.append(index)

    def incremental() -> None:
        index = indexes[-1]
        Categoriser().categorise_all(synced)
        index.add(synced)
        index.series(as_of=END)

    def naive_incremental() -> None:
        Categoriser().categorise_all(transactions)
        detect_recurring(transactions, as_of=END)

    inc = median_ms(incremental, setup=build)
    base = median_ms(naive_incremental)
    touched = len(indexes[-1].add(synced))  # idempotent: nothing new, nothing touched
    print(
        f"incremental re-detection after the sync: {inc:.1f} ms; naive full re-run: "
        f"{base:.0f} ms ({base / inc:.0f}x); re-adding the same sync touches {touched} groups"
    )


if __name__ == "__main__":
    main()
