"""Workflows of discrete, idempotent, separately retried steps: one definition, two runners.

``definition`` (data, exported for Step Functions by ``step_functions_spec``), ``runner`` (the
in-process runner), ``store`` (run records), ``bank_sync`` (the bank-sync workflow).
"""

from __future__ import annotations

from service.workflows.definition import (
    RetryPolicy,
    StepSpec,
    WorkflowDefinition,
    step_functions_spec,
)
from service.workflows.runner import InProcessRunner, StepContext, StepWorker
from service.workflows.store import InMemoryRunStore, RunRecord, RunStatus, RunStore, StepRecord

__all__ = [
    "InMemoryRunStore",
    "InProcessRunner",
    "RetryPolicy",
    "RunRecord",
    "RunStatus",
    "RunStore",
    "StepContext",
    "StepRecord",
    "StepSpec",
    "StepWorker",
    "WorkflowDefinition",
    "step_functions_spec",
]
