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


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# The keys digest their parts joined by the unit separator (0x1F). Stored fingerprints depend
# on these exact bytes: tests/banking/test_fingerprint.py pins them.
def content_key(txn: ProviderTransaction) -> str:
    """Digest of what the transaction is, independent of its provider id."""
    return _digest(
        f"{txn.booked_on.isoformat()}\x1f{txn.amount_minor}\x1f{txn.currency}"
        f"\x1f{normalise_description(txn.description)}"
    )


def pending_match_key(txn: ProviderTransaction) -> str:
    """Digest a pending transaction shares with the booked one it becomes (no date)."""
    return _digest(
        f"{txn.amount_minor}\x1f{txn.currency}\x1f{normalise_description(txn.description)}"
    )


def fingerprints(transactions: Iterable[ProviderTransaction]) -> list[str]:
    """``content_key#n`` for each transaction, ``n`` counting repeats of the same content.

    Repeats are numbered in the order of their provider ids so that a re-read of the same
    window numbers them the same way while the ids are stable; if ids change, identical
    transactions may swap numbers, which is harmless because their content is identical.
    """
    txns = list(transactions)
    keys = [content_key(t) for t in txns]
    result = [f"{key}#0" for key in keys]
    # Most content is unique: only keys seen more than once need their ids ordered.
    repeated = {key for key, n in Counter(keys).items() if n > 1}
    if repeated:
        groups: dict[str, list[tuple[str, int]]] = {}
        for i, key in enumerate(keys):
            if key in repeated:
                groups.setdefault(key, []).append((txns[i].provider_transaction_id, i))
        for key, members in groups.items():
            for n, (_, i) in enumerate(sorted(members)):
                result[i] = f"{key}#{n}"
    return result
