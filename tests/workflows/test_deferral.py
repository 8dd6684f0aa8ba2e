"""The park policy and the one deferral decision both runners make."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.banking import ProviderUnavailableError, RateLimitedError, ReauthRequiredError
from service.banking.errors import ProviderError, TransactionsNotReadyError
from service.workflows import (
    Deferral,
    ParkLimitReachedError,
    ParkPolicy,
    RetryPolicy,
    RunRecord,
    RunStatus,
    StepRecord,
    StepSpec,
    deferral_for,
)
from service.workflows.bank_sync import BANK_SYNC
from service.workflows.deferral import PARKS, defer

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
RETRY = RetryPolicy(max_attempts=3, initial_delay=1, max_delay=60,
                    retry_on=("TransactionsNotReadyError", "RateLimitedError",
                              "ProviderUnavailableError"))
PARK = ParkPolicy(park_on=("TransactionsNotReadyError",), wait=timedelta(minutes=30),
                  max_parks=2)
POLL = StepSpec(name="poll", description="", retry=RETRY, park=PARK)
PLAIN = StepSpec(name="plain", description="", retry=RETRY)
NOT_READY = TransactionsNotReadyError("1 account(s) still being prepared")


def decide(spec: StepSpec, error: Exception, attempt: int, parks: int = 0) -> Deferral | None:
    return deferral_for(spec, error, attempt=attempt, parks=parks, now=NOW)


def test_a_park_error_retries_within_the_pass_and_parks_on_its_last_attempt() -> None:
    assert decide(POLL, NOT_READY, 1) is None
    assert decide(POLL, NOT_READY, 2) is None
    assert decide(POLL, NOT_READY, 3) == Deferral(NOW + timedelta(minutes=30), parked=True)


def test_a_park_error_the_step_does_not_retry_parks_at_once() -> None:
    once = StepSpec(name="once", description="", retry=RetryPolicy(max_attempts=3), park=PARK)
    assert decide(once, NOT_READY, 1) == Deferral(NOW + PARK.wait, parked=True)


def test_other_errors_and_steps_without_a_policy_never_park() -> None:
    assert decide(POLL, ProviderUnavailableError("down"), 3) is None
    assert decide(POLL, ReauthRequiredError("expired"), 1) is None
    assert decide(PLAIN, NOT_READY, 3) is None


def test_the_park_limit_fails_the_step_with_its_reason() -> None:
    assert decide(POLL, NOT_READY, 3, parks=1) is not None
    with pytest.raises(ParkLimitReachedError, match=r"poll gave up after parking the run 2 "
                       r"time\(s\), 0:30:00 each: still TransactionsNotReadyError: 1 account"):
        decide(POLL, NOT_READY, 3, parks=2)
    assert decide(POLL, NOT_READY, 2, parks=2) is None  # not the last attempt: retry first


def test_a_long_retry_hint_defers_at_any_attempt_a_short_one_does_not() -> None:
    long = RateLimitedError("daily limit", retry_at=NOW + timedelta(hours=5))
    for spec in (POLL, PLAIN):
        assert decide(spec, long, 1) == Deferral(NOW + timedelta(hours=5), parked=False)
    assert decide(PLAIN, RateLimitedError("slow down", retry_at=NOW + timedelta(seconds=30)),
                  1) is None
    assert decide(PLAIN, RateLimitedError("no hint", retry_at=None), 3) is None
    unretried = StepSpec(name="u", description="", retry=RetryPolicy(max_attempts=2))
    assert decide(unretried, long, 1) is None  # the step fails it: nothing to wait for


def test_policies_match_by_class_or_base_name() -> None:
    assert PARK.parks(NOT_READY)
    assert not PARK.parks(ProviderUnavailableError("x"))
    assert ParkPolicy(park_on=("ProviderError",), wait=timedelta(hours=1)).parks(
        ProviderError("x"))


@pytest.mark.parametrize("kwargs", [
    {"park_on": ()},
    {"park_on": ("Not a name",)},
    {"wait": timedelta(seconds=30)},
    {"max_parks": 0},
])
def test_invalid_park_policies_are_refused(kwargs: dict) -> None:
    fields = {"park_on": ("E",), "wait": timedelta(minutes=5), "max_parks": 1} | kwargs
    with pytest.raises(ValueError):
        ParkPolicy(**fields)


def test_defer_records_the_run_and_step_and_counts_parks_only() -> None:
    run = RunRecord(run_id="r", workflow="w", input={}, steps=[StepRecord("poll")],
                    status=RunStatus.RUNNING)
    record = run.step("poll")
    record.last_error = "TransactionsNotReadyError: 1 account(s) still being prepared"
    defer(run, record, Deferral(NOW + PARK.wait, parked=True))
    assert (run.status, run.resume_at, record.status) == (
        RunStatus.DEFERRED, NOW + PARK.wait, RunStatus.DEFERRED)
    assert run.last_error == record.last_error and record.counts == {PARKS: 1}
    defer(run, record, Deferral(NOW + timedelta(hours=5), parked=False))
    assert record.counts == {PARKS: 1} and run.resume_at == NOW + timedelta(hours=5)


def test_the_bank_sync_parks_only_at_poll_for_a_request_still_being_prepared() -> None:
    parked = {s.name: s.park for s in BANK_SYNC.steps if s.park is not None}
    assert list(parked) == ["poll_transactions"]
    assert parked["poll_transactions"].park_on == ("TransactionsNotReadyError",)
    poll = BANK_SYNC.step("poll_transactions")
    assert decide(poll, NOT_READY, poll.retry.max_attempts - 1) is None
    assert decide(poll, NOT_READY, poll.retry.max_attempts) is not None
