"""The run sweep: no run stays stuck, and every deferred run resumes when it is due.

Two jobs, one call (:func:`sweep_runs`), run every few minutes: in AWS by the worker's
``{"action": "sweep"}`` on a schedule, locally by ``flask --app service sync sweep`` and by
``make dev`` every minute.

1. **Abandoned runs.** A run left ``pending`` or ``running`` by a worker that died (a crashed
   Lambda, a killed ``make dev``) would block its connection's syncs for ever: the unique
   index allows one unfinished run per connection. A live run saves after every attempt of a
   step (:func:`~service.workflows.runner.attempt_step`, both runners) and when it starts or
   resumes, so a record that has not moved for longer than the run's lease
   (:func:`run_lease`) belongs to no live execution. The sweep fails it, and its running
   step, with ``AbandonedRunError: no progress since ...``; the connection's bookkeeping is
   the one any failure other than a lost consent gets (none: the connection stays active),
   and a new sync can start at once. The verdict is final: the run store refuses to write
   an abandoned run again (:class:`~service.repositories.sync_runs.AbandonedRunError`), so an
   execution that was alive after all stops at its next save, and the step worker refuses
   its next step.
2. **Due deferred runs.** A run deferred until ``resume_at`` (a provider's retry hint) that
   no webhook resumed is claimed once the time has passed, exactly as a webhook claims one
   (``running``, ``resume_at`` kept, in a transaction), and its execution is scheduled with
   :meth:`~service.workflows.launcher.SyncLauncher.resume_waiting` before the claim commits.
   Webhooks and sweeps racing claim it once (row locks), and all of them name the same
   execution (:func:`~service.workflows.launcher.resume_execution_name`). A launch that fails
   rolls its claim back: the run stays deferred and the next sweep tries again.

Each job takes a bounded batch per call, so one sweep's work is bounded however many runs
wait; the rest is left to the next sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from service.db.port import Database
from service.repositories import run_sweep
from service.repositories.sync_runs import AbandonedRunError, DatabaseRunStore
from service.workflows.definition import StepSpec, WorkflowDefinition
from service.workflows.launcher import LaunchFailedError, SyncLauncher
from service.workflows.store import RunRecord, RunStatus

_log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 100
"""Runs each job of one sweep handles at most (the rest wait for the next sweep)."""

def longest_gap(step: StepSpec) -> timedelta:
    """The longest a live run may go without a save in ``step``: its longest backoff wait
    (the policy's cap, which also bounds a waited-for retry hint), then one attempt at its
    timeout. Both runners save after every attempt (and when a run starts or resumes)."""
    policy = step.retry
    retries = bool(policy.retry_on) and policy.max_attempts > 1
    return timedelta(seconds=step.timeout_seconds + (policy.max_delay if retries else 0))


def run_lease(definition: WorkflowDefinition) -> timedelta:
    """How long a live run of ``definition`` may leave its record unchanged: twice the longest
    gap between two saves (:func:`longest_gap`) of any of its steps.

    The second gap covers what the definition does not see: an invocation Step Functions
    repeats after a Lambda service error (its waits are seconds), a cold start, the Catch
    recording a failure. Derived from the definition alone, so a new step, timeout or retry
    cap moves it; no number is written twice.
    """
    return 2 * max(longest_gap(step) for step in definition.steps)


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What one sweep did."""

    abandoned: tuple[str, ...] = ()
    """Runs failed as abandoned."""
    resumed: tuple[str, ...] = ()
    """Due deferred runs claimed and scheduled."""
    launch_failed: tuple[str, ...] = ()
    """Due runs whose launch failed (still deferred; the next sweep tries again)."""

    def counts(self) -> dict[str, int]:
        """``{"abandoned", "resumed", "launch_failed"}`` counts (the worker's answer)."""
        return {"abandoned": len(self.abandoned), "resumed": len(self.resumed),
                "launch_failed": len(self.launch_failed)}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def sweep_runs(
    database: Database,
    launcher: SyncLauncher,
    *,
    definition: WorkflowDefinition,
    batch_size: int = DEFAULT_BATCH_SIZE,
    clock: Callable[[], datetime] = _utc_now,
) -> SweepResult:
    """Fail the abandoned runs of ``definition``, then resume its due deferred runs.

    Parameters
    ----------
    database
        The application database (runs are read and written as the app role).
    launcher
        Schedules the execution of each claimed due run (``resume_waiting``).
    definition
        The workflow whose runs are swept; its lease is :func:`run_lease`.
    batch_size
        At most this many runs of each kind per call.
    clock
        When the abandoned runs are recorded as finished.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    abandoned = fail_abandoned_runs(database, definition=definition, limit=batch_size,
                                    now=clock())
    resumed, failed = resume_due_runs(database, launcher, definition=definition,
                                      limit=batch_size)
    result = SweepResult(abandoned=abandoned, resumed=resumed, launch_failed=failed)
    if abandoned or resumed or failed:
        _log.info("run sweep", extra={"workflow": definition.name, **result.counts()})
    return result


def fail_abandoned_runs(
    database: Database, *, definition: WorkflowDefinition, limit: int, now: datetime
) -> tuple[str, ...]:
    """Fail up to ``limit`` abandoned runs in one transaction; returns their ids."""
    lease = run_lease(definition)
    with database.transaction() as tx:
        store = DatabaseRunStore(tx)
        done = []
        for found in run_sweep.lock_abandoned(tx, workflow=definition.name, lease=lease,
                                              limit=limit):
            run = store.get(found.run_id)
            if run is None:  # pragma: no cover - locked in this transaction, so it exists
                continue
            abandon(run, since=found.updated_at, lease=lease, now=now)
            store.save(run)
            done.append(run.run_id)
    for run_id in done:
        _log.warning("abandoned sync run failed", extra={"run_id": run_id})
    return tuple(done)


def abandon(run: RunRecord, *, since: datetime, lease: timedelta, now: datetime) -> None:
    """Mark ``run`` and its running step failed as abandoned since ``since``."""
    reason = (f"{AbandonedRunError.__name__}: no progress since {since.isoformat()} "
              f"(lease {int(lease.total_seconds())} s); start a new sync")
    for step in run.steps:
        if step.status is RunStatus.RUNNING:
            step.status = RunStatus.FAILED
            step.last_error = reason
            step.finished_at = now
    run.status = RunStatus.FAILED
    run.last_error = reason
    run.finished_at = now
    run.resume_at = None


def resume_due_runs(
    database: Database, launcher: SyncLauncher, *, definition: WorkflowDefinition, limit: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Claim and schedule up to ``limit`` due deferred runs, one transaction each.

    Returns the ids resumed and those whose launch failed (their claim rolled back, so
    they stay deferred; they are not tried again in this call).
    """
    resumed: list[str] = []
    failed: list[str] = []
    while len(resumed) + len(failed) < limit:
        due: run_sweep.DueRun | None = None
        try:
            with database.transaction() as tx:
                due = run_sweep.claim_due_run(tx, workflow=definition.name, exclude=failed)
                if due is None:
                    break
                launcher.resume_waiting(due.run_id)  # before the claim commits
        except LaunchFailedError:
            if due is None:  # pragma: no cover - only the launch raises it
                raise
            _log.warning("due sync run could not be resumed", extra={"run_id": due.run_id})
            failed.append(due.run_id)
            continue
        resumed.append(due.run_id)
    return tuple(resumed), tuple(failed)
