"""The run sweep on PostgreSQL: abandoned runs failed once their lease has passed, live and
waiting runs left alone, due deferred runs claimed once (Step Functions on moto), the
worker's ``sweep`` action; the lease derived from the definition. Runs are recorded through
the run store, as the runners record them; only their age is set, as the database owner
(``updated_at`` is the database's own clock)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from service.bootstrap import AwsClients, Services
from service.repositories import run_sweep
from service.repositories.sync_runs import AbandonedRunError, RunAlreadyActiveError
from service.settings import Settings
from service.use_cases import families as families_uc
from service.workflows.bank_sync import BANK_SYNC
from service.workflows.definition import RetryPolicy, StepSpec, WorkflowDefinition
from service.workflows.launcher import StepFunctionsLauncher, new_run, resume_execution_name
from service.workflows.runner import InProcessRunner, RunNotActiveError, StepContext, StepWorker
from service.workflows.store import InMemoryRunStore, RunRecord, RunStatus
from service.workflows.sweep import longest_gap, run_lease, sweep_runs
from service.workflows.worker_handler import handle
from tests.fixtures.step_functions import moto_state_machine
from tests.service.domain.helpers import add_connection, principal

REGION = "eu-west-2"
LEASE = run_lease(BANK_SYNC)


@dataclasses.dataclass
class Db:
    """The app's services on a fresh database, and SQL as its owner."""

    services: Services
    owner_url: str

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.owner_url) as conn:
            cursor = conn.execute(query, params)
            return list(cursor.fetchall()) if cursor.description else []

    def age(self, run_id: str, by: timedelta) -> None:
        """Make the run's record look unchanged for ``by``."""
        self.sql("UPDATE sync_runs SET updated_at = now() - %s WHERE id = %s", by, run_id)

    def run(self, run_id: str) -> RunRecord:
        found = self.services.run_store.get(run_id)
        assert found is not None
        return found


@pytest.fixture
def db(postgres_url: str, postgres_owner_url: str, tmp_path: Path) -> Iterator[Db]:
    settings = Settings(runtime="local", database_url=postgres_url, local_dir=tmp_path,
                        log_level="WARNING")
    services = Services(settings)
    try:
        yield Db(services, postgres_owner_url)
    finally:
        services.close()


def connection(db: Db, email: str = "o") -> str:
    owner = principal(email)
    family = families_uc.create_family(db.services.database, db.services.audit_signer, owner,
                                       name="Sweep family")
    return str(add_connection(db.services.database, db.services.audit_signer,
                              db.services.keyring, owner, family.id).id)


def recorded(db: Db, ref: str, *, status: RunStatus = RunStatus.RUNNING,
             at_step: int = 2) -> RunRecord:
    """A run as a worker leaves it mid-sync: steps before ``at_step`` done, that one running."""
    run = new_run(BANK_SYNC, {"connection_ref": ref, "window_start": "2026-11-01",
                              "window_end": "2026-11-30"}, status=status,
                  now=datetime.now(UTC))
    if status is not RunStatus.PENDING:
        for step in run.steps[:at_step]:
            step.status, step.attempts = RunStatus.SUCCEEDED, 1
        run.steps[at_step].status, run.steps[at_step].attempts = RunStatus.RUNNING, 1
    db.services.run_store.save(run)
    return run


def deferred(db: Db, ref: str, *, resume_at: datetime) -> RunRecord:
    """A run parked at ``poll_transactions`` until ``resume_at`` (a provider's retry hint)."""
    run = recorded(db, ref, at_step=BANK_SYNC.step_names.index("poll_transactions"))
    run.status, run.resume_at = RunStatus.DEFERRED, resume_at
    run.step("poll_transactions").status = RunStatus.DEFERRED
    run.state = {"chains": {"acc-1": {"handles": ["req-1"], "done": False}}}
    db.services.run_store.save(run)
    return run


@pytest.fixture
def sfn() -> Iterator[tuple[Any, str]]:
    """Step Functions on moto, and a bank-sync machine's ARN."""
    with moto_state_machine() as machine:
        yield machine


def launcher_of(db: Db, sfn: tuple[Any, str], *, arn: str | None = None) -> StepFunctionsLauncher:
    client, machine = sfn
    return StepFunctionsLauncher(client, arn or machine, definition=BANK_SYNC,
                                 store=db.services.run_store)


def executions(sfn: tuple[Any, str]) -> list[str]:
    client, arn = sfn
    return sorted(e["name"] for e in client.list_executions(stateMachineArn=arn)["executions"])


# --- the lease ---------------------------------------------------------------------------


def test_the_lease_is_twice_the_longest_gap_between_saves() -> None:
    retried = StepSpec(name="a", description="a", timeout_seconds=10,
                       retry=RetryPolicy(max_attempts=3, initial_delay=1, backoff_rate=2,
                                         max_delay=3, retry_on=("X",)))
    once = StepSpec(name="b", description="b", timeout_seconds=20)  # retries nothing
    single = StepSpec(name="c", description="c", timeout_seconds=5,
                      retry=RetryPolicy(max_attempts=1, retry_on=("X",)))
    # A wait at the 3 s cap, then a 10 s attempt; a 20 s attempt; a 5 s attempt, no wait.
    assert longest_gap(retried) == timedelta(seconds=13)
    assert longest_gap(once) == timedelta(seconds=20)
    assert longest_gap(single) == timedelta(seconds=5)
    assert run_lease(WorkflowDefinition("w", (retried, once, single))) == timedelta(seconds=40)


def test_the_bank_sync_lease_moves_with_its_definition() -> None:
    assert max(longest_gap(step) for step in BANK_SYNC.steps) * 2 == LEASE
    slower = WorkflowDefinition(BANK_SYNC.name, tuple(
        dataclasses.replace(step, timeout_seconds=step.timeout_seconds * 2)
        for step in BANK_SYNC.steps))
    assert run_lease(slower) > LEASE
    patient = WorkflowDefinition(BANK_SYNC.name, tuple(
        dataclasses.replace(step, retry=dataclasses.replace(step.retry, max_delay=600))
        for step in BANK_SYNC.steps))
    assert run_lease(patient) > LEASE


class TimedStore(InMemoryRunStore):
    """Records when (on the test's clock) each save happened."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.clock = clock
        self.saved_at: list[datetime] = []

    def save(self, run: RunRecord) -> None:
        self.saved_at.append(self.clock())
        super().save(run)


class NotYetError(Exception):
    """A retryable failure."""


def test_a_live_in_process_run_saves_within_every_gap_of_its_lease() -> None:
    """Every attempt takes its whole timeout and every wait its whole cap: the record still
    moves at least once per :func:`longest_gap`, half the lease."""
    now = [datetime(2026, 12, 1, tzinfo=UTC)]

    def clock() -> datetime:
        return now[0]

    def elapse(seconds: float) -> None:
        now[0] += timedelta(seconds=seconds)

    policy = RetryPolicy(max_attempts=4, initial_delay=5, backoff_rate=3, max_delay=30,
                         retry_on=("NotYetError",))
    definition = WorkflowDefinition("w", (
        StepSpec(name="slow", description="s", timeout_seconds=120, retry=policy),
        StepSpec(name="flaky", description="f", timeout_seconds=40, retry=policy),
    ))
    failures = {"slow": 3, "flaky": 2}

    def step(name: str) -> Callable[[StepContext], None]:
        def run(_: StepContext) -> None:
            elapse(definition.step(name).timeout_seconds)
            if failures[name]:
                failures[name] -= 1
                raise NotYetError(name)
        return run

    store = TimedStore(clock)
    runner = InProcessRunner(definition, {n: step(n) for n in definition.step_names},
                             store=store, clock=clock, sleep=lambda s: elapse(policy.max_delay),
                             rng=random.Random(1))
    assert runner.start({}).status is RunStatus.SUCCEEDED
    gaps = [b - a for a, b in itertools.pairwise(store.saved_at)]
    assert max(gaps) <= max(longest_gap(s) for s in definition.steps) == run_lease(
        definition) / 2


# --- abandoned runs ------------------------------------------------------------------------


def test_a_run_left_running_past_its_lease_is_failed_and_a_new_sync_can_start(
    db: Db, sfn: tuple[Any, str]
) -> None:
    ref = connection(db)
    stuck = recorded(db, ref)
    db.age(stuck.run_id, LEASE + timedelta(minutes=1))
    launcher = launcher_of(db, sfn)
    with pytest.raises(RunAlreadyActiveError):  # what the stuck run did to its connection
        launcher.start(stuck.input)
    before = db.sql("SELECT status, status_reason, last_synced_at, next_unattended_sync_at "
                    "FROM connections WHERE id = %s", ref)

    swept = sweep_runs(db.services.database, launcher, definition=BANK_SYNC)

    assert swept.abandoned == (stuck.run_id,) and swept.resumed == ()
    assert swept.counts() == {"abandoned": 1, "resumed": 0, "launch_failed": 0}
    run = db.run(stuck.run_id)
    assert run.status is RunStatus.FAILED and run.finished_at is not None
    assert run.last_error is not None
    assert run.last_error.startswith("AbandonedRunError: no progress since ")
    running = run.steps[2]
    assert running.status is RunStatus.FAILED and running.last_error == run.last_error
    assert [s.status for s in run.steps[:2]] == [RunStatus.SUCCEEDED] * 2
    assert {s.status for s in run.steps[3:]} == {RunStatus.PENDING}
    # A failure like any other but a lost consent: the connection is as it was.
    assert db.sql("SELECT status, status_reason, last_synced_at, next_unattended_sync_at "
                  "FROM connections WHERE id = %s", ref) == before
    # The connection syncs again, and a second sweep finds nothing more to do.
    new_id = launcher.start(stuck.input)
    assert executions(sfn) == [new_id]
    assert sweep_runs(db.services.database, launcher, definition=BANK_SYNC).counts() == {
        "abandoned": 0, "resumed": 0, "launch_failed": 0}


def test_a_pending_run_that_never_started_is_abandoned_too(db: Db, sfn: tuple[Any, str]) -> None:
    ref = connection(db)
    never = recorded(db, ref, status=RunStatus.PENDING)
    db.age(never.run_id, LEASE + timedelta(seconds=1))
    assert sweep_runs(db.services.database, launcher_of(db, sfn),
                      definition=BANK_SYNC).abandoned == (never.run_id,)
    run = db.run(never.run_id)
    assert run.status is RunStatus.FAILED
    assert {s.status for s in run.steps} == {RunStatus.PENDING}  # no step ever ran


def test_live_and_waiting_runs_are_left_alone(db: Db, sfn: tuple[Any, str]) -> None:
    live = recorded(db, connection(db, "live"))
    db.age(live.run_id, LEASE - timedelta(minutes=1))
    waiting = deferred(db, connection(db, "waiting"),
                       resume_at=datetime.now(UTC) + timedelta(hours=2))
    db.age(waiting.run_id, LEASE * 10)  # deferred for hours is what deferred means
    done = recorded(db, connection(db, "done"))
    done.status = RunStatus.SUCCEEDED
    db.services.run_store.save(done)
    db.age(done.run_id, LEASE * 10)
    snapshot = db.sql("SELECT id, status, updated_at, last_error FROM sync_runs ORDER BY id")

    swept = sweep_runs(db.services.database, launcher_of(db, sfn), definition=BANK_SYNC)

    assert swept.counts() == {"abandoned": 0, "resumed": 0, "launch_failed": 0}
    assert db.sql("SELECT id, status, updated_at, last_error FROM sync_runs ORDER BY id") == (
        snapshot)
    assert executions(sfn) == []


def test_an_abandoned_run_is_never_written_again(db: Db, sfn: tuple[Any, str]) -> None:
    """An execution alive after all (a worker that was only slow) cannot revive its run."""
    ref = connection(db)
    zombie = recorded(db, ref)
    db.age(zombie.run_id, LEASE * 2)
    sweep_runs(db.services.database, launcher_of(db, sfn), definition=BANK_SYNC)
    after_sweep = db.sql("SELECT status, last_error, updated_at FROM sync_runs WHERE id = %s",
                         zombie.run_id)
    steps = db.sql("SELECT position, status, attempts FROM sync_run_steps WHERE run_id = %s "
                   "ORDER BY position", zombie.run_id)
    new_id = launcher_of(db, sfn).start(zombie.input)

    # Its in-flight attempt ends and saves what it holds (running, one more attempt) ...
    zombie.steps[2].attempts += 1
    with pytest.raises(AbandonedRunError):
        db.services.run_store.save(zombie)
    # ... then the worker refuses its next step, and its Catch leaves the failed run as it is.
    worker = StepWorker(BANK_SYNC, db.services.bank_sync_steps(), store=db.services.run_store)
    with pytest.raises(RunNotActiveError):
        worker.handle({"run_id": zombie.run_id, "step": zombie.steps[3].name})
    assert worker.fail({"run_id": zombie.run_id, "step": zombie.steps[2].name}) == {
        "run_id": zombie.run_id}

    assert db.sql("SELECT status, last_error, updated_at FROM sync_runs WHERE id = %s",
                  zombie.run_id) == after_sweep
    assert db.sql("SELECT position, status, attempts FROM sync_run_steps WHERE run_id = %s "
                  "ORDER BY position", zombie.run_id) == steps
    assert db.services.run_store.active_run_id(UUID(ref)) == new_id


def test_a_bounded_batch_per_sweep(db: Db, sfn: tuple[Any, str]) -> None:
    stuck = [recorded(db, connection(db, f"o{i}")) for i in range(3)]
    for i, run in enumerate(stuck):
        db.age(run.run_id, LEASE + timedelta(minutes=3 - i))  # the first is the oldest
    launcher = launcher_of(db, sfn)
    first = sweep_runs(db.services.database, launcher, definition=BANK_SYNC, batch_size=2)
    assert first.abandoned == (stuck[0].run_id, stuck[1].run_id)
    second = sweep_runs(db.services.database, launcher, definition=BANK_SYNC, batch_size=2)
    assert second.abandoned == (stuck[2].run_id,)
    with pytest.raises(ValueError, match="batch_size"):
        sweep_runs(db.services.database, launcher, definition=BANK_SYNC, batch_size=0)


# --- due deferred runs ---------------------------------------------------------------------


def test_a_due_deferred_run_is_resumed_as_the_deferral_s_execution(
    db: Db, sfn: tuple[Any, str]
) -> None:
    resume_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    due = deferred(db, connection(db), resume_at=resume_at)
    later = deferred(db, connection(db, "later"),
                     resume_at=datetime.now(UTC) + timedelta(hours=1))
    launcher = launcher_of(db, sfn)

    swept = sweep_runs(db.services.database, launcher, definition=BANK_SYNC)

    assert swept.resumed == (due.run_id,) and swept.abandoned == ()
    assert executions(sfn) == [resume_execution_name(due.run_id, resume_at)]
    claimed = db.run(due.run_id)
    assert claimed.status is RunStatus.RUNNING and claimed.resume_at == resume_at
    assert db.run(later.run_id).status is RunStatus.DEFERRED
    # Claimed: the next sweep leaves it to its execution.
    assert sweep_runs(db.services.database, launcher, definition=BANK_SYNC).resumed == ()
    assert len(executions(sfn)) == 1


def test_a_launch_failure_leaves_the_run_deferred_for_the_next_sweep(
    db: Db, sfn: tuple[Any, str]
) -> None:
    resume_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    due = deferred(db, connection(db), resume_at=resume_at)
    broken = launcher_of(db, sfn, arn=sfn[1] + "-missing")

    swept = sweep_runs(db.services.database, broken, definition=BANK_SYNC)

    assert swept.launch_failed == (due.run_id,) and swept.resumed == ()
    run = db.run(due.run_id)
    assert run.status is RunStatus.DEFERRED and run.resume_at == resume_at
    assert run.step("poll_transactions").status is RunStatus.DEFERRED
    # Step Functions is back: the next sweep resumes it.
    assert sweep_runs(db.services.database, launcher_of(db, sfn),
                      definition=BANK_SYNC).resumed == (due.run_id,)
    assert executions(sfn) == [resume_execution_name(due.run_id, resume_at)]


def test_a_claim_held_elsewhere_is_skipped_not_waited_for(db: Db, sfn: tuple[Any, str]) -> None:
    """Another transaction (a webhook, another sweep) holding the run's row: the sweep moves
    on at once; once that transaction commits its claim, the run is no longer due."""
    due = deferred(db, connection(db), resume_at=datetime.now(UTC) - timedelta(minutes=1))
    launcher = launcher_of(db, sfn)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.services.database.transaction() as tx:
            claim = run_sweep.claim_due_run(tx, workflow=BANK_SYNC.name)
            assert claim is not None and claim.run_id == due.run_id
            holding.set()
            assert release.wait(timeout=30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(timeout=30)
        assert sweep_runs(db.services.database, launcher, definition=BANK_SYNC).resumed == ()
    finally:
        release.set()
        holder.join()
    assert db.run(due.run_id).status is RunStatus.RUNNING
    assert sweep_runs(db.services.database, launcher, definition=BANK_SYNC).resumed == ()
    assert executions(sfn) == []


# --- the worker's sweep action ---------------------------------------------------------------


def test_the_worker_sweep_action_fails_abandoned_runs_and_resumes_due_ones(
    db: Db, sfn: tuple[Any, str], postgres_url: str, tmp_path: Path
) -> None:
    """As in Lambda: the launcher is the Step Functions one the settings name."""
    client, arn = sfn
    settings = Settings(runtime="local", database_url=postgres_url, local_dir=tmp_path,
                        log_level="WARNING", bank_sync_state_machine_arn=arn)
    worker_services = Services(settings, clients=AwsClients(stepfunctions=client))
    stuck = recorded(db, connection(db, "stuck"))
    db.age(stuck.run_id, LEASE + timedelta(minutes=1))
    resume_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    due = deferred(db, connection(db, "due"), resume_at=resume_at)
    try:
        out = handle({"action": "sweep"}, services=worker_services, s3_client=_no_s3)
        again = handle({"action": "sweep"}, services=worker_services, s3_client=_no_s3)
    finally:
        worker_services.close()

    assert out == {"abandoned": 1, "resumed": 1, "launch_failed": 0}
    assert again == {"abandoned": 0, "resumed": 0, "launch_failed": 0}
    assert db.run(stuck.run_id).status is RunStatus.FAILED
    assert db.run(due.run_id).status is RunStatus.RUNNING
    assert executions(sfn) == [resume_execution_name(due.run_id, resume_at)]
    described = client.describe_execution(executionArn=client.list_executions(
        stateMachineArn=arn)["executions"][0]["executionArn"])
    assert json.loads(described["input"]) == {"run_id": due.run_id}


def _no_s3() -> Any:
    raise AssertionError("the sweep needs no S3 client")
