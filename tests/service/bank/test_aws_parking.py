"""The AWS path of a parked sync, end to end without Step Functions itself.

The deployed bank-sync machine's definition (the gate's synthesis of the app) is executed by
``tests.workflows.asl`` task by task against the worker Lambda's real entry point
(``worker_handler.handle``) on PostgreSQL and the signing sandbox bank; the API's launcher is
the real ``StepFunctionsLauncher`` on moto's Step Functions. A transactions request that is
never ready parks the run at ``poll_transactions`` (the execution ends "Parked"); the bank's
signed webhook through the API claims it and starts exactly one execution, named for that
deferral; that execution finishes the run and ingests everything once.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cdk_app.config import load_stage_config
from service import create_app
from service.banking import DateWindow
from service.banking.port import ProviderRegistry
from service.bootstrap import Services
from service.settings import Settings
from service.workflows.bank_sync import BANK_SYNC
from service.workflows.launcher import StepFunctionsLauncher, resume_execution_name
from service.workflows.store import RunRecord, RunStatus
from service.workflows.worker_handler import handle
from tests.app.conftest import GateRun, gate_run  # noqa: F401 - the session's synthesis
from tests.banking.sandbox_env import truth
from tests.fixtures.step_functions import moto_state_machine
from tests.service.bank.conftest import AuthHeader, Bank, all_transactions, connect, family_of
from tests.workflows import asl

PATH = "/v1/webhooks/truelayer"
REGION = "eu-west-2"
POLL = BANK_SYNC.step("poll_transactions")


@dataclass
class Aws:
    services: Services
    app: Flask
    api: FlaskClient
    sfn: Any
    arn: str
    bank: Bank
    definition: dict[str, Any]

    def execute(self, run_id: str, *, name: str) -> asl.Execution:
        """One execution of the deployed definition, each task calling the worker Lambda."""
        def invoke(payload: dict[str, Any]) -> dict[str, Any]:
            return handle(payload, services=self.services, s3_client=_no_s3)

        return asl.run(self.definition, {"run_id": run_id}, invoke=invoke, execution_name=name)

    def run(self, run_id: str) -> RunRecord:
        found = self.services.run_store.get(run_id)
        assert found is not None
        return found

    def executions(self) -> list[str]:
        return sorted(e["name"] for e in
                      self.sfn.list_executions(stateMachineArn=self.arn)["executions"])


def _no_s3() -> Any:
    raise AssertionError("a step needs no S3 client")


def _deployed_definition(synthesis: GateRun) -> dict[str, Any]:
    prefix = load_stage_config("prod").resource_prefix
    template = synthesis.template("prod", "Api")
    [props] = [r["Properties"] for r in template["Resources"].values()
               if r["Type"] == "AWS::StepFunctions::StateMachine"
               and r["Properties"]["StateMachineName"] == f"{prefix}-bank-sync"]
    parts = props["DefinitionString"]["Fn::Join"][1]
    return dict(json.loads("".join(p if isinstance(p, str) else json.dumps(json.dumps(p))[1:-1]
                                   for p in parts)))


@pytest.fixture
def aws(gate_run: GateRun, bank_settings: Settings, bank: Bank) -> Iterator[Aws]:  # noqa: F811
    settings = dataclasses.replace(bank_settings, truelayer_jku_allowlist=(bank.server.jku,))
    with moto_state_machine() as (sfn, arn):
        base = Services(settings, bank_providers=ProviderRegistry(bank.provider()))
        launcher = StepFunctionsLauncher(sfn, arn, definition=BANK_SYNC, store=base.run_store)
        services = Services(settings, bank_providers=base.bank_providers,
                            database=base.database, sync_launcher=launcher)
        app = create_app(services=services)
        app.config["TESTING"] = True

        def post(url: str, headers: dict[str, str], body: bytes) -> int:
            del url
            return app.test_client().post(PATH, headers=headers, data=body).status_code

        bank.bank.webhooks.post = post
        try:
            yield Aws(services, app, app.test_client(), sfn, arn, bank,
                      _deployed_definition(gate_run))
        finally:
            services.close()


def _view(items: list[dict[str, Any]]) -> Counter[tuple[str, date, int, str]]:
    return Counter((t["status"], date.fromisoformat(t["booked_on"]),
                    int(Decimal(t["amount"]["amount"]) * 100), t["description"]) for t in items)


@pytest.mark.synth
def test_a_parked_run_is_resumed_by_the_banks_webhook_as_one_execution(
    aws: Aws, bearer: AuthHeader,
) -> None:
    owner = bearer("o@example.com")
    fid = family_of(aws.api, owner)
    done = connect(aws.api, aws.bank, owner, fid)
    run_id = done["sync_run_id"]
    assert aws.executions() == [run_id]  # the callback's sync, started by the launcher
    for conn in aws.bank.bank.connections():  # every transactions request stays "pending"
        conn.quirks.polls_before_ready = 10**6

    # The first execution polls through its retries, then the worker parks on the last one.
    first = aws.execute(run_id, name=run_id)
    assert (first.status, first.end_state) == ("SUCCEEDED", "Parked")
    polls = [count for state, count in first.invocations if state == "poll_transactions"]
    assert polls == list(range(POLL.retry.max_attempts))  # RetryCount 0..11, no Catch
    run = aws.run(run_id)
    assert POLL.park is not None and run.resume_at is not None
    assert run.status is RunStatus.DEFERRED
    assert abs(run.resume_at - (datetime.now(UTC) + POLL.park.wait)) < timedelta(minutes=1)
    poll = run.step("poll_transactions")
    assert (poll.status, poll.attempts, poll.counts["parks"]) == (
        RunStatus.DEFERRED, POLL.retry.max_attempts, 1)
    assert run.last_error and run.last_error.startswith("TransactionsNotReadyError")
    assert {s.status for s in run.steps[5:]} == {RunStatus.PENDING}
    shown = aws.api.get(f"/v1/families/{fid}/connections/{done['connection']['id']}/syncs/"
                        f"{run_id}", headers=owner).json
    assert shown["status"] == "deferred" and shown["resume_at"]

    # A stray duplicate execution of the parked run stops at once and calls no bank.
    calls = len(aws.bank.bank.calls)
    stray = aws.execute(run_id, name=f"{run_id}-stray")
    assert (stray.end_state, stray.invocations) == ("Parked", [("refresh_credentials", 0)])
    assert len(aws.bank.bank.calls) == calls and aws.run(run_id).status is RunStatus.DEFERRED

    # The bank finishes every request and says so: the first webhook claims the run and
    # starts the execution named for this deferral; the others (and a redelivery) start none.
    aws.bank.bank.webhooks.url = f"https://api.example.test{PATH}"
    chains = run.state["chains"]
    requests = [h for pid in sorted(chains) for h in chains[pid]["handles"]]
    assert len(requests) >= 2
    assert [aws.bank.bank.complete_request(r) for r in requests] == [200] * len(requests)
    event, _ = aws.bank.bank.webhooks.sent[0]
    signed = aws.bank.bank.webhooks.signer.sign(PATH, event)
    again = aws.api.post(PATH, headers=signed.headers, data=signed.body)
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    resumed_name = resume_execution_name(run_id, run.resume_at)
    assert aws.executions() == sorted([run_id, resumed_name])
    claimed = aws.run(run_id)
    assert claimed.status is RunStatus.RUNNING and claimed.resume_at == run.resume_at

    # That execution finishes the run through the worker.
    resumed = aws.execute(run_id, name=resumed_name)
    assert (resumed.status, resumed.end_state) == ("SUCCEEDED", "Succeeded")
    assert resumed.attempts("poll_transactions") == 1
    finished = aws.run(run_id)
    assert finished.status is RunStatus.SUCCEEDED and finished.resume_at is None
    assert finished.step("poll_transactions").counts["parks"] == 1
    for name in BANK_SYNC.step_names[:4]:  # done before the park: not repeated
        assert finished.step(name).attempts == run.step(name).attempts
    window = DateWindow(date.fromisoformat(run.input["window_start"]),
                        date.fromisoformat(run.input["window_end"]))
    expected: Counter[tuple[str, date, int, str]] = Counter()
    for key, n in truth(aws.bank.bank, window).items():  # (account number, *what one sees)
        expected[key[1:]] += n
    stored = _view(all_transactions(aws.api, owner, fid))
    assert stored == expected and sum(expected.values()) > 50

    # A redelivered execution of the finished run changes nothing.
    calls = len(aws.bank.bank.calls)
    late = aws.execute(run_id, name=resumed_name)
    assert late.end_state == "Succeeded" and len(aws.bank.bank.calls) == calls
    assert _view(all_transactions(aws.api, owner, fid)) == stored
    assert aws.run(run_id).step("ingest_transactions").attempts == finished.step(
        "ingest_transactions").attempts
