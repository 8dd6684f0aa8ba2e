"""The one decision both runners make after a failed attempt: does it defer the run, until when?

:class:`~service.workflows.runner.InProcessRunner` (after each attempt of a pass) and
:class:`~service.workflows.runner.StepWorker` (after the attempt Step Functions' retry count
names) both call :func:`deferral_for`, so a run waits the same way locally and in AWS:

* a :class:`~service.banking.errors.RateLimitedError` the step retries, whose ``retry_at``
  lies beyond the step's longest backoff, defers the run until ``retry_at`` (at any attempt:
  holding a process, or burning retries, for hours helps nobody);
* an error the step's :class:`~service.workflows.definition.ParkPolicy` parks on, when it
  would otherwise fail the step, parks the run until now + the policy's wait -- unless the run
  already parked there ``max_parks`` times: then :class:`ParkLimitReachedError`.

:func:`defer` records either outcome on the run and its step the same way for both runners.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service.banking.errors import RateLimitedError
from service.workflows.definition import StepSpec
from service.workflows.store import RunRecord, RunStatus, StepRecord

#: The step counter of parks (``StepRecord.counts``), which bounds them per run.
PARKS = "parks"


class ParkLimitReachedError(Exception):
    """A step parked its run as often as its :class:`ParkPolicy` allows; it fails instead."""


@dataclass(frozen=True, slots=True)
class Deferral:
    """Defer the run until ``resume_at``; ``parked`` when the step's park policy said so
    (it waits on an event), not a provider's retry hint."""

    resume_at: datetime
    parked: bool


def deferral_for(
    spec: StepSpec, error: Exception, *, attempt: int, parks: int, now: datetime
) -> Deferral | None:
    """Whether failed attempt ``attempt`` (1-based, of this pass) of ``spec`` defers the run.

    ``parks`` is how often the run already parked at this step. ``None``: not deferred (the
    caller retries or fails as the step's retry policy says).

    Raises
    ------
    ParkLimitReachedError
        The step would park again but its policy's ``max_parks`` is reached.
    """
    policy = spec.retry
    if (policy.retries(error) and isinstance(error, RateLimitedError)
            and error.retry_at is not None
            and (error.retry_at - now).total_seconds() > policy.max_delay):
        return Deferral(error.retry_at, parked=False)
    park = spec.park
    would_fail = not policy.retries(error) or attempt >= policy.max_attempts
    if park is None or not would_fail or not park.parks(error):
        return None
    if parks >= park.max_parks:
        raise ParkLimitReachedError(
            f"{spec.name} gave up after parking the run {parks} time(s), "
            f"{park.wait} each: still {type(error).__name__}: {error}"[:400])
    return Deferral(now + park.wait, parked=True)


def parks_of(record: StepRecord) -> int:
    """How often the run parked at this step."""
    return record.counts.get(PARKS, 0)


def defer(run: RunRecord, record: StepRecord, deferral: Deferral) -> None:
    """Record ``deferral`` on ``run`` and its step ``record`` (the caller saves)."""
    record.status = RunStatus.DEFERRED
    if deferral.parked:
        record.counts[PARKS] = parks_of(record) + 1
    run.status = RunStatus.DEFERRED
    run.resume_at = deferral.resume_at
    run.last_error = record.last_error
