"""Workflow definitions as data: validation, jitter bounds, the Step Functions export."""

from __future__ import annotations

import random

import pytest

from service.banking import ProviderUnavailableError, RateLimitedError, ReauthRequiredError
from service.workflows import RetryPolicy, StepSpec, WorkflowDefinition, step_functions_spec
from service.workflows.bank_sync import BANK_SYNC


def test_bank_sync_steps_in_order() -> None:
    assert BANK_SYNC.step_names == (
        "refresh_credentials",
        "accounts",
        "balances",
        "request_transactions",
        "poll_transactions",
        "ingest_transactions",
        "reconcile_pending",
        "post_processing",
    )


def test_export_is_the_definition_with_step_functions_retriers() -> None:
    spec = step_functions_spec(BANK_SYNC)
    assert spec["name"] == "bank-sync"
    assert [s["name"] for s in spec["steps"]] == list(BANK_SYNC.step_names)
    for exported, step in zip(spec["steps"], BANK_SYNC.steps, strict=True):
        retrier = exported["retry"]
        assert retrier == {
            "ErrorEquals": list(step.retry.retry_on),
            "IntervalSeconds": int(step.retry.initial_delay),
            "BackoffRate": step.retry.backoff_rate,
            "MaxAttempts": step.retry.max_attempts - 1,
            "MaxDelaySeconds": int(step.retry.max_delay),
            "JitterStrategy": "FULL",
        }
        assert exported["timeout_seconds"] == step.timeout_seconds
    poll = spec["steps"][4]["retry"]
    assert "TransactionsNotReadyError" in poll["ErrorEquals"]


def test_a_step_without_retries_exports_none() -> None:
    definition = WorkflowDefinition(
        "w", (StepSpec(name="once", description="d", retry=RetryPolicy(max_attempts=1)),)
    )
    assert step_functions_spec(definition)["steps"][0]["retry"] is None


def test_full_jitter_stays_within_the_exponential_ceiling() -> None:
    policy = RetryPolicy(max_attempts=10, initial_delay=2, backoff_rate=2, max_delay=20)
    rng = random.Random(0)
    for attempt in range(1, 10):
        ceiling = min(20, 2 * 2 ** (attempt - 1))
        delays = [policy.delay(attempt, rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # spread over the whole range, not a fixed wait


def test_retries_matches_by_class_name_including_bases() -> None:
    policy = RetryPolicy(retry_on=("ProviderUnavailableError", "RateLimitedError"))
    assert policy.retries(ProviderUnavailableError("x"))
    assert policy.retries(RateLimitedError("x", retry_at=None))
    assert not policy.retries(ReauthRequiredError("x"))
    assert RetryPolicy(retry_on=("ProviderError",)).retries(ReauthRequiredError("x"))


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"initial_delay": 0.5}, {"max_delay": 0.5}, {"backoff_rate": 0.9}],
)
def test_invalid_policies_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


def test_duplicate_or_no_steps_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        WorkflowDefinition(
            "w", (StepSpec(name="a", description=""), StepSpec(name="a", description=""))
        )
    with pytest.raises(ValueError, match="at least one"):
        WorkflowDefinition("w", ())
