"""Workflows of discrete, idempotent, separately retried steps: one definition, two runners.

``definition`` (data, exported for Step Functions by ``step_functions_spec``), ``deferral``
(whether a failed attempt defers or parks the run, for both runners), ``runner`` (the
in-process runner and the Step Functions worker), ``store`` (run records), ``bank_sync`` (the
bank-sync workflow).
"""

from __future__ import annotations

from service.workflows.deferral import Deferral, ParkLimitReachedError, deferral_for
from service.workflows.definition import (
    ParkPolicy,
    RetryPolicy,
    StepSpec,
    WorkflowDefinition,
    step_functions_spec,
)
from service.workflows.runner import InProcessRunner, RunNotActiveError, StepContext, StepWorker
from service.workflows.store import InMemoryRunStore, RunRecord, RunStatus, RunStore, StepRecord

__all__ = [
    "Deferral",
    "InMemoryRunStore",
    "InProcessRunner",
    "ParkLimitReachedError",
    "ParkPolicy",
    "RetryPolicy",
    "RunNotActiveError",
    "RunRecord",
    "RunStatus",
    "RunStore",
    "StepContext",
    "StepRecord",
    "StepSpec",
    "StepWorker",
    "WorkflowDefinition",
    "deferral_for",
    "step_functions_spec",
]
