"""Workflow runs and their steps in ``sync_runs`` / ``sync_run_steps``.

:class:`DatabaseRunStore` is the :class:`~service.workflows.store.RunStore` both runners
record through: :meth:`~DatabaseRunStore.save` is one statement (the run upserted, its steps
upserted from one JSON document, and the connection's sync bookkeeping moved), so a run and
its steps never disagree. The partial unique index ``sync_runs_one_active_idx`` lets one
unfinished run per connection exist; a second one fails with :class:`RunAlreadyActiveError`.
A run the sweep failed as abandoned is never written again (:class:`AbandonedRunError`).

What a finished run tells its connection (same statement):

* succeeded → ``last_synced_at`` and the next unattended sync allowed after
  :data:`UNATTENDED_INTERVAL` (banks allow about 4 unattended calls per account per day);
* deferred (a rate limit) → the next unattended sync not before ``resume_at``;
* failed with ``ReauthRequiredError`` → ``expired`` if the consent window passed, else
  ``reauth_required``, so the list shows why instead of a generic failure.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from service.db.port import Executor, IntegrityViolationError, Json, Row
from service.workflows.store import RunRecord, RunStatus, StepRecord

UNATTENDED_INTERVAL = timedelta(hours=6)


class RunAlreadyActiveError(Exception):
    """Another unfinished run of the same connection exists."""


class AbandonedRunError(Exception):
    """The run sweep failed this run as abandoned (:mod:`service.workflows.sweep`).

    Its ``last_error`` starts with this class's name, and its record is final: a late save
    (an execution that was alive after all) is refused with this error, so that execution
    stops instead of reviving the run beside the connection's next one.
    """


_SAVE = """WITH saved AS (
        INSERT INTO sync_runs (id, workflow, connection_id, family_id, status, input, state,
                               started_at, finished_at, resume_at, last_error)
        SELECT :id, :workflow, c.id, c.family_id, :status, CAST(:input AS jsonb),
               CAST(:state AS jsonb), :started_at, :finished_at, :resume_at, :last_error
        FROM (SELECT 1) one LEFT JOIN connections c ON c.id = :connection_id
        ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, state = EXCLUDED.state,
            started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at,
            resume_at = EXCLUDED.resume_at, last_error = EXCLUDED.last_error,
            updated_at = now()
        WHERE NOT (sync_runs.status = 'failed'
                   AND coalesce(starts_with(sync_runs.last_error, :abandoned_prefix), false))
        RETURNING id, connection_id),
    steps AS (
        INSERT INTO sync_run_steps (run_id, position, name, status, attempts, counts,
                                    last_error, started_at, finished_at)
        SELECT :id, s.position, s.name, s.status, s.attempts, s.counts, s.last_error,
               s.started_at, s.finished_at
        FROM jsonb_to_recordset(CAST(:steps AS jsonb))
             AS s(position integer, name text, status text, attempts integer, counts jsonb,
                  last_error text, started_at timestamptz, finished_at timestamptz)
        WHERE EXISTS (SELECT 1 FROM saved)
        ON CONFLICT (run_id, position) DO UPDATE SET status = EXCLUDED.status,
            attempts = EXCLUDED.attempts, counts = EXCLUDED.counts,
            last_error = EXCLUDED.last_error, started_at = EXCLUDED.started_at,
            finished_at = EXCLUDED.finished_at),
    bookkeeping AS (
        UPDATE connections c SET
            last_synced_at = CASE WHEN :status = 'succeeded' THEN CAST(:finished_at AS timestamptz)
                                  ELSE c.last_synced_at END,
            next_unattended_sync_at = CASE
                WHEN :status = 'succeeded'
                    THEN CAST(:finished_at AS timestamptz) + CAST(:interval AS interval)
                WHEN :status = 'deferred' THEN CAST(:resume_at AS timestamptz)
                ELSE c.next_unattended_sync_at END,
            status = CASE
                WHEN :status = 'failed' AND :reauth AND c.status = 'active'
                    THEN CASE WHEN c.consent_expires_at <= now() THEN 'expired'
                              ELSE 'reauth_required' END
                ELSE c.status END,
            status_reason = CASE WHEN :status = 'failed' AND :reauth AND c.status = 'active'
                                 THEN :last_error ELSE c.status_reason END
        FROM saved WHERE c.id = saved.connection_id
          AND :status IN ('succeeded', 'deferred', 'failed'))
    SELECT id FROM saved"""

_GET = """SELECT r.id, r.workflow, r.status, r.input, r.state, r.started_at, r.finished_at,
           r.resume_at, r.last_error,
           (SELECT jsonb_agg(jsonb_build_object('name', s.name, 'status', s.status,
                   'attempts', s.attempts, 'counts', s.counts, 'last_error', s.last_error,
                   'started_at', s.started_at, 'finished_at', s.finished_at)
                   ORDER BY s.position)
            FROM sync_run_steps s WHERE s.run_id = r.id) AS steps
    FROM sync_runs r WHERE r.id = :id"""


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _connection_id(run: RunRecord) -> UUID | None:
    try:
        return UUID(str(run.input.get("connection_ref", "")))
    except ValueError:
        return None


def run_of(row: Row) -> RunRecord:
    """A :class:`RunRecord` from a row of the run read."""
    steps = [
        StepRecord(
            name=s["name"],
            status=RunStatus(s["status"]),
            attempts=int(s["attempts"]),
            counts={k: int(v) for k, v in (s["counts"] or {}).items()},
            last_error=s["last_error"],
            started_at=_time(s["started_at"]),
            finished_at=_time(s["finished_at"]),
        )
        for s in (row["steps"] or [])
    ]
    return RunRecord(
        run_id=str(row["id"]),
        workflow=row["workflow"],
        input=dict(row["input"]),
        steps=steps,
        status=RunStatus(row["status"]),
        state=dict(row["state"] or {}),
        started_at=_time(row["started_at"]),
        finished_at=_time(row["finished_at"]),
        resume_at=_time(row["resume_at"]),
        last_error=row["last_error"],
    )


class DatabaseRunStore:
    """:class:`~service.workflows.store.RunStore` on the application database."""

    def __init__(self, database: Executor) -> None:
        """``database``: the database, or an open transaction to record within."""
        self._db = database

    def save(self, run: RunRecord) -> None:
        """Upsert the run and its steps; :class:`RunAlreadyActiveError` on a second active run."""
        steps = [
            {
                "position": i,
                "name": s.name,
                "status": s.status.value,
                "attempts": s.attempts,
                "counts": s.counts,
                "last_error": s.last_error,
                "started_at": _iso(s.started_at),
                "finished_at": _iso(s.finished_at),
            }
            for i, s in enumerate(run.steps)
        ]
        reauth = bool(run.last_error and run.last_error.startswith("ReauthRequiredError"))
        try:
            saved = self._db.fetch_one(
                _SAVE,
                {
                    "id": UUID(run.run_id),
                    "workflow": run.workflow,
                    "connection_id": _connection_id(run),
                    "status": run.status.value,
                    "input": Json(run.input),
                    "state": Json(run.state),
                    "started_at": run.started_at,
                    "finished_at": run.finished_at,
                    "resume_at": run.resume_at,
                    "last_error": run.last_error,
                    "steps": Json(steps),
                    "interval": f"{int(UNATTENDED_INTERVAL.total_seconds())} seconds",
                    "reauth": reauth,
                    "abandoned_prefix": AbandonedRunError.__name__,
                },
            )
        except IntegrityViolationError as error:
            if "sync_runs_one_active_idx" in str(error):
                raise RunAlreadyActiveError(
                    "a sync of this connection is already running"
                ) from error
            raise
        if saved is None:
            raise AbandonedRunError(
                f"run {run.run_id} was failed as abandoned; start a new sync")

    def get(self, run_id: str) -> RunRecord | None:
        """See :meth:`RunStore.get`."""
        try:
            key = UUID(run_id)
        except ValueError:
            return None
        row = self._db.fetch_one(_GET, {"id": key})
        return None if row is None else run_of(row)

    def active_run_id(self, connection_id: UUID) -> str | None:
        """The unfinished run of a connection, if any."""
        row = self._db.fetch_one(
            """SELECT id FROM sync_runs WHERE connection_id = :c
               AND status IN ('pending', 'running', 'deferred')""",
            {"c": connection_id},
        )
        return None if row is None else str(row["id"])
