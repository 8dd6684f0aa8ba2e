"""The plain, CDK-free description of a step workflow that :class:`StepWorkflow` builds.

An app passes its workflow as data -- ordered steps, each with a timeout and a ready Step
Functions retrier -- either as these typed objects or as the plain mapping
:meth:`WorkflowSpec.from_mapping` reads (the shape a service exports, e.g.
``{"name": ..., "steps": [{"name", "description", "timeout_seconds", "retry"}]}``). The library
never imports the app's code: the definition stays the app's, written once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["StepRetrier", "WorkflowSpec", "WorkflowStep"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_ERROR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,127}$")
MAX_STEP_TIMEOUT_SECONDS = 900
"""A step is one worker invocation, and Lambda stops any invocation at 15 minutes."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StepRetrier:
    """One Step Functions ``Retrier``: exponential backoff with full jitter.

    ``max_attempts`` counts retries after the first attempt, as Step Functions does.
    """

    error_equals: tuple[str, ...]
    interval_seconds: int
    backoff_rate: float
    max_attempts: int
    max_delay_seconds: int

    def __post_init__(self) -> None:
        if not self.error_equals:
            raise ValueError("a retrier needs at least one error name")
        bad = [e for e in self.error_equals if not _ERROR_NAME.match(e) or e.startswith("States.")]
        if bad:
            raise ValueError(f"retrier error names must be error class names, got {bad}; "
                             "States.* errors are not retried by design (a timeout is final)")
        if not 1 <= self.interval_seconds <= self.max_delay_seconds:
            raise ValueError("retrier needs 1 <= interval_seconds <= max_delay_seconds")
        if self.backoff_rate < 1:
            raise ValueError("retrier backoff_rate must be at least 1")
        if not 1 <= self.max_attempts <= 99:
            raise ValueError("retrier max_attempts must be 1-99")

    def worst_case_wait_seconds(self) -> int:
        """The longest total wait between attempts (each wait capped at the max delay)."""
        return sum(min(self.max_delay_seconds,
                       int(self.interval_seconds * self.backoff_rate ** n))
                   for n in range(self.max_attempts))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> StepRetrier:
        """Read a retrier in Amazon States Language spelling (``JitterStrategy`` must be FULL)."""
        jitter = data.get("JitterStrategy", "FULL")
        if jitter != "FULL":
            raise ValueError(f"only full jitter is supported, got JitterStrategy={jitter!r}")
        return cls(
            error_equals=tuple(str(e) for e in data["ErrorEquals"]),
            interval_seconds=int(data["IntervalSeconds"]),
            backoff_rate=float(data["BackoffRate"]),
            max_attempts=int(data["MaxAttempts"]),
            max_delay_seconds=int(data["MaxDelaySeconds"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowStep:
    """One discrete, idempotent step: the worker runs it by name."""

    name: str
    timeout_seconds: int
    retry: StepRetrier | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"step name {self.name!r} must match {_NAME.pattern}")
        if not 1 <= self.timeout_seconds <= MAX_STEP_TIMEOUT_SECONDS:
            raise ValueError(f"step {self.name!r}: timeout_seconds must be 1-"
                             f"{MAX_STEP_TIMEOUT_SECONDS}")


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowSpec:
    """A named, ordered, non-empty list of steps."""

    name: str
    steps: tuple[WorkflowStep, ...]

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"workflow name {self.name!r} must match {_NAME.pattern}")
        names = [s.name for s in self.steps]
        if not names:
            raise ValueError(f"workflow {self.name!r} needs at least one step")
        if len(set(names)) != len(names):
            raise ValueError(f"workflow {self.name!r} repeats step names: {names}")

    @property
    def step_names(self) -> tuple[str, ...]:
        """Step names in order."""
        return tuple(s.name for s in self.steps)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> WorkflowSpec:
        """Read the plain-data form (``{"name", "steps": [{"name", "timeout_seconds", ...}]}``).

        Raises
        ------
        ValueError
            On a missing field or a value the constructs cannot build safely.
        """
        try:
            steps: Sequence[Mapping[str, Any]] = data["steps"]
            return cls(name=str(data["name"]), steps=tuple(
                WorkflowStep(
                    name=str(step["name"]),
                    timeout_seconds=int(step["timeout_seconds"]),
                    retry=(StepRetrier.from_mapping(step["retry"])
                           if step.get("retry") else None),
                    description=str(step.get("description", "")),
                )
                for step in steps
            ))
        except KeyError as missing:
            raise ValueError(f"workflow spec lacks the field {missing}") from None
