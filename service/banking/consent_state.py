"""The ``state`` that binds a bank consent journey to the user and family who started it.

The browser carries no bearer token back from the bank, so the callback is authorised by the
``state`` alone. It is therefore a 256-bit random value, single use and short-lived, and only
its SHA-256 digest is stored (a database read cannot replay a journey). The store keeps
``(digest, family, user, provider connection id, expires_at, used_at)``; the callback looks the
row up by :func:`state_digest` and claims it atomically (``used_at IS NULL``) before anything
else — that part belongs to the connection repository.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

STATE_LIFETIME = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class IssuedState:
    """A fresh state: ``value`` goes to the provider, ``digest`` and ``expires_at`` are stored."""

    value: str
    digest: str
    expires_at: datetime


def state_digest(value: str) -> str:
    """The stored form of a state value."""
    return hashlib.sha256(value.encode()).hexdigest()


def issue_state(now: datetime, *, lifetime: timedelta = STATE_LIFETIME) -> IssuedState:
    """A new single-use state valid for ``lifetime`` from ``now``."""
    value = secrets.token_urlsafe(32)
    return IssuedState(value=value, digest=state_digest(value), expires_at=now + lifetime)


def state_matches(
    presented: str, *, digest: str, expires_at: datetime, used: bool, now: datetime
) -> bool:
    """Whether ``presented`` is the stored, unused, unexpired state (constant-time compare)."""
    if used or now >= expires_at or not presented or len(presented) > 256:
        return False
    return hmac.compare_digest(state_digest(presented), digest)
