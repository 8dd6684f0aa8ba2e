"""A full bank sync through the in-process runner against the sandbox bank over HTTP."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

from service.banking import DateWindow, ProviderConnection, ProviderRegistry
from service.banking.ingestion import InMemoryIngestion
from service.workflows import InMemoryRunStore, InProcessRunner, RunStatus
from service.workflows.bank_sync import (
    BANK_SYNC,
    FOLLOW_UP_PAGE_WAITS,
    BankSyncDeps,
    InMemorySyncTargets,
    PostSyncEvent,
    SyncTarget,
    bank_sync_input,
    bank_sync_steps,
    default_window,
)
from service.workflows.store import RunRecord
from tests.banking.sandbox_env import SandboxEnv, ingest_outcomes, stored, truth


class Harness:
    """One connection, its ingestion store and a runner; the runner's sleeps are recorded."""

    def __init__(self, env: SandboxEnv, *, page_waits: Sequence[float] = FOLLOW_UP_PAGE_WAITS,
                 **provider_overrides: object) -> None:
        self.env = env
        self.provider = env.provider(**provider_overrides)
        self.connection = env.connect(self.provider)
        self.ingestion = InMemoryIngestion()
        self.targets = InMemorySyncTargets(
            {"conn-1": SyncTarget("family-1", "truelayer", self.connection)}
        )
        self.events: list[PostSyncEvent] = []
        self.store = InMemoryRunStore()
        self.sleeps: list[float] = []
        self.page_sleeps: list[float] = []  # the poll step's waits for a follow-up page
        deps = BankSyncDeps(
            providers=ProviderRegistry(self.provider),
            targets=self.targets,
            ingestion=self.ingestion,
            hooks=[self.events.append],
            page_waits=page_waits,
            sleep=self.page_sleeps.append,
        )
        self.runner = InProcessRunner(
            BANK_SYNC,
            bank_sync_steps(deps),
            store=self.store,
            clock=env.bank.now,
            sleep=self.sleeps.append,
            rng=random.Random(5),
        )

    def window(self, days: int = 120) -> DateWindow:
        return default_window(self.env.bank.now().date(), days=days)

    def sync(self, window: DateWindow | None = None, **kwargs: object):
        return self.runner.start(bank_sync_input("conn-1", window or self.window(), **kwargs))  # type: ignore[arg-type]


def outcomes(run: RunRecord) -> Counter[str]:
    """The run's ingest counts, over the poll step and the ingest step."""
    return ingest_outcomes((s.name, s.counts) for s in run.steps)


def test_full_sync_matches_the_bank_and_records_every_step(env: SandboxEnv) -> None:
    env.bank.default_quirks.page_size = 50
    h = Harness(env)
    window = h.window()
    run = h.sync(window)
    assert run.status is RunStatus.SUCCEEDED, run.last_error
    assert stored(h.ingestion, window) == truth(env.bank, window)
    steps = {s.name: s for s in run.steps}
    assert all(s.status is RunStatus.SUCCEEDED for s in run.steps)
    assert steps["accounts"].counts == {"accounts": 2}
    assert steps["balances"].counts == {"recorded": 2}
    assert steps["poll_transactions"].attempts >= 2  # first poll answers "pending"
    assert steps["poll_transactions"].last_error.startswith("TransactionsNotReadyError")
    assert steps["poll_transactions"].counts["pages"] > 2
    assert outcomes(run)["inserted"] == sum(truth(env.bank, window).values())
    assert len(h.ingestion.balances(next(iter(run.state["accounts"].values())))) == 1
    assert h.events == [
        PostSyncEvent(run.run_id, "conn-1", tuple(sorted(run.state["accounts"].values())), window)
    ]


def test_rerun_is_idempotent(env: SandboxEnv) -> None:
    h = Harness(env)
    window = h.window()
    h.sync(window)
    rows = {(r.row_id, r.provider_transaction_id) for r in h.ingestion.transactions()}
    again = h.sync(window)
    ingest = outcomes(again)
    assert set(ingest) == {"fetched", "unchanged"} and ingest["unchanged"] == len(rows)
    assert {(r.row_id, r.provider_transaction_id) for r in h.ingestion.transactions()} == rows
    assert again.step("balances").counts == {"already_recorded": 2}  # same bank time, same snapshot


def test_fault_injection_loses_and_duplicates_nothing(env: SandboxEnv) -> None:
    env.bank.default_quirks.page_size = 30
    h = Harness(env)
    env.bank.switches.error_rate = 0.3  # 30% of every call answers 503, the token endpoint too
    window = h.window()
    run = h.sync(window)
    assert run.status is RunStatus.SUCCEEDED, run.last_error
    assert stored(h.ingestion, window) == truth(env.bank, window)
    assert env.sleeps  # the adapter really retried
    env.bank.advance(days=2)
    window2 = h.window()
    assert h.sync(window2).status is RunStatus.SUCCEEDED
    assert stored(h.ingestion, window2) == truth(env.bank, window2)


def test_pending_books_later_under_a_new_id_without_duplicates(env: SandboxEnv) -> None:
    h = Harness(env)
    h.sync(h.window(30))
    pending = {r.row_id for r in h.ingestion.transactions() if r.state.value == "pending"}
    assert pending
    env.bank.advance(days=4)
    window = h.window(30)
    run = h.sync(window)
    counts = outcomes(run)
    assert counts["pending_booked"] == len(pending)
    assert stored(h.ingestion, window) == truth(env.bank, window)
    booked_now = {r.row_id for r in h.ingestion.transactions() if r.state.value == "booked"}
    assert pending <= booked_now  # the same rows, now booked


def test_changed_ids_never_duplicate(env: SandboxEnv) -> None:
    env.bank.default_quirks.changed_id_every = 4
    h = Harness(env)
    window = h.window()
    h.sync(window)
    run = h.sync(window)
    assert outcomes(run)["changed_id"] > 0
    assert stored(h.ingestion, window) == truth(env.bank, window)


def test_expired_consent_fails_at_refresh_credentials_with_its_reason(env: SandboxEnv) -> None:
    h = Harness(env)
    env.bank.advance(days=91)
    run = h.sync()
    assert run.status is RunStatus.FAILED
    first = run.step("refresh_credentials")
    assert first.attempts == 1 and first.last_error.startswith("ReauthRequiredError")
    assert run.step("accounts").status is RunStatus.PENDING


def test_revoked_at_the_bank_fails_the_accounts_step_once(env: SandboxEnv) -> None:
    h = Harness(env)
    h.provider.revoke_connection(h.connection)
    run = h.sync()
    assert run.status is RunStatus.FAILED
    assert run.step("accounts").attempts == 1
    assert "ReauthRequiredError" in run.last_error


def test_reconfirmed_consent_links_the_same_accounts_without_duplicates(env: SandboxEnv) -> None:
    h = Harness(env)
    window = h.window()
    first = h.sync(window)
    accounts_before = set(first.state["accounts"].values())
    fresh = h.provider.start_reconfirmation(
        h.connection, state="again", redirect_uri="http://127.0.0.1/cb", user_ip=None
    )
    env.bank.decide(fresh.provider_connection_id, allow=True)
    h.targets.targets["conn-1"] = SyncTarget(
        "family-1", "truelayer", ProviderConnection(fresh.provider_connection_id)
    )
    second = h.sync(window)
    assert set(second.state["accounts"].values()) == accounts_before
    assert len(h.ingestion.accounts()) == 2
    assert stored(h.ingestion, window) == truth(env.bank, window)


def test_unattended_daily_limit_defers_the_run_until_midnight(env: SandboxEnv) -> None:
    env.bank.default_quirks.unattended_daily_limit = 1
    h = Harness(env)
    run = h.sync()  # balances use the one unattended call per account...
    assert run.status is RunStatus.DEFERRED  # ...so the transactions request is refused
    assert run.step("request_transactions").status is RunStatus.DEFERRED
    assert run.resume_at is not None and run.resume_at.hour == 0
    env.bank.advance(days=1)
    resumed = h.runner.resume(run.run_id)
    assert resumed.status is RunStatus.SUCCEEDED, resumed.last_error
    assert resumed.step("balances").attempts == 1  # not repeated


def test_user_present_sync_is_not_limited(env: SandboxEnv) -> None:
    env.bank.default_quirks.unattended_daily_limit = 1
    h = Harness(env)
    run = h.sync(user_ip="203.0.113.9", now=env.bank.now())
    assert run.status is RunStatus.SUCCEEDED
    data_calls = [c for c in env.bank.calls if c.path.startswith("/v3/connected-accounts")]
    assert data_calls and all(c.user_ip == "203.0.113.9" for c in data_calls)


def test_user_ip_is_not_sent_once_the_user_has_left(env: SandboxEnv) -> None:
    h = Harness(env)
    run_input = bank_sync_input("conn-1", h.window(), user_ip="203.0.113.9", now=env.bank.now())
    env.bank.advance(minutes=11)
    calls_before = len(env.bank.calls)
    assert h.runner.start(run_input).status is RunStatus.SUCCEEDED
    assert all(c.user_ip is None for c in env.bank.calls[calls_before:])


def test_window_ending_before_today_is_synced_as_given(env: SandboxEnv) -> None:
    h = Harness(env)
    end = env.bank.now().date() - timedelta(days=40)
    window = DateWindow(end - timedelta(days=30), end)
    assert h.sync(window).status is RunStatus.SUCCEEDED
    assert stored(h.ingestion, window) == truth(env.bank, window)
    assert all(window.contains(r.booked_on) for r in h.ingestion.transactions())


def test_answer_off_the_wire_format_fails_the_step_and_ingests_nothing(env: SandboxEnv) -> None:
    h = Harness(env)
    env.bank.connection(h.connection.provider_connection_id).quirks.malformed_items = True
    run = h.sync()
    assert run.status is RunStatus.FAILED
    poll = run.step("poll_transactions")
    assert poll.attempts == 2  # one "pending" answer, then the malformed one, not retried
    assert "ProviderRejectedError" in poll.last_error and "amount" in poll.last_error
    assert h.ingestion.transactions() == []
