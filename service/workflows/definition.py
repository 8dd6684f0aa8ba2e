"""Workflows defined once, as data: ordered steps, each with its own retry policy.

The same :class:`WorkflowDefinition` drives the in-process runner (:mod:`.runner`) and, through
:func:`step_functions_spec`, the Step Functions state machine a ``constructs_lib`` construct
builds, so no step list or retry number is written twice. A step's :class:`ParkPolicy` says
when its run parks (waits, holding nothing, for an event or a due time) instead of failing;
:mod:`.deferral` applies it for both runners. This module imports nothing from CDK.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

_ERROR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _names(error: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(error).__mro__}


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Exponential backoff with full jitter and an attempt limit.

    Attempt ``n`` (1-based) that fails with a retryable error waits a uniformly random time in
    ``[0, min(max_delay, initial_delay * backoff_rate ** (n - 1))]`` ("full jitter", the same
    strategy as Step Functions' ``JitterStrategy: FULL``) before attempt ``n + 1``.

    ``retry_on`` names exception classes; an error retries if its class or any base class has
    one of these names. Names, not classes, because Step Functions matches ``ErrorEquals``
    against the error type name a Lambda worker reports.
    """

    max_attempts: int = 3
    initial_delay: float = 1.0
    backoff_rate: float = 2.0
    max_delay: float = 60.0
    retry_on: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_delay < 1 or self.max_delay < self.initial_delay:
            raise ValueError("delays must be >= 1 s and max_delay >= initial_delay")
        if self.backoff_rate < 1:
            raise ValueError("backoff_rate must be at least 1")

    def retries(self, error: BaseException) -> bool:
        """Whether ``error`` is one this policy retries."""
        return bool(_names(error) & set(self.retry_on))

    def ceiling(self, attempt: int) -> float:
        """The longest wait after failed attempt ``attempt`` (1-based)."""
        return min(self.max_delay, self.initial_delay * self.backoff_rate ** (attempt - 1))

    def delay(self, attempt: int, rng: random.Random) -> float:
        """A full-jitter wait after failed attempt ``attempt``."""
        return rng.uniform(0, self.ceiling(attempt))


@dataclass(frozen=True, slots=True, kw_only=True)
class ParkPolicy:
    """When a step parks its run instead of failing, and for how long.

    A step whose error is named in ``park_on`` (by class or base class name, as
    :attr:`RetryPolicy.retry_on`) and would otherwise fail -- the error is not retried, or this
    pass has used the step's attempts -- leaves its run ``deferred`` with ``resume_at`` =
    now + ``wait``, holding no process and no execution. An event reporting what the step
    waits for (a provider's webhook) resumes it sooner; the due time resumes it anyway.
    A run parks at this step at most ``max_parks`` times; the next time the step fails with
    :class:`~service.workflows.deferral.ParkLimitReachedError`, saying so.
    """

    park_on: tuple[str, ...]
    wait: timedelta
    max_parks: int = 3

    def __post_init__(self) -> None:
        if not self.park_on or not all(_ERROR_NAME.match(n) for n in self.park_on):
            raise ValueError("park_on needs one or more error class names")
        if self.wait < timedelta(minutes=1):
            raise ValueError("a park waits at least a minute (shorter waits are retries)")
        if self.max_parks < 1:
            raise ValueError("max_parks must be at least 1")

    def parks(self, error: BaseException) -> bool:
        """Whether ``error`` is one this policy parks on."""
        return bool(_names(error) & set(self.park_on))


@dataclass(frozen=True, slots=True, kw_only=True)
class StepSpec:
    """One discrete, idempotent step; ``park`` lets it wait for an event instead of failing."""

    name: str
    description: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_seconds: int = 60
    park: ParkPolicy | None = None


@dataclass(frozen=True, slots=True)
class WorkflowDefinition:
    """A named, ordered list of steps."""

    name: str
    steps: tuple[StepSpec, ...]

    def __post_init__(self) -> None:
        names = [s.name for s in self.steps]
        if not names:
            raise ValueError("a workflow needs at least one step")
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate step names in {self.name}")

    def step(self, name: str) -> StepSpec:
        """The step called ``name``."""
        return next(s for s in self.steps if s.name == name)

    @property
    def step_names(self) -> tuple[str, ...]:
        """Step names in order."""
        return tuple(s.name for s in self.steps)


def step_functions_spec(definition: WorkflowDefinition) -> dict[str, Any]:
    """The definition as plain data a CDK construct turns into a state machine.

    Each step carries a ready Step Functions ``Retrier`` (``ErrorEquals``, ``IntervalSeconds``,
    ``BackoffRate``, ``MaxAttempts`` — retries after the first attempt, hence one less than the
    policy's attempt limit — ``MaxDelaySeconds`` and ``JitterStrategy: FULL``). The construct
    adds the documented Lambda service errors to its own retrier; these names are the worker's.
    """
    steps = []
    for step in definition.steps:
        policy = step.retry
        retrier: dict[str, Any] | None = None
        if policy.retry_on and policy.max_attempts > 1:
            retrier = {
                "ErrorEquals": list(policy.retry_on),
                "IntervalSeconds": int(policy.initial_delay),
                "BackoffRate": float(policy.backoff_rate),
                "MaxAttempts": policy.max_attempts - 1,
                "MaxDelaySeconds": int(policy.max_delay),
                "JitterStrategy": "FULL",
            }
        steps.append(
            {
                "name": step.name,
                "description": step.description,
                "timeout_seconds": step.timeout_seconds,
                "retry": retrier,
            }
        )
    return {"name": definition.name, "steps": steps}
