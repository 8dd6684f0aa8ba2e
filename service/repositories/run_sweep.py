"""The runs the sweep (:mod:`service.workflows.sweep`) looks after, found under row locks.

Two kinds, both of one workflow, both in the caller's open transaction:

* **abandoned** (:func:`lock_abandoned`): ``pending`` or ``running`` and its record unchanged
  (``updated_at``, moved by every save and every claim) for longer than the lease. A bounded
  batch is locked ``FOR UPDATE SKIP LOCKED``: a run some other transaction is writing is
  alive by definition, and two sweeps never take the same run. The sweep then fails each one
  through :class:`~service.repositories.sync_runs.DatabaseRunStore`, so the connection's
  bookkeeping is the one every failure gets.
* **due** (:func:`claim_due_run`): ``deferred`` with its ``resume_at`` passed, which no webhook
  resumed. One run is claimed per call, exactly as a webhook claims one
  (:mod:`service.repositories.waiting_runs`): moved to ``running`` with ``resume_at`` kept (it
  names the deferral the execution resumes, so a webhook and a sweep racing start one
  execution), skipping a run whose row another transaction holds. The caller schedules the
  execution before its commit; rolling back undoes the claim.

Times are the database's (``now()``), the clock ``updated_at`` is written with.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from service.db.port import Executor, Json


@dataclass(frozen=True, slots=True)
class AbandonedRun:
    """A run locked for the sweep, and when its record last moved."""

    run_id: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DueRun:
    """A deferred run this transaction claimed, and the deferral it resumes from."""

    run_id: str
    resume_at: datetime


_ABANDONED = """SELECT id, updated_at FROM sync_runs
    WHERE workflow = :workflow AND status IN ('pending', 'running')
      AND updated_at < now() - make_interval(secs => CAST(:lease_seconds AS double precision))
    ORDER BY updated_at
    LIMIT :limit
    FOR UPDATE SKIP LOCKED"""

_CLAIM_DUE = """WITH due AS (
        SELECT id FROM sync_runs
        WHERE workflow = :workflow AND status = 'deferred' AND resume_at <= now()
          AND CAST(id AS text) NOT IN (
              SELECT jsonb_array_elements_text(CAST(:exclude AS jsonb)))
        ORDER BY resume_at
        LIMIT 1
        FOR UPDATE SKIP LOCKED)
    UPDATE sync_runs r SET status = 'running', updated_at = now()
    FROM due WHERE r.id = due.id
    RETURNING r.id, r.resume_at"""


def lock_abandoned(
    tx: Executor, *, workflow: str, lease: timedelta, limit: int
) -> list[AbandonedRun]:
    """Lock up to ``limit`` unfinished runs of ``workflow`` whose record has not moved for
    longer than ``lease``, oldest first (rows other transactions hold are skipped)."""
    rows = tx.fetch_all(_ABANDONED, {"workflow": workflow,
                                     "lease_seconds": lease.total_seconds(), "limit": limit})
    return [AbandonedRun(run_id=str(row["id"]), updated_at=row["updated_at"]) for row in rows]


def claim_due_run(
    tx: Executor, *, workflow: str, exclude: Collection[str] = ()
) -> DueRun | None:
    """Claim the deferred run of ``workflow`` longest past its ``resume_at`` (not one of
    ``exclude``); ``None`` when no other is due or every due one is held elsewhere."""
    row = tx.fetch_one(_CLAIM_DUE, {"workflow": workflow, "exclude": Json(sorted(exclude))})
    if row is None:
        return None
    return DueRun(run_id=str(row["id"]), resume_at=row["resume_at"])
