"""The worker Lambda's event contract and the Step Functions launcher, on PostgreSQL, against
the sandbox bank, with S3 and Step Functions on moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import boto3
import pytest
from moto import mock_aws

from devtools.sandbox_bank import SandboxBank, SandboxBankServer
from service.banking.errors import ReauthRequiredError
from service.bootstrap import Services
from service.repositories.sync_runs import RunAlreadyActiveError
from service.settings import Settings
from service.use_cases import families as families_uc
from service.webhooks.bank_sync_hooks import BankSyncWebhookHooks
from service.webhooks.events import RunAlreadyActive
from service.workflows.bank_sync import BANK_SYNC
from service.workflows.launcher import (
    LaunchFailedError,
    StepFunctionsLauncher,
    resume_execution_name,
)
from service.workflows.runner import RunNotActiveError
from service.workflows.store import RunStatus
from service.workflows.worker_handler import handle
from tests.banking.sandbox_env import ingest_outcomes
from tests.fixtures.step_functions import moto_state_machine
from tests.service.conftest import sandbox_providers
from tests.service.domain.helpers import add_connection, principal

REGION = "eu-west-2"


@pytest.fixture
def bank() -> Iterator[SandboxBankServer]:
    server = SandboxBankServer(SandboxBank()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def services(postgres_url: str, tmp_path: Path, bank: SandboxBankServer) -> Iterator[Services]:
    settings = Settings(runtime="local", database_url=postgres_url, local_dir=tmp_path,
                        sync_manifest_bucket="manifests", log_level="WARNING")
    built = Services(settings, bank_providers=sandbox_providers(bank),
                     workflow_sleep=lambda _: None)
    try:
        yield built
    finally:
        built.close()


def _connection(services: Services, bank: SandboxBankServer, email: str = "o") -> str:
    """An active connection whose sealed id is a consented sandbox connection."""
    at_bank = bank.bank.create_connection(scopes=["info", "accounts", "balance", "transactions"],
                                          redirect_uri="http://127.0.0.1/cb", state="s")
    bank.bank.decide(at_bank.id, allow=True)
    owner = principal(email)
    family = families_uc.create_family(services.database, services.audit_signer, owner,
                                       name="Worker family")
    conn = add_connection(services.database, services.audit_signer, services.keyring, owner,
                          family.id, provider_ref=at_bank.id)
    return str(conn.id)


def _no_s3() -> Any:
    raise AssertionError("this action needs no S3 client")


def test_create_then_every_step_completes_the_run(services: Services,
                                                   bank: SandboxBankServer) -> None:
    ref = _connection(services, bank)
    created = handle({"action": "create", "connection_ref": ref, "trigger": "schedule"},
                     services=services, s3_client=_no_s3)
    assert created["skip"] is False and created["run_id"]
    again = handle({"action": "create", "connection_ref": ref, "trigger": "schedule"},
                   services=services, s3_client=_no_s3)
    assert again == {"run_id": None, "skip": True,
                     "reason": "a sync of this connection is already running"}

    for name in BANK_SYNC.step_names:
        for _ in range(5):  # the state machine's Retry: poll until the bank is ready
            try:
                out = handle({"action": "step", "run_id": created["run_id"], "step": name},
                             services=services, s3_client=_no_s3)
                break
            except Exception as error:
                assert type(error).__name__ == "TransactionsNotReadyError", error
        assert out == {"run_id": created["run_id"], "deferred": False}
    run = services.run_store.get(created["run_id"])
    assert run is not None and run.status is RunStatus.SUCCEEDED
    assert ingest_outcomes((s.name, s.counts) for s in run.steps)["inserted"] > 0
    # Unattended: no user IP went to the bank.
    assert {c.user_ip for c in bank.bank.calls if c.connection_id} == {None}

    # Succeeded: the next scheduled sync waits (the bank's unattended limit).
    later = handle({"action": "create", "connection_ref": ref}, services=services,
                   s3_client=_no_s3)
    assert later["skip"] is True and "not due" in later["reason"]


def test_a_failing_step_raises_its_class_and_fail_records_it(services: Services,
                                                             bank: SandboxBankServer) -> None:
    ref = _connection(services, bank)
    created = handle({"action": "create", "connection_ref": ref}, services=services,
                     s3_client=_no_s3)
    for conn in bank.bank.connections():
        conn.quirks.consent_expired = True
    handle({"action": "step", "run_id": created["run_id"], "step": "refresh_credentials"},
           services=services, s3_client=_no_s3)
    with pytest.raises(ReauthRequiredError):
        handle({"action": "step", "run_id": created["run_id"], "step": "accounts"},
               services=services, s3_client=_no_s3)
    failed = handle({"action": "fail", "run_id": created["run_id"], "step": "accounts",
                     "error": {"Error": "ReauthRequiredError"}},
                    services=services, s3_client=_no_s3)
    assert failed == {"run_id": created["run_id"]}
    run = services.run_store.get(created["run_id"])
    assert run is not None and run.status is RunStatus.FAILED
    assert run.step("accounts").last_error.startswith("ReauthRequiredError")
    status = services.database.fetch_one("SELECT status FROM connections WHERE id = :id",
                                         {"id": UUID(ref)})
    assert status == {"status": "reauth_required"}
    skipped = handle({"action": "create", "connection_ref": ref}, services=services,
                     s3_client=_no_s3)
    assert skipped["skip"] is True and "reauth_required" in skipped["reason"]

    # A zombie execution of the failed run is refused; its Catch keeps the run's own error.
    with pytest.raises(RunNotActiveError):
        handle({"action": "step", "run_id": created["run_id"], "step": "balances",
                "retry_count": 0}, services=services, s3_client=_no_s3)
    assert handle({"action": "fail", "run_id": created["run_id"], "step": "balances",
                   "error": {"Error": "RunNotActiveError"}},
                  services=services, s3_client=_no_s3) == {"run_id": created["run_id"]}
    assert services.run_store.get(created["run_id"]) == run


def test_unknown_connections_are_skipped_and_unknown_actions_refused(
    services: Services,
) -> None:
    for ref in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        assert handle({"action": "create", "connection_ref": ref}, services=services,
                      s3_client=_no_s3) == {"run_id": None, "skip": True,
                                            "reason": "unknown connection"}
    with pytest.raises(ValueError, match="unknown worker action"):
        handle({"action": "nope"}, services=services, s3_client=_no_s3)


def test_manifest_lists_every_active_connection_in_s3(services: Services,
                                                      bank: SandboxBankServer) -> None:
    refs = {_connection(services, bank, email=f"m{i}") for i in range(3)}
    revoked = _connection(services, bank, email="gone")
    with services.database.transaction() as tx:  # as the owner would see it after a delete
        tx.execute("UPDATE connections SET status = 'revoked' WHERE id = :id",
                   {"id": UUID(revoked)})
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="manifests",
                         CreateBucketConfiguration={"LocationConstraint": REGION})
        out = handle({"action": "manifest"}, services=services, s3_client=lambda: s3)
        body = json.loads(s3.get_object(Bucket=out["bucket"], Key=out["key"])["Body"].read())
    assert out["bucket"] == "manifests" and out["count"] == 3
    assert {item["connection_ref"] for item in body} == refs


def test_step_functions_launcher_starts_one_execution_per_run(services: Services,
                                                              bank: SandboxBankServer) -> None:
    ref = _connection(services, bank)
    with moto_state_machine() as (sfn, arn):
        launcher = StepFunctionsLauncher(sfn, arn, definition=BANK_SYNC,
                                         store=services.run_store)
        run_input = {"connection_ref": ref, "window_start": "2026-11-01",
                     "window_end": "2026-11-30"}
        run_id = launcher.start(run_input)
        with pytest.raises(RunAlreadyActiveError):
            launcher.start(run_input)
        executions = sfn.list_executions(stateMachineArn=arn)["executions"]
        assert [e["name"] for e in executions] == [run_id]
        described = sfn.describe_execution(executionArn=executions[0]["executionArn"])
        assert json.loads(described["input"]) == {"run_id": run_id}

        broken = StepFunctionsLauncher(sfn, arn + "-missing", definition=BANK_SYNC,
                                       store=services.run_store)
        other = _connection(services, bank, email="other")
        with pytest.raises(LaunchFailedError):
            broken.start({**run_input, "connection_ref": other})
    # The failed launch does not block the connection's next sync.
    assert services.run_store.active_run_id(UUID(other)) is None


class RolledBackError(Exception):
    """Stands for whatever fails a webhook's transaction after its handler ran."""


def test_a_webhook_resumes_a_deferred_run_as_one_named_execution(
    services: Services, bank: SandboxBankServer
) -> None:
    """Claimed in the webhook's open transaction, started once: a redelivery after a rollback
    names the same execution, and a claimed (running) run is not resumed again."""
    ref = _connection(services, bank)
    provider_id = bank.bank.connections()[0].id
    with moto_state_machine() as (sfn, arn):
        launcher = StepFunctionsLauncher(sfn, arn, definition=BANK_SYNC,
                                         store=services.run_store)
        run_id = launcher.start({"connection_ref": ref, "window_start": "2026-11-01",
                                 "window_end": "2026-11-30"})
        run = services.run_store.get(run_id)
        assert run is not None
        resume_at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
        run.status, run.resume_at = RunStatus.DEFERRED, resume_at
        run.state = {"chains": {"acc-1": {"handles": ["req-1"], "done": False}}}
        run.step("poll_transactions").status = RunStatus.DEFERRED
        services.run_store.save(run)
        hooks = BankSyncWebhookHooks(provider="truelayer", signer=lambda: services.audit_signer,
                                     launcher=lambda: launcher)

        with pytest.raises(RolledBackError), services.database.transaction() as tx:
            assert hooks.find_waiting_run(tx, provider_id, "acc-1", "req-1") == run_id
            hooks.resume_run(run_id)
            raise RolledBackError  # the inbox's transaction fails after the start
        again = services.run_store.get(run_id)
        assert again is not None and again.status is RunStatus.DEFERRED
        with services.database.transaction() as tx:  # the provider's retry
            assert hooks.find_waiting_run(tx, provider_id, "acc-1", "req-1") == run_id
            hooks.resume_run(run_id)
        with services.database.transaction() as tx:  # a later event for the same request
            assert hooks.find_waiting_run(tx, provider_id, "acc-1", "req-1") == (
                RunAlreadyActive(run_id))
            assert hooks.find_waiting_run(tx, provider_id, "acc-1", "req-2") is None

        names = sorted(e["name"] for e in sfn.list_executions(stateMachineArn=arn)["executions"])
        assert names == sorted([run_id, resume_execution_name(run_id, resume_at)])
        claimed = services.run_store.get(run_id)
        assert claimed is not None and claimed.status is RunStatus.RUNNING
