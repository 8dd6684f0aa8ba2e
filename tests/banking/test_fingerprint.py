"""The content keys are stored with every transaction: their bytes must never change."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from service.banking.fingerprint import (
    content_key,
    fingerprints,
    normalise_description,
    pending_match_key,
)
from service.banking.models import ProviderTransaction, TransactionState


def _txn(
    pid: str, day: date, pence: int, text: str, *, pending: bool = False
) -> ProviderTransaction:
    state = TransactionState.PENDING if pending else TransactionState.BOOKED
    return ProviderTransaction(pid, "acc", state, day, pence, "GBP", text)


def test_keys_are_the_stored_ones() -> None:
    # Values computed by the first implementation; a change here re-keys every stored row.
    txns = [
        _txn("b", date(2026, 11, 1), -250, "Costa  Coffee!"),
        _txn("a", date(2026, 11, 1), -250, "COSTA coffee"),
        _txn("c", date(2026, 11, 2), 120000, "Salary ACME Ltd", pending=True),
    ]
    assert fingerprints(txns) == [
        "9ed226c544ac33db496c810b9c0c52eb#1",
        "9ed226c544ac33db496c810b9c0c52eb#0",
        "10b27c38fa727a3fa884aa6d04bdbcba#0",
    ]
    assert [pending_match_key(t) for t in txns] == [
        "0b918bc3a58bcf7e8acaeffaa506299a",
        "0b918bc3a58bcf7e8acaeffaa506299a",
        "c145aa9f257a5db72fd833638e0fb030",
    ]


def _reference_digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]


def _reference_fingerprints(txns: list[ProviderTransaction]) -> list[str]:
    """The first implementation: every key numbered in (key, provider id) order."""
    keys = [
        _reference_digest(t.booked_on.isoformat(), t.amount_minor, t.currency,
                          normalise_description(t.description))
        for t in txns
    ]
    order = sorted(range(len(txns)), key=lambda i: (keys[i], txns[i].provider_transaction_id))
    seen: Counter[str] = Counter()
    result = [""] * len(txns)
    for i in order:
        result[i] = f"{keys[i]}#{seen[keys[i]]}"
        seen[keys[i]] += 1
    return result


_TXNS = st.lists(
    st.builds(
        _txn,
        st.text("abcdef", min_size=1, max_size=3),
        st.dates(date(2026, 1, 1), date(2026, 1, 3)),
        st.integers(-300, 300),
        st.sampled_from(["Coffee", "coffee!", "Rent", "Café  Nero", ""]),
    ),
    max_size=40,
)


@given(_TXNS)
def test_keys_match_the_first_implementation(txns: list[ProviderTransaction]) -> None:
    assert fingerprints(txns) == _reference_fingerprints(txns)
    for t in txns:
        assert content_key(t) == _reference_digest(
            t.booked_on.isoformat(), t.amount_minor, t.currency,
            normalise_description(t.description))
        assert pending_match_key(t) == _reference_digest(
            t.amount_minor, t.currency, normalise_description(t.description))
