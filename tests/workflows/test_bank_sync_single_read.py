"""Where a bank sync ingests: in the poll step when one attempt read an account's whole cursor
chain (each page downloaded and parsed once), else in the ingest step, never both."""

from __future__ import annotations

from collections import Counter
from typing import Any

from service.banking import DateWindow
from service.db.port import TransientDatabaseError
from service.workflows import RunStatus
from service.workflows.bank_sync import FOLLOW_UP_PAGE_WAITS
from service.workflows.store import RunRecord
from tests.banking.sandbox_env import SandboxEnv, stored, truth
from tests.workflows.test_bank_sync import Harness, outcomes

_READ = "/transactions/requests/"


def _reads(env: SandboxEnv) -> Counter[str]:
    """How often each transactions request was read (GET) at the bank."""
    return Counter(
        c.path.rpartition("/")[2]
        for c in env.bank.calls
        if c.method == "GET" and _READ in c.path
    )


def _sizes(env: SandboxEnv, window: DateWindow) -> Counter[str]:
    """Transactions per account (by account number) in ``window`` at the bank."""
    return Counter(number for number, *_ in truth(env.bank, window).elements())


def _handles(run: RunRecord) -> dict[str, list[str]]:
    return {pid: chain["handles"] for pid, chain in run.state["chains"].items()}


def test_a_chain_read_whole_by_one_poll_attempt_is_ingested_there_and_read_once(
    env: SandboxEnv,
) -> None:
    h = Harness(env)
    window = h.window()
    quirks = env.bank.connection(h.connection.provider_connection_id).quirks
    quirks.page_size = min(_sizes(env, window).values()) // 2
    quirks.polls_before_ready = 0
    run = h.sync(window)
    assert run.status is RunStatus.SUCCEEDED, run.last_error
    assert stored(h.ingestion, window) == truth(env.bank, window)

    handles = _handles(run)
    assert all(len(chain) > 1 for chain in handles.values())  # several pages each
    every = [handle for chain in handles.values() for handle in chain]
    assert _reads(env) == Counter(every)  # each page read once, by the poll step
    assert all(chain["ingested"] for chain in run.state["chains"].values())

    poll, ingest = run.step("poll_transactions"), run.step("ingest_transactions")
    assert poll.attempts == 1 and poll.counts["pages"] == len(every)
    assert poll.counts["accounts_ingested"] == len(handles)
    total = sum(truth(env.bank, window).values())
    assert poll.counts["fetched"] == poll.counts["inserted"] == total
    assert ingest.status is RunStatus.SUCCEEDED and ingest.counts == {}  # nothing left to do


def test_a_chain_not_ready_midway_is_reread_and_ingested_by_the_ingest_step(
    env: SandboxEnv,
) -> None:
    # Every request answers "pending" once and the poll step does not wait for a follow-up
    # page: a one-page chain still ends within one attempt, a longer one spans attempts (its
    # second page is not ready when the first is read).
    h = Harness(env, page_waits=())
    window = h.window()
    small, large = sorted(_sizes(env, window).values())
    assert small < large
    # The smaller account fits one page, the larger takes three.
    page_size = max(small, large // 3 + 1)
    assert page_size < large
    env.bank.connection(h.connection.provider_connection_id).quirks.page_size = page_size
    run = h.sync(window)
    assert run.status is RunStatus.SUCCEEDED, run.last_error
    assert stored(h.ingestion, window) == truth(env.bank, window)

    poll, ingest = run.step("poll_transactions"), run.step("ingest_transactions")
    assert poll.attempts > 2 and poll.last_error.startswith("TransactionsNotReadyError")
    assert poll.counts["accounts_ingested"] == 1 and poll.counts["fetched"] == small
    assert ingest.counts["accounts_ingested"] == 1 and ingest.counts["fetched"] == large
    # The counts of the two steps add up to the run's.
    assert outcomes(run) == {"fetched": small + large, "inserted": small + large}

    chains = _handles(run)
    one_page = next(pid for pid, chain in chains.items() if len(chain) == 1)
    reads = _reads(env)
    # The one-page chain: a "pending" answer, then one read, never re-read by the ingest step.
    assert reads[chains[one_page][0]] == 2
    # The longer chain: its pages were read by the poll step and again by the ingest step.
    longer = next(chain for pid, chain in chains.items() if pid != one_page)
    assert all(reads[handle] >= 2 for handle in longer)


def test_a_rerun_counts_every_row_once_as_unchanged(env: SandboxEnv) -> None:
    env.bank.default_quirks.page_size = 40
    env.bank.default_quirks.polls_before_ready = 0
    h = Harness(env)
    window = h.window()
    h.sync(window)
    again = h.sync(window)
    total = sum(truth(env.bank, window).values())
    assert outcomes(again) == {"fetched": total, "unchanged": total}
    assert len(h.ingestion.transactions()) == total


def test_an_ingest_failure_in_the_poll_step_leaves_the_account_to_the_ingest_step(
    env: SandboxEnv,
) -> None:
    env.bank.default_quirks.page_size = 40
    env.bank.default_quirks.polls_before_ready = 0
    h = Harness(env)
    # A fault at the port: the store's first write fails as a resuming database would, then
    # the real in-memory store takes over.
    real = h.ingestion.ingest_window
    failures = iter([True])

    def flaky(**kwargs: Any) -> Counter[str]:
        if next(failures, False):
            raise TransientDatabaseError("the database is resuming")
        return real(**kwargs)

    h.ingestion.ingest_window = flaky  # type: ignore[method-assign]
    window = h.window()
    run = h.sync(window)
    assert run.status is RunStatus.SUCCEEDED, run.last_error
    assert stored(h.ingestion, window) == truth(env.bank, window)
    poll, ingest = run.step("poll_transactions"), run.step("ingest_transactions")
    # The first account's window failed in the poll step: its chain is complete, so the
    # retried poll step leaves it alone and the ingest step re-reads and ingests it.
    assert poll.attempts == 2 and poll.last_error.startswith("TransientDatabaseError")
    assert poll.counts["accounts_ingested"] == 1 and ingest.counts["accounts_ingested"] == 1
    assert outcomes(run)["inserted"] == sum(truth(env.bank, window).values())


def test_a_follow_up_page_prepared_within_the_waits_keeps_the_chain_in_the_poll_step(
    env: SandboxEnv,
) -> None:
    # Every request answers "pending" once (the sandbox's default): the first page is left to
    # the step's retry, each follow-up page is polled again after the first wait.
    h = Harness(env)
    window = h.window()
    env.bank.connection(h.connection.provider_connection_id).quirks.page_size = (
        min(_sizes(env, window).values()) // 3)
    run = h.sync(window)
    assert run.status is RunStatus.SUCCEEDED, run.last_error
    assert stored(h.ingestion, window) == truth(env.bank, window)
    handles = _handles(run)
    follow_ups = sum(len(chain) - 1 for chain in handles.values())
    assert follow_ups >= 2 * len(handles)
    assert h.page_sleeps == [FOLLOW_UP_PAGE_WAITS[0]] * follow_ups
    poll, ingest = run.step("poll_transactions"), run.step("ingest_transactions")
    assert poll.counts["page_waits"] == follow_ups
    assert poll.counts["accounts_ingested"] == len(handles) and ingest.counts == {}
    # Each request: one "pending" answer and one read; the ingest step read nothing again.
    assert set(_reads(env).values()) == {2}


def test_waits_that_run_out_leave_the_chain_to_the_ingest_step(env: SandboxEnv) -> None:
    h = Harness(env, page_waits=(0.2,))
    window = h.window()
    quirks = env.bank.connection(h.connection.provider_connection_id).quirks
    quirks.page_size = max(_sizes(env, window).values()) // 2 + 1  # at most two pages
    quirks.polls_before_ready = 2  # three reads per request: one wait is not enough
    run = h.sync(window)
    assert run.status is RunStatus.SUCCEEDED, run.last_error
    assert stored(h.ingestion, window) == truth(env.bank, window)
    paged = sum(1 for chain in _handles(run).values() if len(chain) > 1)
    assert paged >= 1
    poll, ingest = run.step("poll_transactions"), run.step("ingest_transactions")
    assert poll.counts["page_waits"] == paged  # one wait per follow-up page, then it gave up
    assert ingest.counts["accounts_ingested"] == paged
