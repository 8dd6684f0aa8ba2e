"""Content keys that recognise a transaction whatever id the provider gives it.

Two keys, because the two problems differ:

Both are computed within one account (the caller groups by account), so the provider's account
id is not part of them: a reconnection that renames accounts keeps every key.

* ``content_key`` (booking date, signed amount, currency, normalised description) is
  how a *booked* transaction whose provider id changed between requests is recognised (TrueLayer
  documents that ``transaction_id`` may change). Genuinely identical transactions on one day
  (two £2.50 coffees) share it, so :func:`fingerprints` appends an occurrence number counted
  over a whole fetched window: the window always covers whole days, so the count is stable.
* ``pending_match_key`` leaves the date out: a card payment is often pending on the day of the
  purchase and booked a day or more later, under a new id.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from service.banking.models import ProviderTransaction

_NOISE = re.compile(r"[^0-9A-Z]+")


@lru_cache(maxsize=65536)  # descriptions repeat (every salary, every subscription)
def normalise_description(text: str) -> str:
    """Upper-case alphanumerics separated by single spaces (punctuation and spacing vary)."""
    return " ".join(_NOISE.sub(" ", text.upper()).split())


def _digest(*parts: object) -> str:
    # The parts joined by the unit separator: an f-string per call site would be faster but
    # must stay byte-identical to this (stored fingerprints depend on it); see content_key.
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]


def content_key(txn: ProviderTransaction) -> str:
    """Digest of what the transaction is, independent of its provider id."""
    return _digest(
        txn.booked_on.isoformat(),
        txn.amount_minor,
        txn.currency,
        normalise_description(txn.description),
    )


def pending_match_key(txn: ProviderTransaction) -> str:
    """Digest a pending transaction shares with the booked one it becomes (no date)."""
    return _digest(
        txn.amount_minor,
        txn.currency,
        normalise_description(txn.description),
    )


def fingerprints(transactions: Iterable[ProviderTransaction]) -> list[str]:
    """``content_key#n`` for each transaction, ``n`` counting repeats of the same content.

    Repeats are numbered in the order of their provider ids so that a re-read of the same
    window numbers them the same way while the ids are stable; if ids change, identical
    transactions may swap numbers, which is harmless because their content is identical.
    """
    txns = list(transactions)
    keys = [content_key(t) for t in txns]
    order = sorted(range(len(txns)), key=lambda i: (keys[i], txns[i].provider_transaction_id))
    seen: Counter[str] = Counter()
    result = [""] * len(txns)
    for i in order:
        result[i] = f"{keys[i]}#{seen[keys[i]]}"
        seen[keys[i]] += 1
    return result
