"""Run a :class:`~service.workflows.definition.WorkflowDefinition` in this process or one
step at a time for Step Functions.

:class:`InProcessRunner` is used locally (``make dev``, tests); in AWS, Step Functions plays
its part from the same definition and :class:`StepWorker` makes each attempt. Steps run in
order; a step that fails with an error its policy retries is tried again after a full-jitter
backoff, up to its attempt limit. Whether a failed attempt defers the run instead -- a
:class:`~service.banking.errors.RateLimitedError` whose ``retry_at`` lies beyond the step's
longest backoff, or an error the step's park policy parks on -- is decided for both by
:func:`~service.workflows.deferral.deferral_for`: the run is saved ``deferred`` with
``resume_at``, holding no process; :meth:`InProcessRunner.resume` (or a new execution)
continues it, skipping the steps that succeeded. Clock, sleep and randomness are injected so
tests never wait.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from service.banking.errors import ProviderError, RateLimitedError
from service.workflows.deferral import (
    ParkLimitReachedError,
    defer,
    deferral_for,
    parks_of,
)
from service.workflows.definition import StepSpec, WorkflowDefinition
from service.workflows.store import RunRecord, RunStatus, RunStore, StepRecord


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class StepContext:
    """What a step sees: the run's id and input, and the state steps share (JSON values)."""

    run_id: str
    input: Mapping[str, Any]
    state: dict[str, Any]
    now: Callable[[], datetime]
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to the step's counter ``name``."""
        self.counts[name] = self.counts.get(name, 0) + n


StepFunction = Callable[[StepContext], None]


def describe(error: BaseException) -> str:
    """A one-line, secret-free description of a step failure."""
    detail = error.detail if isinstance(error, ProviderError) else str(error)
    return f"{type(error).__name__}: {detail}"[:500]


class InProcessRunner:
    """Executes one workflow definition with the given step functions.

    Parameters
    ----------
    definition
        The workflow; every step needs a function in ``steps``.
    steps
        Step name → function taking a :class:`StepContext`.
    store
        Where runs are recorded (after every attempt).
    """

    def __init__(
        self,
        definition: WorkflowDefinition,
        steps: Mapping[str, StepFunction],
        *,
        store: RunStore,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        missing = set(definition.step_names) ^ set(steps)
        if missing:
            raise ValueError(f"steps and definition differ: {sorted(missing)}")
        self.definition = definition
        self._steps = dict(steps)
        self._store = store
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security

    def start(self, run_input: Mapping[str, Any], *, run_id: str | None = None) -> RunRecord:
        """Create a run and execute it to the end (succeeded, failed or deferred)."""
        run = RunRecord(
            run_id=run_id or str(uuid.uuid4()),
            workflow=self.definition.name,
            input=dict(run_input),
            steps=[StepRecord(name) for name in self.definition.step_names],
        )
        self._store.save(run)
        return self._execute(run)

    def resume(self, run_id: str) -> RunRecord:
        """Continue a deferred or failed run from its first unfinished step."""
        run = self._store.get(run_id)
        if run is None:
            raise KeyError(run_id)
        if run.status is RunStatus.SUCCEEDED:
            return run
        return self._execute(run)

    def _execute(self, run: RunRecord) -> RunRecord:
        run.status = RunStatus.RUNNING
        run.resume_at = None
        run.last_error = None
        run.started_at = run.started_at or self._clock()
        self._store.save(run)
        for spec in self.definition.steps:
            record = run.step(spec.name)
            if record.status is RunStatus.SUCCEEDED:
                continue
            outcome = self._run_step(run, spec, record)
            if outcome is RunStatus.FAILED:
                run.status = outcome
                run.last_error = record.last_error
                run.finished_at = self._clock()
            if outcome is not RunStatus.SUCCEEDED:
                self._store.save(run)
                return run
        run.status = RunStatus.SUCCEEDED
        run.finished_at = self._clock()
        self._store.save(run)
        return run

    def _run_step(self, run: RunRecord, spec: StepSpec, record: StepRecord) -> RunStatus:
        policy = spec.retry
        attempts_this_pass = 0
        while True:
            attempts_this_pass += 1
            error = attempt_step(run, spec.name, self._steps[spec.name], self._store, self._clock)
            if error is None:
                return RunStatus.SUCCEEDED
            try:
                deferral = deferral_for(spec, error, attempt=attempts_this_pass,
                                        parks=parks_of(record), now=self._clock())
            except ParkLimitReachedError as limit:
                record.last_error = describe(limit)
                deferral, error = None, limit
            if deferral is not None:
                defer(run, record, deferral)
                return RunStatus.DEFERRED
            if not policy.retries(error) or attempts_this_pass >= policy.max_attempts:
                record.status = RunStatus.FAILED
                record.finished_at = self._clock()
                return RunStatus.FAILED
            wait = policy.delay(attempts_this_pass, self._rng)
            if isinstance(error, RateLimitedError) and error.retry_at is not None:
                wait = max(wait, (error.retry_at - self._clock()).total_seconds())
            self._sleep(wait)


def attempt_step(
    run: RunRecord,
    name: str,
    function: StepFunction,
    store: RunStore,
    clock: Callable[[], datetime],
) -> Exception | None:
    """Run one attempt of step ``name``, record it in ``run`` and save; return its error.

    Shared by the in-process runner and :class:`StepWorker`, so both record attempts the same
    way. Counts add up over attempts (what each attempt did); ``last_error`` is kept after a
    success because it tells why the step needed another attempt.
    """
    record = run.step(name)
    record.status = RunStatus.RUNNING
    record.started_at = record.started_at or clock()
    record.attempts += 1
    ctx = StepContext(run.run_id, run.input, run.state, clock)
    try:
        function(ctx)
    except Exception as error:  # every failure is recorded; the caller decides what follows
        record.last_error = describe(error)
        _add_counts(record, ctx.counts)
        store.save(run)
        return error
    _add_counts(record, ctx.counts)
    record.status = RunStatus.SUCCEEDED
    record.finished_at = clock()
    store.save(run)
    return None


def _add_counts(record: StepRecord, counts: Mapping[str, int]) -> None:
    for key, value in counts.items():
        record.counts[key] = record.counts.get(key, 0) + value


class RunNotActiveError(Exception):
    """The run is not one a step may work on (it failed): the state machine must stop.

    Not retried by any policy; the Catch records nothing over the run's own error.
    """


class StepWorker:
    """Runs single steps on behalf of Step Functions (the worker Lambda's core).

    The state machine passes ids, not payloads. Each task invokes :meth:`handle` with
    ``{"run_id", "step", "retry_count", "execution"}`` (``retry_count``: the task state's
    ``$$.State.RetryCount``; ``execution``: ``$$.Execution.Name``). The worker loads the run,
    makes one attempt and either answers ``{"run_id": ..., "deferred": false}``, re-raises the
    step's error (the state machine's Retry from :func:`step_functions_spec` matches its class
    name, its Catch records the failure with :meth:`fail`), or -- when
    :func:`~service.workflows.deferral.deferral_for` says the attempt defers the run -- saves
    the run and the step ``deferred`` with ``resume_at`` and answers ``deferred: true``, on
    which the state machine ends the execution ("Parked"). So the poll step parks on its last
    attempt instead of raising into the Catch.

    If Step Functions counts the Lambda service retrier's retries in ``RetryCount`` too, the
    worker sees a later attempt than its own retrier's and parks early, never late.
    """

    def __init__(
        self,
        definition: WorkflowDefinition,
        steps: Mapping[str, StepFunction],
        *,
        store: RunStore,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        missing = set(definition.step_names) ^ set(steps)
        if missing:
            raise ValueError(f"steps and definition differ: {sorted(missing)}")
        self.definition = definition
        self._steps = dict(steps)
        self._store = store
        self._clock = clock

    def create(self, run_input: Mapping[str, Any], *, run_id: str | None = None) -> str:
        """Record a new run (before the state machine starts); returns its id."""
        run = RunRecord(
            run_id=run_id or str(uuid.uuid4()),
            workflow=self.definition.name,
            input=dict(run_input),
            steps=[StepRecord(name) for name in self.definition.step_names],
            status=RunStatus.RUNNING,
            started_at=self._clock(),
        )
        self._store.save(run)
        return run.run_id

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """One attempt of ``event["step"]`` of run ``event["run_id"]`` (see the class doc).

        Only an active run is worked on. A ``succeeded`` run, or a finished step (a
        redelivered task), is a no-op; a ``deferred`` run answers ``deferred: true`` at once
        (a stray duplicate execution stops), unless this execution is the one resuming that
        deferral (its claim may not be committed yet); a ``failed`` run raises
        :class:`RunNotActiveError`.
        """
        run_id, name = str(event["run_id"]), str(event["step"])
        if name not in self._steps:
            raise ValueError(f"unknown step {name!r}")
        run = self._store.get(run_id)
        if run is None:
            raise KeyError(f"unknown run {run_id!r}")
        if run.status is RunStatus.FAILED:
            raise RunNotActiveError(f"run {run_id} has failed; {name} is not run")
        if run.status is RunStatus.SUCCEEDED:
            return {"run_id": run_id, "deferred": False}
        if run.status is RunStatus.DEFERRED and not _resumes(run, event.get("execution")):
            return {"run_id": run_id, "deferred": True}
        if run.status is not RunStatus.RUNNING or run.resume_at is not None:
            # Pending, or resumed from a deferral (whose claim kept resume_at to name this
            # execution): running now, as the in-process runner starts a pass.
            run.status, run.resume_at, run.last_error = RunStatus.RUNNING, None, None
            run.started_at = run.started_at or self._clock()
            self._store.save(run)
        spec, record = self.definition.step(name), run.step(name)
        if record.status is not RunStatus.SUCCEEDED:
            error = attempt_step(run, name, self._steps[name], self._store, self._clock)
            if error is not None:
                attempt = int(event.get("retry_count") or 0) + 1
                try:
                    deferral = deferral_for(spec, error, attempt=attempt,
                                            parks=parks_of(record), now=self._clock())
                except ParkLimitReachedError as limit:
                    record.last_error = describe(limit)
                    self._store.save(run)
                    raise limit from error
                if deferral is None:
                    raise error
                defer(run, record, deferral)
                self._store.save(run)
                return {"run_id": run_id, "deferred": True}
        if name == self.definition.step_names[-1]:
            run.status = RunStatus.SUCCEEDED
            run.finished_at = self._clock()
            self._store.save(run)
        return {"run_id": run_id, "deferred": False}

    def fail(self, event: Mapping[str, Any]) -> dict[str, str]:
        """The Catch target: mark step and run failed (retries exhausted or not retryable).

        A run that is no longer active (failed already, e.g. by :class:`RunNotActiveError`;
        succeeded; deferred by another execution) is left as it is.
        """
        run = self._store.get(str(event["run_id"]))
        if run is None:
            raise KeyError(f"unknown run {event['run_id']!r}")
        if run.status not in (RunStatus.PENDING, RunStatus.RUNNING):
            return {"run_id": run.run_id}
        record = run.step(str(event["step"]))
        ended_outside = _ended_outside_the_step(event.get("error"))
        if ended_outside is not None:
            record.last_error = ended_outside
        record.status = RunStatus.FAILED
        record.finished_at = self._clock()
        run.status = RunStatus.FAILED
        run.last_error = record.last_error
        run.finished_at = self._clock()
        self._store.save(run)
        return {"run_id": run.run_id}


def _ended_outside_the_step(error: object) -> str | None:
    """What to record when the Catch reports an error the step itself never saw.

    A ``States.*`` error (``States.Timeout``: the attempt outlived the task's timeout) or a
    ``Lambda.*`` one (``Lambda.Unknown``: the function crashed or ran out of memory) ends an
    attempt before the worker could record it, so the step's ``last_error`` would be stale
    or empty. Only the error's name is kept: its ``Cause`` may quote anything.
    """
    name = error.get("Error") if isinstance(error, Mapping) else None
    if not isinstance(name, str) or not name.startswith(("States.", "Lambda.")):
        return None
    return f"{name[:100]}: the attempt ended in Step Functions before the step recorded it"


def _resumes(run: RunRecord, execution: object) -> bool:
    """Whether ``execution`` is the one named for resuming ``run``'s deferral."""
    # The launcher imports this module; the name is its (one) definition.
    from service.workflows.launcher import resume_execution_name  # noqa: PLC0415

    return (isinstance(execution, str) and run.resume_at is not None
            and execution == resume_execution_name(run.run_id, run.resume_at))
