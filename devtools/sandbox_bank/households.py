"""The sandbox bank's data source: the labelled household generator behind a small seam.

The bank only needs accounts and transactions of one household up to a day; keeping that
behind :func:`household_until` means a different generator is a one-function change.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from devtools.households import Household, generate_household

HISTORY_DAYS = 730


@lru_cache(maxsize=32)
def household_until(seed: int, start: date, today: date) -> Household:
    """The household of ``seed`` from ``start`` up to ``today`` (the last days still pending).

    ``start`` must stay fixed for one bank (the generator draws from it), so the bank anchors it
    once, :data:`HISTORY_DAYS` before its first day.

    The generator is append-only in time: a later ``today`` keeps every earlier transaction, and
    what was pending books under the same household id, which the bank then serves under a
    different provider id (see :mod:`devtools.sandbox_bank.models`).
    """
    return generate_household(seed, start=start, end=max(today, start))
