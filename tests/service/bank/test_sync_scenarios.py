"""What a sync must survive, on PostgreSQL against the sandbox bank (issue 8's scenarios).

Each test compares what the API shows with what a clean sync of the same bank state shows
(a second family connecting the same household): no transaction lost, none duplicated.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask.testing import FlaskClient

from service.bootstrap import Services
from tests.fixtures.concurrency import run_at_once
from tests.service.bank.conftest import (
    AuthHeader,
    Bank,
    all_transactions,
    app_client,
    bearer_for,
    connect,
    family_of,
    outcomes,
)
from tests.service.conftest import settle_syncs


def view(items: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    """What the family sees, independent of its own ids."""
    return Counter((t["status"], t["booked_on"], t["amount"]["amount"], t["description"])
                   for t in items)


def run_of(api: FlaskClient, headers: dict[str, str], fid: str, cid: str,
           run_id: str) -> dict[str, Any]:
    resp = api.get(f"/v1/families/{fid}/connections/{cid}/syncs/{run_id}", headers=headers)
    assert resp.status_code == 200, resp.json
    return dict(resp.json)


def sync(api: FlaskClient, headers: dict[str, str], fid: str, cid: str) -> dict[str, Any]:
    started = api.post(f"/v1/families/{fid}/connections/{cid}/syncs", headers=headers)
    assert started.status_code == 202, started.json
    settle_syncs(api.application)
    return run_of(api, headers, fid, cid, started.json["run_id"])


def clean_view(api: FlaskClient, bank: Bank, bearer: AuthHeader) -> Counter[tuple[Any, ...]]:
    """A fresh family connecting the same household now, with every quirk off."""
    quirks = bank.bank.default_quirks
    saved = (quirks.changed_id_every, quirks.error_rate, quirks.malformed_items)
    quirks.changed_id_every, quirks.error_rate, quirks.malformed_items = None, 0.0, False
    try:
        other = bearer("reference@example.com")
        fid = family_of(api, other)
        done = connect(api, bank, other, fid)
        assert run_of(api, other, fid, done["connection"]["id"],
                      done["sync_run_id"])["status"] == "succeeded"
        return view(all_transactions(api, other, fid))
    finally:
        quirks.changed_id_every, quirks.error_rate, quirks.malformed_items = saved


def test_pending_books_under_a_new_id_without_duplicates(api: FlaskClient, bank: Bank,
                                                         bearer: AuthHeader) -> None:
    owner = bearer("o@example.com")
    fid = family_of(api, owner)
    cid = connect(api, bank, owner, fid)["connection"]["id"]
    before = all_transactions(api, owner, fid)
    assert any(t["status"] == "pending" for t in before)

    bank.bank.advance(days=3)
    run = sync(api, owner, fid, cid)
    assert run["status"] == "succeeded", run
    assert outcomes(run)["pending_booked"] > 0
    assert view(all_transactions(api, owner, fid)) == clean_view(api, bank, bearer)


def test_changed_ids_are_remapped(api: FlaskClient, bank: Bank, bearer: AuthHeader) -> None:
    bank.bank.default_quirks.changed_id_every = 3
    owner = bearer("o@example.com")
    fid = family_of(api, owner)
    cid = connect(api, bank, owner, fid)["connection"]["id"]
    first = all_transactions(api, owner, fid)
    run = sync(api, owner, fid, cid)
    assert run["status"] == "succeeded", run
    assert outcomes(run)["changed_id"] > 0
    after = all_transactions(api, owner, fid)
    assert view(after) == view(first)
    assert {t["id"] for t in after} == {t["id"] for t in first}  # rows keep their ids


def test_consent_expiry_then_reconfirm_links_the_same_accounts(
    api: FlaskClient, bank: Bank, bearer: AuthHeader
) -> None:
    owner = bearer("o@example.com")
    fid = family_of(api, owner)
    cid = connect(api, bank, owner, fid)["connection"]["id"]
    accounts = {a["id"] for a in api.get(f"/v1/families/{fid}/accounts",
                                         headers=owner).json["items"]}
    first = all_transactions(api, owner, fid)
    for conn in bank.bank.connections():
        conn.quirks.consent_expired = True

    run = sync(api, owner, fid, cid)
    assert run["status"] == "failed"
    assert run["last_error"].startswith("ReauthRequiredError")
    listed = api.get(f"/v1/families/{fid}/connections", headers=owner).json["items"]
    assert listed[0]["status"] == "reauth_required" and listed[0]["status_reason"]
    assert api.post(f"/v1/families/{fid}/connections/{cid}/syncs",
                    headers=owner).status_code == 409

    started = api.post(f"/v1/families/{fid}/connections/{cid}/reconfirm", headers=owner)
    assert started.status_code == 201, started.json
    query = bank.consent(started.json["authorization_url"])
    done = api.get("/v1/connections/callback", query_string=query)
    assert done.status_code == 200, done.json
    settle_syncs(api.application)
    new_id = done.json["connection"]["id"]
    assert run_of(api, owner, fid, new_id, done.json["sync_run_id"])["status"] == "succeeded"

    statuses = {c["id"]: c["status"] for c in api.get(f"/v1/families/{fid}/connections",
                                                       headers=owner).json["items"]}
    assert statuses == {cid: "revoked", new_id: "active"}
    after = api.get(f"/v1/families/{fid}/accounts", headers=owner).json["items"]
    assert {a["id"] for a in after} == accounts
    assert view(all_transactions(api, owner, fid)) == view(first)


def test_rate_limit_defers_the_run_and_resume_finishes_it(
    api: FlaskClient, bank: Bank, bearer: AuthHeader, services: Services
) -> None:
    owner = bearer("o@example.com")
    fid = family_of(api, owner)
    cid = connect(api, bank, owner, fid)["connection"]["id"]
    for conn in bank.bank.connections():
        conn.quirks.rate_limit_next, conn.quirks.retry_after = 1, 7200

    run = sync(api, owner, fid, cid)
    assert run["status"] == "deferred" and run["resume_at"], run
    listed = api.get(f"/v1/families/{fid}/connections", headers=owner).json["items"][0]
    assert listed["next_unattended_sync_at"] == run["resume_at"].replace("+00:00", "Z") or (
        listed["next_unattended_sync_at"][:19] == run["resume_at"][:19])
    assert api.post(f"/v1/families/{fid}/connections/{cid}/syncs",
                    headers=owner).status_code == 409

    services.sync_launcher.resume_run(run["run_id"])
    settle_syncs(api.application)
    resumed = run_of(api, owner, fid, cid, run["run_id"])
    assert resumed["status"] == "succeeded", resumed


def test_malformed_provider_answer_fails_the_step_and_ingests_nothing(
    api: FlaskClient, bank: Bank, bearer: AuthHeader
) -> None:
    bank.bank.default_quirks.malformed_items = True
    bank.bank.default_quirks.page_size = 50
    owner = bearer("o@example.com")
    fid = family_of(api, owner)
    done = connect(api, bank, owner, fid)
    run = run_of(api, owner, fid, done["connection"]["id"], done["sync_run_id"])
    assert run["status"] == "failed"
    failed = [s for s in run["steps"] if s["status"] == "failed"]
    # One "not ready yet" poll, then the malformed page: not retried (it cannot improve).
    assert len(failed) == 1 and failed[0]["attempts"] == 2
    assert failed[0]["last_error"].startswith("ProviderRejectedError")
    assert all_transactions(api, owner, fid) == []


def test_two_concurrent_syncs_of_one_connection(api: FlaskClient, bank: Bank,
                                                bearer: AuthHeader) -> None:
    owner = bearer("o@example.com")
    fid = family_of(api, owner)
    cid = connect(api, bank, owner, fid)["connection"]["id"]
    first = all_transactions(api, owner, fid)
    for conn in bank.bank.connections():
        conn.quirks.slow_seconds = 0.05
    statuses: list[int] = []

    def start() -> None:
        statuses.append(api.post(f"/v1/families/{fid}/connections/{cid}/syncs",
                                 headers=owner).status_code)

    run_at_once(start, start)
    assert sorted(statuses) == [202, 409]
    settle_syncs(api.application)
    assert view(all_transactions(api, owner, fid)) == view(first)


def test_faults_at_a_rate_lose_and_duplicate_nothing(
    data_api_services: Services, bank: Bank, local_data_api_server: Any
) -> None:
    api = app_client(data_api_services)
    bearer = bearer_for(data_api_services)
    owner = bearer("o@example.com")
    fid = family_of(api, owner)
    reference = clean_view(api, bank, bearer)

    bank.bank.default_quirks.error_rate = 0.15
    bank.bank.default_quirks.changed_id_every = 4
    local_data_api_server.inject_error_rate("DatabaseResumingException", rate=0.1, seed=5)
    done = connect(api, bank, owner, fid)
    cid = done["connection"]["id"]
    run = run_of(api, owner, fid, cid, done["sync_run_id"])
    bank.bank.advance(days=2)
    second = sync(api, owner, fid, cid)
    local_data_api_server.inject_error_rate(None)
    bank.bank.default_quirks.error_rate = 0.0
    for conn in bank.bank.connections():
        conn.quirks.error_rate = 0.0

    assert run["status"] == "succeeded", run
    assert second["status"] == "succeeded", second
    retried = sum(s["attempts"] - 1 for s in run["steps"] + second["steps"])
    assert retried > 0 or bank.sleeps  # the faults were felt
    assert view(all_transactions(api, owner, fid)) == clean_view(api, bank, bearer)
    assert reference  # the bank served something
