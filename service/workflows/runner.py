"""Run a :class:`~service.workflows.definition.WorkflowDefinition` in this process.

Used locally (``make dev``, tests); in AWS, Step Functions plays this part from the same
definition. Steps run in order; a step that fails with an error its policy retries is tried
again after a full-jitter backoff, up to its attempt limit. A
:class:`~service.banking.errors.RateLimitedError` whose ``retry_at`` lies beyond the step's
longest backoff defers the run (status ``deferred``, ``resume_at`` set) instead of holding the
process; :meth:`InProcessRunner.resume` continues it, skipping the steps that succeeded.
Clock, sleep and randomness are injected so tests never wait.
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
            if outcome is not RunStatus.SUCCEEDED:
                run.status = outcome
                run.last_error = record.last_error
                if outcome is RunStatus.FAILED:
                    run.finished_at = self._clock()
                self._store.save(run)
                return run
        run.status = RunStatus.SUCCEEDED
        run.finished_at = self._clock()
        self._store.save(run)
        return run

    def _run_step(self, run: RunRecord, spec: StepSpec, record: StepRecord) -> RunStatus:
        policy = spec.retry
        record.status = RunStatus.RUNNING
        record.started_at = record.started_at or self._clock()
        attempts_this_pass = 0
        while True:
            attempts_this_pass += 1
            record.attempts += 1
            ctx = StepContext(run.run_id, run.input, run.state, self._clock)
            try:
                self._steps[spec.name](ctx)
            except Exception as error:  # every failure is recorded; none escapes the runner
                record.last_error = describe(error)
                for key, value in ctx.counts.items():  # progress made before the failure
                    record.counts[key] = record.counts.get(key, 0) + value
                self._store.save(run)
                if not policy.retries(error) or attempts_this_pass >= policy.max_attempts:
                    record.status = RunStatus.FAILED
                    record.finished_at = self._clock()
                    return RunStatus.FAILED
                wait = policy.delay(attempts_this_pass, self._rng)
                if isinstance(error, RateLimitedError) and error.retry_at is not None:
                    hinted = (error.retry_at - self._clock()).total_seconds()
                    if hinted > policy.max_delay:
                        record.status = RunStatus.DEFERRED
                        run.resume_at = error.retry_at
                        return RunStatus.DEFERRED
                    wait = max(wait, hinted)
                self._sleep(wait)
                continue
            for key, value in ctx.counts.items():
                record.counts[key] = record.counts.get(key, 0) + value
            record.status = RunStatus.SUCCEEDED  # last_error is kept: it tells why it retried
            record.finished_at = self._clock()
            self._store.save(run)
            return RunStatus.SUCCEEDED
