"""Run records and the port that keeps them (in memory here; the database one is
:class:`service.repositories.sync_runs.DatabaseRunStore`).

A run records its status, input, the small JSON state steps hand to each other (ids and
cursors, never payloads) and, per step, status, attempts, counts and the last error.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class RunStatus(StrEnum):
    """Where a run or a step stands."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEFERRED = "deferred"  # waiting for ``resume_at`` (a provider's retry hint beyond the policy)


@dataclass
class StepRecord:
    """One step of one run."""

    name: str
    status: RunStatus = RunStatus.PENDING
    attempts: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    last_error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass
class RunRecord:
    """One execution of a workflow."""

    run_id: str
    workflow: str
    input: dict[str, Any]
    steps: list[StepRecord]
    status: RunStatus = RunStatus.PENDING
    state: dict[str, Any] = field(default_factory=dict)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    resume_at: datetime | None = None
    last_error: str | None = None

    def step(self, name: str) -> StepRecord:
        """The record of step ``name``."""
        return next(s for s in self.steps if s.name == name)


class RunStore(Protocol):
    """Keeps run records; ``save`` is an upsert of the whole record."""

    def save(self, run: RunRecord) -> None:
        """Store ``run`` (insert or replace)."""
        ...

    def get(self, run_id: str) -> RunRecord | None:
        """The run, or None."""
        ...


class InMemoryRunStore:
    """:class:`RunStore` in a dictionary; stores copies so callers cannot alias its state."""

    def __init__(self) -> None:
        self._runs: dict[str, RunRecord] = {}
        self._lock = threading.Lock()

    def save(self, run: RunRecord) -> None:
        """See :meth:`RunStore.save`."""
        with self._lock:
            self._runs[run.run_id] = copy.deepcopy(run)

    def get(self, run_id: str) -> RunRecord | None:
        """See :meth:`RunStore.get`."""
        with self._lock:
            run = self._runs.get(run_id)
            return copy.deepcopy(run) if run else None
