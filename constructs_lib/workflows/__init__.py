"""Step Functions workflows built from plain specs: the step machine and the daily fan-out."""

from __future__ import annotations

from constructs_lib.workflows._machine import LAMBDA_SERVICE_ERRORS, LambdaServiceRetry
from constructs_lib.workflows.fan_out import MAX_DISTRIBUTED_CONCURRENCY, ScheduledFanOut
from constructs_lib.workflows.manifest_bucket import ManifestBucket
from constructs_lib.workflows.spec import StepRetrier, WorkflowSpec, WorkflowStep
from constructs_lib.workflows.step_workflow import StepWorkflow

__all__ = [
    "LAMBDA_SERVICE_ERRORS",
    "MAX_DISTRIBUTED_CONCURRENCY",
    "LambdaServiceRetry",
    "ManifestBucket",
    "ScheduledFanOut",
    "StepRetrier",
    "StepWorkflow",
    "WorkflowSpec",
    "WorkflowStep",
]
