"""The in-process runner on small workflows: retries, limits, records, deferral, resume."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from service.banking import ProviderUnavailableError, RateLimitedError, ReauthRequiredError
from service.banking.errors import TransactionsNotReadyError
from service.workflows import (
    InMemoryRunStore,
    InProcessRunner,
    ParkPolicy,
    RetryPolicy,
    RunStatus,
    StepContext,
    StepSpec,
    WorkflowDefinition,
)

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
RETRY = RetryPolicy(
    max_attempts=4,
    initial_delay=1,
    max_delay=30,
    retry_on=("ProviderUnavailableError", "RateLimitedError"),
)
FLOW = WorkflowDefinition(
    "test",
    (
        StepSpec(name="first", description="", retry=RETRY),
        StepSpec(name="second", description="", retry=RETRY),
    ),
)


class Clock:
    def __init__(self) -> None:
        self.now = NOW
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)


def runner(steps, store=None, clock=None) -> tuple[InProcessRunner, InMemoryRunStore, Clock]:
    store = store or InMemoryRunStore()
    clock = clock or Clock()
    return (
        InProcessRunner(
            FLOW, steps, store=store, clock=clock, sleep=clock.sleep, rng=random.Random(1)
        ),
        store,
        clock,
    )


def failing(times: int, error: Exception):
    calls = {"n": 0}

    def step(ctx: StepContext) -> None:
        calls["n"] += 1
        ctx.count("tries")
        if calls["n"] <= times:
            raise error
        ctx.state["first_done"] = True

    return step, calls


def ok(ctx: StepContext) -> None:
    ctx.count("done")


def test_transient_failures_retry_then_succeed_with_records() -> None:
    step, _calls = failing(2, ProviderUnavailableError("bank down"))
    run_, store, clock = runner({"first": step, "second": ok})
    run = run_.start({"x": 1}, run_id="run-1")
    assert run.status is RunStatus.SUCCEEDED
    first = run.step("first")
    assert (first.attempts, first.counts, first.status) == (3, {"tries": 3}, RunStatus.SUCCEEDED)
    assert first.last_error == "ProviderUnavailableError: bank down"
    assert run.state == {"first_done": True}
    assert len(clock.sleeps) == 2 and all(
        0 <= s <= RETRY.ceiling(i + 1) for i, s in enumerate(clock.sleeps)
    )
    assert store.get("run-1") == run


def test_attempts_are_bounded() -> None:
    step, calls = failing(100, ProviderUnavailableError("down"))
    run = runner({"first": step, "second": ok})[0].start({})
    assert run.status is RunStatus.FAILED and calls["n"] == RETRY.max_attempts
    assert run.step("second").status is RunStatus.PENDING
    assert run.last_error == "ProviderUnavailableError: down"


def test_non_retryable_error_fails_at_once() -> None:
    step, calls = failing(1, ReauthRequiredError("consent expired"))
    run, _, clock = runner({"first": step, "second": ok})
    result = run.start({})
    assert result.status is RunStatus.FAILED and calls["n"] == 1 and clock.sleeps == []
    assert result.step("first").last_error == "ReauthRequiredError: consent expired"


def test_short_retry_hint_is_waited_for() -> None:
    step, _ = failing(1, RateLimitedError("slow down", retry_at=NOW + timedelta(seconds=20)))
    result, _, clock = runner({"first": step, "second": ok})
    assert result.start({}).status is RunStatus.SUCCEEDED
    assert clock.sleeps[0] >= 20


def test_long_retry_hint_defers_and_resume_skips_finished_steps() -> None:
    later = NOW + timedelta(hours=10)
    second_calls = {"n": 0}

    def second(ctx: StepContext) -> None:
        second_calls["n"] += 1
        if second_calls["n"] == 1:
            raise RateLimitedError("daily limit", retry_at=later)

    first, first_calls = failing(0, ProviderUnavailableError("x"))
    run_, _store, clock = runner({"first": first, "second": second})
    run = run_.start({}, run_id="r")
    assert run.status is RunStatus.DEFERRED and run.resume_at == later
    assert clock.sleeps == []  # the process was not held for ten hours
    clock.now = later
    resumed = run_.resume("r")
    assert resumed.status is RunStatus.SUCCEEDED
    assert first_calls["n"] == 1 and second_calls["n"] == 2
    assert resumed.step("second").attempts == 2


def test_resume_of_a_finished_run_does_nothing() -> None:
    step, calls = failing(0, ProviderUnavailableError("x"))
    run_, _, _ = runner({"first": step, "second": ok})
    run_.start({}, run_id="r")
    assert run_.resume("r").status is RunStatus.SUCCEEDED and calls["n"] == 1


def test_steps_must_match_the_definition() -> None:
    with pytest.raises(ValueError, match="second"):
        InProcessRunner(FLOW, {"first": ok}, store=InMemoryRunStore())


PARKING = WorkflowDefinition(
    "parking",
    (
        StepSpec(name="first", description="", retry=RETRY),
        StepSpec(name="wait", description="", retry=RetryPolicy(
            max_attempts=3, initial_delay=1, max_delay=10,
            retry_on=("TransactionsNotReadyError",)),
            park=ParkPolicy(park_on=("TransactionsNotReadyError",),
                            wait=timedelta(minutes=30), max_parks=2)),
    ),
)


def parking_runner(ready: dict[str, bool]) -> tuple[InProcessRunner, Clock, dict[str, int]]:
    calls = {"first": 0, "wait": 0}

    def first(ctx: StepContext) -> None:
        calls["first"] += 1

    def wait(ctx: StepContext) -> None:
        calls["wait"] += 1
        if not ready["now"]:
            raise TransactionsNotReadyError("still being prepared")

    clock = Clock()
    return (InProcessRunner(PARKING, {"first": first, "wait": wait}, store=InMemoryRunStore(),
                            clock=clock, sleep=clock.sleep, rng=random.Random(1)), clock, calls)


def test_a_step_still_waiting_after_its_attempts_parks_the_run_and_resumes() -> None:
    ready = {"now": False}
    run_, clock, calls = parking_runner(ready)
    run = run_.start({}, run_id="p")
    assert clock.now > NOW  # the pass's backoffs were waited (recorded) before parking
    assert run.status is RunStatus.DEFERRED and run.resume_at == clock.now + timedelta(minutes=30)
    wait = run.step("wait")
    assert (wait.status, wait.attempts, wait.counts) == (RunStatus.DEFERRED, 3, {"parks": 1})
    assert len(clock.sleeps) == 2 and calls == {"first": 1, "wait": 3}
    assert run.last_error == "TransactionsNotReadyError: still being prepared"

    ready["now"] = True  # the event came: the run continues where it parked
    resumed = run_.resume("p")
    assert resumed.status is RunStatus.SUCCEEDED and resumed.resume_at is None
    assert calls == {"first": 1, "wait": 4} and resumed.step("wait").counts == {"parks": 1}


def test_parks_are_bounded_then_the_step_fails_with_the_reason() -> None:
    run_, _clock, calls = parking_runner({"now": False})
    assert run_.start({}, run_id="p").status is RunStatus.DEFERRED
    assert run_.resume("p").status is RunStatus.DEFERRED
    failed = run_.resume("p")
    assert failed.status is RunStatus.FAILED and calls["wait"] == 9
    assert failed.step("wait").status is RunStatus.FAILED
    assert failed.step("wait").counts == {"parks": 2}
    assert failed.last_error is not None and failed.last_error.startswith(
        "ParkLimitReachedError: wait gave up after parking the run 2 time(s)")
