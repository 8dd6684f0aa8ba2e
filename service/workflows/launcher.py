"""Starting and resuming bank-sync runs: one port, an in-process and a Step Functions launcher.

A run is always recorded first (:func:`new_run`, through the run store, whose unique index
refuses a second unfinished run of a connection), then executed, never inside the caller: in
this process on a background thread by the
:class:`~service.workflows.runner.InProcessRunner` (tests, ``make dev``), or by starting the
bank-sync state machine with ``{"run_id": ...}`` (AWS), whose tasks call the worker. So the
API's ``202`` with a run id means what it says in both: the run is recorded and under way,
and its progress is read from the run.

``resume_run`` continues a run from its first unfinished step (a deferred run whose retry time
came); steps that succeeded are not repeated. ``resume_waiting`` is the variant of the webhook
and the run sweep: the caller has already claimed the deferred run (moved it to ``running`` in
its own, still open transaction, :mod:`service.repositories.waiting_runs`,
:mod:`service.repositories.run_sweep`), so it writes nothing and only schedules the execution:

* Step Functions: ``StartExecution`` named after the run and the deferral it resumes
  (:func:`resume_execution_name`), so a repeated call for the same deferral is the same
  execution (Step Functions answers a running one idempotently and refuses a closed one);
* in process: the run continues on a background thread, never inside the webhook's request
  and transaction (its first write waits for the webhook's commit on the run's row lock).

The run sweep (:mod:`service.workflows.sweep`) resumes due deferred runs the same way.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from service.workflows.definition import WorkflowDefinition
from service.workflows.runner import InProcessRunner
from service.workflows.store import RunRecord, RunStatus, RunStore, StepRecord

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


_log = logging.getLogger(__name__)


class LaunchFailedError(Exception):
    """The run was recorded but could not be started (it is marked failed)."""


def resume_execution_name(run_id: str, resume_at: datetime) -> str:
    """The execution resuming ``run_id`` from the deferral ending ``resume_at`` (<= 80 chars)."""
    return f"{run_id[:60]}-w{int(resume_at.timestamp())}"


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
        """Record a run and start it, without waiting for it; returns its id.

        Raises :class:`~service.repositories.sync_runs.RunAlreadyActiveError` (from the
        store) when the connection already has an unfinished run.
        """
        ...

    def resume_run(self, run_id: str) -> None:
        """Continue run ``run_id`` from its first unfinished step (without waiting)."""
        ...

    def resume_waiting(self, run_id: str) -> None:
        """Schedule the execution of a deferred run a webhook or the sweep claimed (no writes)."""
        ...


class InProcessLauncher:
    """Runs each run to its end (succeeded, failed or deferred) on a background thread.

    One daemon thread per run in this process: :meth:`start` records the run (``pending``)
    and returns its id at once, as the Step Functions launcher does; :meth:`resume_run` and
    :meth:`resume_waiting` continue one. A run whose process dies with it is left unfinished
    in the database; the run sweep fails it once its lease has passed. :meth:`wait_idle`
    waits for the runs under way (tests, shutdown).
    """

    def __init__(
        self, runner: InProcessRunner, store: RunStore, *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.runner = runner
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._background: dict[str, threading.Thread] = {}
        self._again: set[str] = set()

    def start(self, run_input: Mapping[str, Any]) -> str:
        """See :meth:`SyncLauncher.start`."""
        run = new_run(self.runner.definition, run_input, status=RunStatus.PENDING,
                      now=self._clock())
        self._store.save(run)
        self._in_background(run.run_id)
        return run.run_id

    def resume_run(self, run_id: str) -> None:
        """See :meth:`SyncLauncher.resume_run` (on a background thread)."""
        self._in_background(run_id)

    def resume_waiting(self, run_id: str) -> None:
        """See :meth:`SyncLauncher.resume_waiting` (on a background thread)."""
        self._in_background(run_id)

    def _in_background(self, run_id: str) -> None:
        """Execute the run on its own thread.

        If a thread of this process already executes it, that thread resumes it once more
        when it is done instead: it may be past its last read (say, just deferred the run a
        webhook has now claimed), and one more resume of a finished run does nothing.
        """
        with self._lock:
            if run_id in self._background:
                self._again.add(run_id)
                return
            thread = threading.Thread(target=self._run_in_background, args=(run_id,),
                                      name=f"sync-{run_id[:8]}", daemon=True)
            self._background[run_id] = thread
            thread.start()  # under the lock, so wait_idle never sees it registered unstarted

    def _run_in_background(self, run_id: str) -> None:
        while True:
            try:
                self.runner.resume(run_id)
            except Exception:  # a background thread has no caller to tell; the run records it
                _log.exception("sync run failed in the background", extra={"run_id": run_id})
            with self._lock:
                if run_id not in self._again:
                    self._background.pop(run_id, None)
                    return
                self._again.discard(run_id)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait for the runs under way (tests, the CLI, shutdown); ``False`` on timeout.

        Runs started while waiting are waited for too; ``timeout`` bounds the whole wait.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                threads = [t for t in self._background.values() if t.is_alive()]
            if not threads:
                return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            threads[0].join(remaining)


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

    def resume_waiting(self, run_id: str) -> None:
        """Start the execution resuming a claimed deferred run, named after its deferral.

        The claim (in the caller's open transaction) kept ``resume_at``, so this read sees
        the same value before and after that commit: a repeated call is the same execution.

        Raises
        ------
        LaunchFailedError
            Step Functions refused or could not be reached (the caller rolls its claim back).
        """
        run = self._store.get(run_id)
        if run is None:
            raise KeyError(run_id)
        if run.resume_at is None:
            raise ValueError(f"run {run_id} is not waiting on a deferral")
        try:
            self._client.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=resume_execution_name(run_id, run.resume_at),
                input=json.dumps({"run_id": run_id}),
            )
        except Exception as error:  # botocore's errors
            if _error_code(error) == "ExecutionAlreadyExists":
                return  # this deferral's execution already ran to its end
            raise LaunchFailedError("the sync could not be resumed") from error

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


def _error_code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None
