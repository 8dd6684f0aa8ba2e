"""The ingestion contract: by provider id and fingerprint, no duplicate, no loss, pending
replaced by booked.

Every test takes a fresh store from ``make_store``: the in-memory one, and the database adapter
on real PostgreSQL through psycopg and through the Data API (boto3 against the local Data API),
each on a fresh migrated database (a store also offers ``transactions()`` and ``accounts()``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.banking import DateWindow, ProviderAccount, ProviderTransaction, TransactionState
from service.banking.ingestion import InMemoryIngestion
from tests.banking.db_store import ContractDbStore

STORES = ["memory", "postgres", "data_api"]


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest):
    if request.param == "memory":
        return InMemoryIngestion
    app_db = request.getfixturevalue(f"app_{request.param}_db")
    owner_db = request.getfixturevalue("owner_postgres_db")
    stores: list[ContractDbStore] = []

    def make() -> ContractDbStore:
        # Hypothesis calls this once per example on the same database: start empty.
        store = ContractDbStore(app_db, owner_db)
        store.reset()
        stores.append(store)
        return store

    return make


W = DateWindow(date(2026, 11, 1), date(2026, 11, 30))
B, P = TransactionState.BOOKED, TransactionState.PENDING


def txn(
    pid: str, day: int, pence: int, text: str = "CARD PAYMENT TO CAFE", state: TransactionState = B
) -> ProviderTransaction:
    return ProviderTransaction(pid, "acc", state, date(2026, 11, day), pence, "GBP", text)


def contents(ing: InMemoryIngestion) -> Counter[tuple]:
    return Counter(
        (r.state, r.booked_on, r.amount_minor, r.description) for r in ing.transactions()
    )


def test_first_ingest_inserts_and_rerun_changes_nothing(make_store) -> None:
    ing = make_store()
    batch = [txn("a", 1, -250), txn("b", 1, -250), txn("c", 2, 10000, "SALARY")]
    assert (
        ing.ingest_window(account_id="x", window=W, transactions=batch, run_id="r1")["inserted"]
        == 3
    )
    rows = {r.row_id for r in ing.transactions()}
    counts = ing.ingest_window(account_id="x", window=W, transactions=batch, run_id="r2")
    assert counts == Counter(unchanged=3)
    assert {r.row_id for r in ing.transactions()} == rows


def test_changed_id_is_remapped_not_duplicated(make_store) -> None:
    ing = make_store()
    ing.ingest_window(account_id="x", window=W, transactions=[txn("a", 1, -999)], run_id="r1")
    row = ing.transactions()[0]
    counts = ing.ingest_window(
        account_id="x", window=W, transactions=[txn("a2", 1, -999)], run_id="r2"
    )
    assert counts == Counter(changed_id=1)
    (after,) = ing.transactions()
    assert (after.row_id, after.provider_transaction_id) == (row.row_id, "a2")


def test_identical_twins_where_only_one_id_changes(make_store) -> None:
    ing = make_store()
    ing.ingest_window(
        account_id="x", window=W, transactions=[txn("m1", 3, -250), txn("z1", 3, -250)], run_id="r1"
    )
    # z1 becomes a0, which sorts before m1: repeat numbers shift, still two rows.
    ing.ingest_window(
        account_id="x", window=W, transactions=[txn("m1", 3, -250), txn("a0", 3, -250)], run_id="r2"
    )
    assert sorted(r.provider_transaction_id for r in ing.transactions()) == ["a0", "m1"]


def test_pending_replaced_by_booked_under_a_new_id(make_store) -> None:
    ing = make_store()
    ing.ingest_window(
        account_id="x", window=W, transactions=[txn("p1", 10, -1599, state=P)], run_id="r1"
    )
    pending_row = ing.transactions()[0]
    counts = ing.ingest_window(
        account_id="x", window=W, transactions=[txn("b1", 12, -1599)], run_id="r2"
    )
    assert counts == Counter(pending_booked=1)
    (row,) = ing.transactions()
    assert (row.row_id, row.state, row.booked_on) == (pending_row.row_id, B, date(2026, 11, 12))


def test_pending_booked_under_the_same_id(make_store) -> None:
    ing = make_store()
    ing.ingest_window(
        account_id="x", window=W, transactions=[txn("t", 10, -5, state=P)], run_id="r1"
    )
    counts = ing.ingest_window(
        account_id="x", window=W, transactions=[txn("t", 11, -5)], run_id="r2"
    )
    assert counts == Counter(pending_booked=1) and len(ing.transactions()) == 1


def test_pending_outside_the_tolerance_is_not_matched_and_vanishes_on_reconcile(make_store) -> None:
    ing = make_store()
    ing.ingest_window(
        account_id="x", window=W, transactions=[txn("p1", 1, -700, state=P)], run_id="r1"
    )
    ing.ingest_window(account_id="x", window=W, transactions=[txn("b1", 20, -700)], run_id="r2")
    assert len(ing.transactions()) == 2
    assert ing.reconcile_pending(account_id="x", window=W, run_id="r2") == 1
    assert [r.state for r in ing.transactions()] == [B]


def test_declined_authorisation_disappears_but_seen_pending_stays(make_store) -> None:
    ing = make_store()
    batch = [txn("p1", 5, -100, "A", P), txn("p2", 5, -200, "B", P)]
    ing.ingest_window(account_id="x", window=W, transactions=batch, run_id="r1")
    ing.ingest_window(account_id="x", window=W, transactions=batch[:1], run_id="r2")
    assert ing.reconcile_pending(account_id="x", window=W, run_id="r2") == 1
    assert [r.provider_transaction_id for r in ing.transactions()] == ["p1"]


def test_repeated_transaction_across_pages_is_counted_once(make_store) -> None:
    ing = make_store()
    counts = ing.ingest_window(
        account_id="x", window=W, transactions=[txn("a", 1, -1), txn("a", 1, -1)], run_id="r1"
    )
    assert counts == Counter(inserted=1)


def test_accounts_of_a_fresh_connection_link_to_the_same_ids(make_store) -> None:
    ing = make_store()
    first = ProviderAccount(
        "p-1", "current", "GBP", "Current", sort_code="185279", account_number="12345678"
    )
    ids = ing.link_accounts(owner_key="fam", provider="truelayer", accounts=[first])
    again = ing.link_accounts(
        owner_key="fam", provider="truelayer", accounts=[replace(first, provider_account_id="p-2")]
    )
    assert again["p-2"] == ids["p-1"] and len(ing.accounts()) == 1
    other = ing.link_accounts(owner_key="other-family", provider="truelayer", accounts=[first])
    assert other["p-1"] != ids["p-1"]  # never linked across owners


contents_st = st.lists(
    st.tuples(st.integers(1, 5), st.sampled_from([-250, -999, 1200]), st.sampled_from(["A", "B"])),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    items=contents_st,
    changed=st.lists(st.booleans(), min_size=25, max_size=25),
    seed=st.integers(0, 9),
)
def test_any_id_changes_keep_every_transaction_exactly_once(
    make_store, items, changed, seed
) -> None:
    ing = make_store()
    first = [txn(f"id{seed}-{i}", d, p, t) for i, (d, p, t) in enumerate(items)]
    ing.ingest_window(account_id="x", window=W, transactions=first, run_id="r1")
    second = [
        replace(t, provider_transaction_id=f"new{seed}-{i}") if changed[i] else t
        for i, t in enumerate(first)
    ]
    ing.ingest_window(account_id="x", window=W, transactions=second, run_id="r2")
    assert contents(ing) == Counter((B, t.booked_on, t.amount_minor, t.description) for t in first)
    assert {r.provider_transaction_id for r in ing.transactions()} == {
        t.provider_transaction_id for t in second
    }


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=contents_st, lag=st.integers(0, 7))
def test_every_pending_books_into_its_own_row(make_store, items, lag) -> None:
    ing = make_store()
    pend = [txn(f"p{i}", d, p, t, P) for i, (d, p, t) in enumerate(items)]
    ing.ingest_window(account_id="x", window=W, transactions=pend, run_id="r1")
    booked = [txn(f"b{i}", d + lag, p, t) for i, (d, p, t) in enumerate(items)]
    counts = ing.ingest_window(account_id="x", window=W, transactions=booked, run_id="r2")
    assert counts == Counter(pending_booked=len(items))
    assert ing.reconcile_pending(account_id="x", window=W, run_id="r2") == 0
    assert contents(ing) == Counter((B, t.booked_on, t.amount_minor, t.description) for t in booked)
