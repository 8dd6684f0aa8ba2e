"""The worker Step Functions invokes, driven by the exported spec as a state machine would."""

from __future__ import annotations

from typing import Any

import pytest

from service.banking import ProviderRegistry
from service.banking.ingestion import InMemoryIngestion
from service.workflows import InMemoryRunStore, RunStatus, StepWorker, step_functions_spec
from service.workflows.bank_sync import (
    BANK_SYNC,
    BankSyncDeps,
    InMemorySyncTargets,
    SyncTarget,
    bank_sync_input,
    bank_sync_steps,
    default_window,
)
from tests.banking.sandbox_env import SandboxEnv, stored, truth


def drive(spec: dict[str, Any], worker: StepWorker, run_id: str) -> list[tuple[str, int]]:
    """Interpret the exported steps like Step Functions: Task, Retry by error name, Catch."""
    tries = []
    for step in spec["steps"]:
        retrier = step["retry"] or {"ErrorEquals": [], "MaxAttempts": 0}
        attempt = 0
        while True:
            attempt += 1
            try:
                worker.handle({"run_id": run_id, "step": step["name"]})
                break
            except Exception as error:
                names = {c.__name__ for c in type(error).__mro__}
                if names & set(retrier["ErrorEquals"]) and attempt <= retrier["MaxAttempts"]:
                    continue
                worker.fail({"run_id": run_id, "step": step["name"]})
                tries.append((step["name"], attempt))
                return tries
        tries.append((step["name"], attempt))
    return tries


def test_worker_sync_under_the_exported_spec_matches_the_bank(env: SandboxEnv) -> None:
    provider = env.provider()
    conn = env.connect(provider)
    ingestion = InMemoryIngestion()
    deps = BankSyncDeps(
        providers=ProviderRegistry(provider),
        targets=InMemorySyncTargets({"c": SyncTarget("fam", "truelayer", conn)}),
        ingestion=ingestion,
    )
    store = InMemoryRunStore()
    worker = StepWorker(BANK_SYNC, bank_sync_steps(deps), store=store, clock=env.bank.now)
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
    provider = env.provider()
    conn = env.connect(provider)
    provider.revoke_connection(conn)
    deps = BankSyncDeps(
        providers=ProviderRegistry(provider),
        targets=InMemorySyncTargets({"c": SyncTarget("fam", "truelayer", conn)}),
        ingestion=InMemoryIngestion(),
    )
    store = InMemoryRunStore()
    worker = StepWorker(BANK_SYNC, bank_sync_steps(deps), store=store, clock=env.bank.now)
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
