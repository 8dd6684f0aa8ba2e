"""A user's sync answers 202 with its run id at once and runs in the background (locally as
in AWS), on PostgreSQL against the sandbox bank."""

from __future__ import annotations

import threading

from flask.testing import FlaskClient

from devtools.sandbox_bank.models import Call
from tests.service.bank.conftest import AuthHeader, Bank, connect, family_of
from tests.service.conftest import settle_syncs


def test_the_202_comes_before_the_sync_runs_and_the_run_finishes_later(
    api: FlaskClient, bank: Bank, bearer: AuthHeader
) -> None:
    owner = bearer("o@example.com")
    fid = family_of(api, owner)
    cid = connect(api, bank, owner, fid)["connection"]["id"]
    # The bank holds every call until the test has read the run the 202 named.
    released = threading.Event()
    original = bank.bank.before_call

    def before_call(call: Call) -> None:
        assert released.wait(timeout=30), "the test never released the bank"
        original(call)

    bank.bank.before_call = before_call  # type: ignore[method-assign]
    try:
        started = api.post(f"/v1/families/{fid}/connections/{cid}/syncs", headers=owner)
        assert started.status_code == 202, started.json
        path = f"/v1/families/{fid}/connections/{cid}/syncs/{started.json['run_id']}"
        during = api.get(path, headers=owner).json
        assert during["status"] in ("pending", "running"), during
        steps = {s["name"]: s["status"] for s in during["steps"]}
        assert steps["accounts"] in ("pending", "running")
        assert steps["ingest_transactions"] == "pending"
        # One sync at a time still holds while it runs.
        assert api.post(f"/v1/families/{fid}/connections/{cid}/syncs",
                        headers=owner).status_code == 409
    finally:
        released.set()
    settle_syncs(api.application)
    after = api.get(path, headers=owner).json
    assert after["status"] == "succeeded", after
    assert all(s["status"] == "succeeded" for s in after["steps"])
