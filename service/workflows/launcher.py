"""Starting and resuming bank-sync runs: one port, an in-process and a Step Functions launcher.

A run is always recorded first (:func:`new_run`, through the run store, whose unique index
refuses a second unfinished run of a connection), then executed: in this process by the
:class:`~service.workflows.runner.InProcessRunner` (tests, ``make dev``), or by starting the
bank-sync state machine with ``{"run_id": ...}`` (AWS), whose tasks call the worker.

``resume_run`` continues a run from its first unfinished step (a deferred run whose retry time
came, or one a webhook says can go on); steps that succeeded are not repeated.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from service.workflows.definition import WorkflowDefinition
from service.workflows.runner import InProcessRunner
from service.workflows.store import RunRecord, RunStatus, RunStore, StepRecord

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


class LaunchFailedError(Exception):
    """The run was recorded but could not be started (it is marked failed)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def new_run(
    definition: WorkflowDefinition, run_input: Mapping[str, Any], *, status: RunStatus,
    now: datetime,
) -> RunRecord:
    """A fresh run record of ``definition`` with every step pending."""
    return RunRecord(
        run_id=str(uuid.uuid4()),
        workflow=definition.name,
        input=dict(run_input),
        steps=[StepRecord(name) for name in definition.step_names],
        status=status,
        started_at=now if status is RunStatus.RUNNING else None,
    )


class SyncLauncher(Protocol):
    """Starts runs and resumes them."""

    def start(self, run_input: Mapping[str, Any]) -> str:
        """Record a run and start it; returns its id.

        Raises :class:`~service.repositories.sync_runs.RunAlreadyActiveError` (from the
        store) when the connection already has an unfinished run.
        """
        ...

    def resume_run(self, run_id: str) -> None:
        """Continue run ``run_id`` from its first unfinished step."""
        ...


class InProcessLauncher:
    """Runs each run to its end (succeeded, failed or deferred) in the calling thread."""

    def __init__(
        self, runner: InProcessRunner, store: RunStore, *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.runner = runner
        self._store = store
        self._clock = clock

    def start(self, run_input: Mapping[str, Any]) -> str:
        """See :meth:`SyncLauncher.start`."""
        run = new_run(self.runner.definition, run_input, status=RunStatus.PENDING,
                      now=self._clock())
        self._store.save(run)
        self.runner.resume(run.run_id)
        return run.run_id

    def resume_run(self, run_id: str) -> None:
        """See :meth:`SyncLauncher.resume_run`."""
        self.runner.resume(run_id)


class StepFunctionsLauncher:
    """Starts the bank-sync state machine (``BANK_SYNC_STATE_MACHINE_ARN``) per run.

    Parameters
    ----------
    client
        A ``stepfunctions`` boto3 client.
    state_machine_arn
        The bank-sync state machine; its input is ``{"run_id": ...}``.
    definition, store
        The workflow (to record runs of it) and where runs are recorded.
    """

    def __init__(
        self, client: SFNClient | Any, state_machine_arn: str, *, definition: WorkflowDefinition,
        store: RunStore, clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._client = client
        self.state_machine_arn = state_machine_arn
        self._definition = definition
        self._store = store
        self._clock = clock

    def start(self, run_input: Mapping[str, Any]) -> str:
        """See :meth:`SyncLauncher.start` (the execution is named after the run)."""
        run = new_run(self._definition, run_input, status=RunStatus.RUNNING, now=self._clock())
        self._store.save(run)
        self._execute(run, name=run.run_id)
        return run.run_id

    def resume_run(self, run_id: str) -> None:
        """Start a new execution of the run; succeeded steps are no-ops in the worker."""
        run = self._store.get(run_id)
        if run is None:
            raise KeyError(run_id)
        if run.status is RunStatus.SUCCEEDED:
            return
        run.status, run.resume_at, run.finished_at = RunStatus.RUNNING, None, None
        self._store.save(run)
        self._execute(run, name=f"{run_id[:60]}-r{uuid.uuid4().hex[:8]}")

    def _execute(self, run: RunRecord, *, name: str) -> None:
        try:
            self._client.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=name,
                input=json.dumps({"run_id": run.run_id}),
            )
        except Exception as error:  # botocore's errors: the run must not stay "running"
            run.status = RunStatus.FAILED
            run.last_error = f"LaunchFailedError: {type(error).__name__}"
            run.finished_at = self._clock()
            self._store.save(run)
            raise LaunchFailedError("the sync could not be started") from error
