"""Connect → callback → sync → visible through the API, on PostgreSQL against the sandbox bank."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask.testing import FlaskClient

from service.bootstrap import Services
from tests.service.bank.conftest import (
    AuthHeader,
    Bank,
    all_transactions,
    connect,
    family_of,
    outcomes,
)
from tests.service.conftest import settle_syncs


def keyed(items: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter((t["account_id"], t["status"], t["booked_on"], t["amount"]["amount"],
                    t["description"]) for t in items)


def test_connect_callback_sync_and_read_back(api: FlaskClient, bank: Bank, bearer: AuthHeader,
                                             services: Services) -> None:
    owner = bearer("owner@example.com")
    fid = family_of(api, owner)
    done = connect(api, bank, owner, fid)
    cid = done["connection"]["id"]
    assert done["connection"]["status"] == "active"
    run_id = done["sync_run_id"]

    run = api.get(f"/v1/families/{fid}/connections/{cid}/syncs/{run_id}", headers=owner)
    assert run.status_code == 200, run.json
    assert run.json["status"] == "succeeded", run.json
    ingested = outcomes(run.json)
    assert ingested["inserted"] > 50
    assert all(s["status"] == "succeeded" for s in run.json["steps"])

    listed = api.get(f"/v1/families/{fid}/connections", headers=owner).json["items"]
    assert [c["id"] for c in listed] == [cid]
    assert listed[0]["last_synced_at"] and listed[0]["next_unattended_sync_at"]

    accounts = api.get(f"/v1/families/{fid}/accounts", headers=owner).json["items"]
    assert len(accounts) == run.json["steps"][1]["counts"]["accounts"]
    first = all_transactions(api, owner, fid)
    assert len(first) == ingested["inserted"]

    # The user was present: the adapter sent their IP (from CloudFront-Viewer-Address).
    assert {c.user_ip for c in bank.bank.calls if c.connection_id} == {"203.0.113.9"}

    # A second sync adds nothing.
    again = api.post(f"/v1/families/{fid}/connections/{cid}/syncs", headers=owner)
    assert again.status_code == 202, again.json
    settle_syncs(api.application)
    second = api.get(f"/v1/families/{fid}/connections/{cid}/syncs/{again.json['run_id']}",
                     headers=owner).json
    assert second["status"] == "succeeded", second
    counts = outcomes(second)
    assert counts.get("inserted", 0) == 0 and counts["unchanged"] == len(first)
    assert keyed(all_transactions(api, owner, fid)) == keyed(first)
