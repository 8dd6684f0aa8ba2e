"""The worker Step Functions invokes, driven by the exported spec as a state machine would."""

from __future__ import annotations

from typing import Any

import pytest

from service.banking import ProviderRegistry
from service.banking.errors import ReauthRequiredError, TransactionsNotReadyError
from service.banking.ingestion import InMemoryIngestion
from service.workflows import (
    InMemoryRunStore,
    ParkLimitReachedError,
    RunNotActiveError,
    RunStatus,
    StepWorker,
    step_functions_spec,
)
from service.workflows.bank_sync import (
    BANK_SYNC,
    BankSyncDeps,
    InMemorySyncTargets,
    SyncTarget,
    bank_sync_input,
    bank_sync_steps,
    default_window,
)
from service.workflows.launcher import resume_execution_name
from tests.banking.sandbox_env import SandboxEnv, stored, truth


def drive(spec: dict[str, Any], worker: StepWorker, run_id: str,
          execution: str = "exec-1") -> list[tuple[str, int]]:
    """Interpret the exported steps like Step Functions: Task (with ``$$.State.RetryCount``),
    Retry by error name, Catch, and the Choice that stops a parked run."""
    tries = []
    for step in spec["steps"]:
        retrier = step["retry"] or {"ErrorEquals": [], "MaxAttempts": 0}
        attempt = 0
        while True:
            attempt += 1
            try:
                answer = worker.handle({"run_id": run_id, "step": step["name"],
                                        "retry_count": attempt - 1, "execution": execution})
                break
            except Exception as error:
                if type(error).__name__ in retrier["ErrorEquals"] and (
                        attempt <= retrier["MaxAttempts"]):
                    continue
                worker.fail({"run_id": run_id, "step": step["name"]})
                tries.append((step["name"], attempt))
                return tries
        tries.append((step["name"], attempt))
        if answer["deferred"]:
            return tries
    return tries


def sandbox_worker(env: SandboxEnv, *, revoked: bool = False
                   ) -> tuple[StepWorker, InMemoryRunStore, InMemoryIngestion]:
    """A worker over one sandbox connection ``"c"`` (revoked at the bank if asked)."""
    provider = env.provider()
    conn = env.connect(provider)
    if revoked:
        provider.revoke_connection(conn)
    ingestion = InMemoryIngestion()
    deps = BankSyncDeps(
        providers=ProviderRegistry(provider),
        targets=InMemorySyncTargets({"c": SyncTarget("fam", "truelayer", conn)}),
        ingestion=ingestion,
    )
    store = InMemoryRunStore()
    return (StepWorker(BANK_SYNC, bank_sync_steps(deps), store=store, clock=env.bank.now),
            store, ingestion)


def test_worker_sync_under_the_exported_spec_matches_the_bank(env: SandboxEnv) -> None:
    worker, store, ingestion = sandbox_worker(env)
    window = default_window(env.bank.now().date(), days=60)
    env.bank.switches.error_rate = 0.25
    run_id = worker.create(bank_sync_input("c", window))
    tries = drive(step_functions_spec(BANK_SYNC), worker, run_id)
    run = store.get(run_id)
    assert run is not None and run.status is RunStatus.SUCCEEDED, run.last_error if run else None
    assert [name for name, _ in tries] == list(BANK_SYNC.step_names)
    assert dict(tries)["poll_transactions"] >= 2
    assert stored(ingestion, window) == truth(env.bank, window)
    # A redelivered task for a finished step does nothing.
    before = run.step("accounts").attempts
    worker.handle({"run_id": run_id, "step": "accounts"})
    after = store.get(run_id)
    assert after is not None and after.step("accounts").attempts == before


def test_worker_records_a_caught_failure(env: SandboxEnv) -> None:
    worker, store, _ = sandbox_worker(env, revoked=True)
    run_id = worker.create(bank_sync_input("c", default_window(env.bank.now().date())))
    tries = drive(step_functions_spec(BANK_SYNC), worker, run_id)
    assert tries[-1] == ("accounts", 1)  # ReauthRequiredError is not in ErrorEquals
    run = store.get(run_id)
    assert run is not None and run.status is RunStatus.FAILED
    assert run.last_error is not None and run.last_error.startswith("ReauthRequiredError")


def test_worker_refuses_unknown_steps_and_runs() -> None:
    worker = StepWorker(BANK_SYNC, bank_sync_steps(None), store=InMemoryRunStore())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown step"):
        worker.handle({"run_id": "r", "step": "nope"})
    with pytest.raises(KeyError):
        worker.handle({"run_id": "missing", "step": "accounts"})


POLL = BANK_SYNC.step("poll_transactions")


def parked_run(env: SandboxEnv) -> tuple[StepWorker, InMemoryRunStore, InMemoryIngestion, str]:
    """A run the worker parked at poll: every transactions request stays pending."""
    env.bank.default_quirks.polls_before_ready = 10**6
    worker, store, ingestion = sandbox_worker(env)
    run_id = worker.create(bank_sync_input("c", default_window(env.bank.now().date())))
    tries = drive(step_functions_spec(BANK_SYNC), worker, run_id)
    assert tries[-1] == ("poll_transactions", POLL.retry.max_attempts)
    return worker, store, ingestion, run_id


def test_the_worker_parks_on_its_last_attempt_instead_of_raising(env: SandboxEnv) -> None:
    _, store, _, run_id = parked_run(env)
    run = store.get(run_id)
    assert run is not None and run.status is RunStatus.DEFERRED
    assert POLL.park is not None and run.resume_at == env.bank.now() + POLL.park.wait
    poll = run.step("poll_transactions")
    assert (poll.status, poll.attempts, poll.counts["parks"]) == (
        RunStatus.DEFERRED, POLL.retry.max_attempts, 1)
    assert run.step("ingest_transactions").status is RunStatus.PENDING


def test_a_deferred_run_answers_deferred_unless_this_execution_resumes_it(
    env: SandboxEnv,
) -> None:
    worker, store, _, run_id = parked_run(env)
    before = store.get(run_id)
    assert before is not None and before.resume_at is not None
    calls = len(env.bank.calls)
    for name in BANK_SYNC.step_names:  # a stray duplicate execution does nothing
        assert worker.handle({"run_id": run_id, "step": name, "retry_count": 0,
                              "execution": "someone-else"}) == {"run_id": run_id,
                                                                "deferred": True}
    assert store.get(run_id) == before and len(env.bank.calls) == calls

    # The execution named for this deferral works on it, even before the claim commits.
    for conn in env.bank.connections():
        conn.quirks.polls_before_ready = 0
    name = resume_execution_name(run_id, before.resume_at)
    tries = drive(step_functions_spec(BANK_SYNC), worker, run_id, execution=name)
    assert [n for n, _ in tries] == list(BANK_SYNC.step_names)
    after = store.get(run_id)
    assert after is not None and after.status is RunStatus.SUCCEEDED
    assert after.resume_at is None and after.last_error is None


def test_a_failed_run_is_refused_and_the_catch_keeps_its_error(env: SandboxEnv) -> None:
    provider = env.provider()
    conn = env.connect(provider)
    provider.revoke_connection(conn)
    deps = BankSyncDeps(providers=ProviderRegistry(provider),
                        targets=InMemorySyncTargets({"c": SyncTarget("fam", "truelayer", conn)}),
                        ingestion=InMemoryIngestion())
    store = InMemoryRunStore()
    worker = StepWorker(BANK_SYNC, bank_sync_steps(deps), store=store, clock=env.bank.now)
    run_id = worker.create(bank_sync_input("c", default_window(env.bank.now().date())))
    drive(step_functions_spec(BANK_SYNC), worker, run_id)
    failed = store.get(run_id)
    assert failed is not None and failed.status is RunStatus.FAILED
    with pytest.raises(RunNotActiveError, match="has failed"):
        worker.handle({"run_id": run_id, "step": "balances", "retry_count": 0})
    assert worker.fail({"run_id": run_id, "step": "balances"}) == {"run_id": run_id}
    assert store.get(run_id) == failed  # nothing overwritten: the original error stays


def test_the_park_limit_fails_the_step_with_its_reason(env: SandboxEnv) -> None:
    worker, store, _, run_id = parked_run(env)
    assert POLL.park is not None
    run = store.get(run_id)
    assert run is not None and run.resume_at is not None
    run.step("poll_transactions").counts["parks"] = POLL.park.max_parks
    store.save(run)
    name = resume_execution_name(run_id, run.resume_at)
    with pytest.raises(TransactionsNotReadyError):  # not the last attempt: retried
        worker.handle({"run_id": run_id, "step": "poll_transactions", "retry_count": 0,
                       "execution": name})
    with pytest.raises(ParkLimitReachedError):
        worker.handle({"run_id": run_id, "step": "poll_transactions",
                       "retry_count": POLL.retry.max_attempts - 1, "execution": name})
    worker.fail({"run_id": run_id, "step": "poll_transactions"})
    failed = store.get(run_id)
    assert failed is not None and failed.status is RunStatus.FAILED
    assert failed.last_error is not None and failed.last_error.startswith(
        "ParkLimitReachedError: poll_transactions gave up after parking the run 4 time(s)")


def test_a_succeeded_run_stays_a_no_op(env: SandboxEnv) -> None:
    worker, store, _ = sandbox_worker(env)
    run_id = worker.create(bank_sync_input("c", default_window(env.bank.now().date())))
    drive(step_functions_spec(BANK_SYNC), worker, run_id)
    done = store.get(run_id)
    assert done is not None and done.status is RunStatus.SUCCEEDED
    calls = len(env.bank.calls)
    for name in BANK_SYNC.step_names:
        assert worker.handle({"run_id": run_id, "step": name}) == {"run_id": run_id,
                                                                    "deferred": False}
    assert store.get(run_id) == done and len(env.bank.calls) == calls


def test_a_long_rate_limit_defers_the_run_at_once_instead_of_burning_retries(
    env: SandboxEnv,
) -> None:
    worker, store, _ = sandbox_worker(env)
    for conn in env.bank.connections():
        conn.quirks.rate_limit_next, conn.quirks.retry_after = 1, 7200
    run_id = worker.create(bank_sync_input("c", default_window(env.bank.now().date())))
    tries = drive(step_functions_spec(BANK_SYNC), worker, run_id)
    assert tries[-1] == ("accounts", 1)  # the first bank call: deferred on its first attempt
    run = store.get(run_id)
    assert run is not None and run.status is RunStatus.DEFERRED
    assert run.resume_at is not None
    assert (run.resume_at - env.bank.now()).total_seconds() == pytest.approx(7200, abs=5)
    accounts = run.step("accounts")
    assert accounts.status is RunStatus.DEFERRED and "parks" not in accounts.counts
    assert run.last_error is not None and run.last_error.startswith("RateLimitedError")


@pytest.mark.parametrize("name", ["States.Timeout", "Lambda.Unknown"])
def test_an_attempt_ended_by_step_functions_is_recorded_by_its_error_name(
    env: SandboxEnv, name: str
) -> None:
    worker, store, _ = sandbox_worker(env)
    run_id = worker.create(bank_sync_input("c", default_window(env.bank.now().date())))
    worker.handle({"run_id": run_id, "step": "refresh_credentials", "retry_count": 0})
    # The accounts attempt never answered: the task timed out, or the function crashed.
    worker.fail({"run_id": run_id, "step": "accounts",
                 "error": {"Error": name, "Cause": "token=secret-looking-detail"}})
    run = store.get(run_id)
    assert run is not None and run.status is RunStatus.FAILED
    assert run.last_error is not None and run.last_error.startswith(f"{name}: ")
    assert "secret" not in run.last_error
    assert run.step("accounts").last_error == run.last_error


def test_the_step_s_own_error_is_kept_when_the_catch_reports_it(env: SandboxEnv) -> None:
    worker, store, _ = sandbox_worker(env, revoked=True)
    run_id = worker.create(bank_sync_input("c", default_window(env.bank.now().date())))
    worker.handle({"run_id": run_id, "step": "refresh_credentials", "retry_count": 0})
    with pytest.raises(ReauthRequiredError) as raised:
        worker.handle({"run_id": run_id, "step": "accounts", "retry_count": 0})
    worker.fail({"run_id": run_id, "step": "accounts",
                 "error": {"Error": type(raised.value).__name__, "Cause": "{}"}})
    run = store.get(run_id)
    assert run is not None and run.last_error is not None
    assert run.last_error.startswith("ReauthRequiredError")
