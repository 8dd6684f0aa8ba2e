"""Data retention: what the daily ``retention`` action deletes, and nothing else.

* Chat conversations past their retention (and their messages, through the foreign key),
  with quota days older than yesterday: :func:`service.use_cases.chat.purge_expired_conversations`.
* Processed webhooks' event ids older than
  :data:`~service.webhooks.retention.EVENT_ID_RETENTION`: long past the verifier's replay
  window, so a replay of a pruned id is refused as stale (:mod:`service.webhooks.retention`).

Each batch is its own statement (its own transaction): a run cut short keeps what it deleted
and the next run carries on. Both are idempotent and safe beside live traffic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from service.db.port import Database
from service.repositories import webhook_events as repo
from service.use_cases.chat import purge_expired_conversations
from service.webhooks.retention import (
    DEFAULT_MAX_AGE,
    DEFAULT_MAX_FUTURE_SKEW,
    EVENT_ID_RETENTION,
    check_window,
)

WEBHOOK_PRUNE_BATCH = 1000
"""Event ids deleted per statement: each batch holds its row locks briefly."""


@dataclass(frozen=True, slots=True)
class RetentionResult:
    """What one retention run deleted."""

    conversations_purged: int
    webhook_events_pruned: int

    def counts(self) -> dict[str, int]:
        """The worker's answer: ``{"conversations_purged", "webhook_events_pruned"}``."""
        return {"conversations_purged": self.conversations_purged,
                "webhook_events_pruned": self.webhook_events_pruned}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def prune_webhook_events(
    db: Database,
    *,
    max_age: timedelta = DEFAULT_MAX_AGE,
    max_future_skew: timedelta = DEFAULT_MAX_FUTURE_SKEW,
    batch: int = WEBHOOK_PRUNE_BATCH,
    clock: Callable[[], datetime] = _utc_now,
) -> int:
    """Delete every event id received more than :data:`EVENT_ID_RETENTION` ago, ``batch`` at
    a time (idempotent); the number deleted.

    ``max_age``/``max_future_skew``: the verifier's window (``Settings.webhook_max_age_seconds``).

    Raises
    ------
    ValueError
        ``batch`` is not positive, or the window reaches the retention (nothing is deleted).
    """
    if batch < 1:
        raise ValueError("batch must be >= 1")
    check_window(max_age, max_future_skew)
    cutoff = clock() - EVENT_ID_RETENTION
    total = 0
    while True:
        deleted = repo.prune_received_before(db, cutoff, limit=batch)
        total += deleted
        if deleted < batch:
            return total


def run_retention(
    db: Database, *, webhook_max_age: timedelta = DEFAULT_MAX_AGE,
    clock: Callable[[], datetime] = _utc_now,
) -> RetentionResult:
    """Purge expired conversations, then prune old webhook event ids."""
    return RetentionResult(
        conversations_purged=purge_expired_conversations(db),
        webhook_events_pruned=prune_webhook_events(db, max_age=webhook_max_age, clock=clock),
    )
