"""The tenancy matrix: every /v1 endpoint called as every persona.

Personas: ``owner``, ``adult`` (also the holder of the private account), ``child`` of
family A; ``outsider`` (owner of family B); ``loner`` (no family). Denied answers are
404 when the target is outside the caller's scope and 403 when the caller can see it but
their role may not act; a denied request writes nothing (row counts, audit included).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from devtools.llm_doubles import KeywordModel, openai_double
from service.api.routes import public_routes
from service.http.context import SERVICES_KEY
from service.repositories import insights as insights_repo
from service.repositories.insights import StoredSeries
from service.settings import Settings
from tests.service.conftest import AuthHeader, settle_syncs
from tests.service.domain.helpers import World, build_world, count_rows, snapshot

PERSONAS = ("owner", "adult", "child", "outsider", "loner")


@dataclass(frozen=True)
class Case:
    """One endpoint call and the expected status per persona."""

    id: str
    method: str
    rule: str  # the Flask rule it exercises (coverage check)
    path: Callable[[World], str]
    expect: dict[str, int]
    body: Callable[[World], Any] | None = None


def _all(status: int) -> dict[str, int]:
    return dict.fromkeys(PERSONAS, status)


def _family_a(owner: int, adult: int, child: int) -> dict[str, int]:
    return {"owner": owner, "adult": adult, "child": child, "outsider": 404, "loner": 404}


def _acct(w: World, label: str) -> str:
    return str(w.accounts[label])


def _txn(w: World, label: str) -> str:
    return str(w.transactions[label][1])


FA = "/v1/families/<fid>"
READS = [
    Case("me", "GET", "/v1/me", lambda w: "/v1/me", _all(200)),
    Case("family", "GET", FA, lambda w: f"/v1/families/{w.family}", _family_a(200, 200, 200)),
    Case("other-family", "GET", FA, lambda w: f"/v1/families/{w.other_family}",
         {**_all(404), "outsider": 200}),
    Case("members", "GET", f"{FA}/members", lambda w: f"/v1/families/{w.family}/members",
         _family_a(200, 200, 200)),
    Case("invitations", "GET", f"{FA}/invitations",
         lambda w: f"/v1/families/{w.family}/invitations", _family_a(200, 403, 403)),
    Case("accounts", "GET", f"{FA}/accounts", lambda w: f"/v1/families/{w.family}/accounts",
         _family_a(200, 200, 200)),
    Case("account-joint", "GET", "/v1/accounts/<aid>",
         lambda w: f"/v1/accounts/{_acct(w, 'joint')}", _family_a(200, 200, 404)),
    Case("account-savings", "GET", "/v1/accounts/<aid>",
         lambda w: f"/v1/accounts/{_acct(w, 'savings')}", _family_a(200, 200, 404)),
    Case("account-private", "GET", "/v1/accounts/<aid>",
         lambda w: f"/v1/accounts/{_acct(w, 'private')}", _family_a(404, 200, 404)),
    Case("account-pocket", "GET", "/v1/accounts/<aid>",
         lambda w: f"/v1/accounts/{_acct(w, 'pocket')}", _family_a(200, 200, 200)),
    Case("account-other", "GET", "/v1/accounts/<aid>",
         lambda w: f"/v1/accounts/{_acct(w, 'other')}", {**_all(404), "outsider": 200}),
    Case("balances-joint", "GET", "/v1/accounts/<aid>/balances",
         lambda w: f"/v1/accounts/{_acct(w, 'joint')}/balances", _family_a(200, 200, 404)),
    Case("balances-private", "GET", "/v1/accounts/<aid>/balances",
         lambda w: f"/v1/accounts/{_acct(w, 'private')}/balances", _family_a(404, 200, 404)),
    Case("balances-pocket", "GET", "/v1/accounts/<aid>/balances",
         lambda w: f"/v1/accounts/{_acct(w, 'pocket')}/balances", _family_a(200, 200, 200)),
    Case("transactions", "GET", f"{FA}/transactions",
         lambda w: f"/v1/families/{w.family}/transactions", _family_a(200, 200, 200)),
    Case("transactions-other-family", "GET", f"{FA}/transactions",
         lambda w: f"/v1/families/{w.other_family}/transactions",
         {**_all(404), "outsider": 200}),
    Case("audit", "GET", f"{FA}/audit", lambda w: f"/v1/families/{w.family}/audit",
         _family_a(200, 403, 403)),
    Case("conversations", "GET", f"{FA}/conversations",
         lambda w: f"/v1/families/{w.family}/conversations", _family_a(200, 200, 200)),
    Case("adults-conversation", "GET", "/v1/conversations/<cid>",
         lambda w: f"/v1/conversations/{w.extra['conversation']}", {**_all(404), "adult": 200}),
    # Children see no connections (they never connect), so their runs are not found either.
    Case("sync-run", "GET", f"{FA}/connections/<cid>/syncs/<rid>",
         lambda w: f"/v1/families/{w.family}/connections/{w.connection}/syncs/"
                   f"{w.extra['run_id']}", _family_a(200, 200, 404)),
    # Public: a state that was never issued authorises nothing, whoever follows the link.
    Case("callback-forged", "GET", "/v1/connections/callback",
         lambda w: "/v1/connections/callback?state=forged&connection_id=x", _all(400)),
    Case("connections", "GET", f"{FA}/connections",
         lambda w: f"/v1/families/{w.family}/connections", _family_a(200, 200, 200)),
    Case("categories", "GET", f"{FA}/categories",
         lambda w: f"/v1/families/{w.family}/categories", _family_a(200, 200, 200)),
    Case("rules", "GET", f"{FA}/rules", lambda w: f"/v1/families/{w.family}/rules",
         _family_a(200, 200, 403)),
    Case("recurring", "GET", f"{FA}/recurring", lambda w: f"/v1/families/{w.family}/recurring",
         _family_a(200, 200, 200)),
    Case("runway", "GET", f"{FA}/runway", lambda w: f"/v1/families/{w.family}/runway",
         _family_a(200, 200, 200)),
    Case("spending", "GET", f"{FA}/spending", lambda w: f"/v1/families/{w.family}/spending",
         _family_a(200, 200, 200)),
    Case("rules-other-family", "GET", f"{FA}/rules",
         lambda w: f"/v1/families/{w.other_family}/rules", {**_all(404), "outsider": 200}),
]

_ADULT_ONLY_200 = {**_all(404), "adult": 200}

WRITES = [
    Case("create-family", "POST", "/v1/families", lambda w: "/v1/families", _all(201),
         body=lambda w: {"name": "New family"}),
    Case("patch-me", "PATCH", "/v1/me", lambda w: "/v1/me", _all(200),
         body=lambda w: {"display_name": "Me"}),
    Case("delete-family", "DELETE", FA, lambda w: f"/v1/families/{w.family}",
         _family_a(204, 403, 403)),
    Case("invite", "POST", f"{FA}/invitations",
         lambda w: f"/v1/families/{w.family}/invitations", _family_a(201, 403, 403),
         body=lambda w: {"email": "newbie@example.com", "role": "child"}),
    Case("accept-for-loner", "POST", "/v1/invitations/accept",
         lambda w: "/v1/invitations/accept",
         {**_all(403), "loner": 200}, body=lambda w: {"token": w.extra["loner_token"]}),
    Case("accept-already-member", "POST", "/v1/invitations/accept",
         lambda w: "/v1/invitations/accept",
         {**_all(403), "adult": 409}, body=lambda w: {"token": w.extra["adult_token"]}),
    Case("role-child", "PATCH", f"{FA}/members/<mid>",
         lambda w: f"/v1/families/{w.family}/members/{w.memberships['child']}",
         _family_a(200, 403, 403), body=lambda w: {"role": "adult"}),
    Case("remove-child", "DELETE", f"{FA}/members/<mid>",
         lambda w: f"/v1/families/{w.family}/members/{w.memberships['child']}",
         _family_a(204, 403, 204)),
    Case("remove-adult", "DELETE", f"{FA}/members/<mid>",
         lambda w: f"/v1/families/{w.family}/members/{w.memberships['adult']}",
         _family_a(204, 204, 403)),
    Case("remove-outsider-via-a", "DELETE", f"{FA}/members/<mid>",
         lambda w: f"/v1/families/{w.family}/members/{w.memberships['outsider']}",
         _family_a(404, 404, 404)),
    Case("nickname-joint", "PATCH", "/v1/accounts/<aid>",
         lambda w: f"/v1/accounts/{_acct(w, 'joint')}", _family_a(200, 403, 404),
         body=lambda w: {"nickname": "Bills"}),
    Case("nickname-savings", "PATCH", "/v1/accounts/<aid>",
         lambda w: f"/v1/accounts/{_acct(w, 'savings')}", _family_a(200, 200, 404),
         body=lambda w: {"nickname": "Rainy day"}),
    Case("visibility-savings", "PATCH", "/v1/accounts/<aid>",
         lambda w: f"/v1/accounts/{_acct(w, 'savings')}", _family_a(403, 200, 404),
         body=lambda w: {"visibility": "private"}),
    Case("visibility-private", "PATCH", "/v1/accounts/<aid>",
         lambda w: f"/v1/accounts/{_acct(w, 'private')}", _family_a(404, 200, 404),
         body=lambda w: {"visibility": "family"}),
    Case("visibility-pocket", "PATCH", "/v1/accounts/<aid>",
         lambda w: f"/v1/accounts/{_acct(w, 'pocket')}", _family_a(403, 403, 200),
         body=lambda w: {"visibility": "private"}),
    Case("annotate-joint", "PATCH", "/v1/transactions/<tid>",
         lambda w: f"/v1/transactions/{_txn(w, 'joint')}", _family_a(200, 200, 404),
         body=lambda w: {"category": "bills"}),
    Case("annotate-private", "PATCH", "/v1/transactions/<tid>",
         lambda w: f"/v1/transactions/{_txn(w, 'private')}", _family_a(404, 200, 404),
         body=lambda w: {"note": "mine"}),
    Case("annotate-pocket", "PATCH", "/v1/transactions/<tid>",
         lambda w: f"/v1/transactions/{_txn(w, 'pocket')}", _family_a(200, 200, 200),
         body=lambda w: {"category": "shopping"}),
    Case("annotate-other", "PATCH", "/v1/transactions/<tid>",
         lambda w: f"/v1/transactions/{_txn(w, 'other')}", {**_all(404), "outsider": 200},
         body=lambda w: {"category": "other"}),
    Case("connect", "POST", f"{FA}/connections",
         lambda w: f"/v1/families/{w.family}/connections", _family_a(201, 201, 403),
         body=lambda w: {"provider": "truelayer"}),
    Case("reconfirm", "POST", f"{FA}/connections/<cid>/reconfirm",
         lambda w: f"/v1/families/{w.family}/connections/{w.connection}/reconfirm",
         _family_a(201, 201, 404)),
    Case("sync", "POST", f"{FA}/connections/<cid>/syncs",
         lambda w: f"/v1/families/{w.family}/connections/{w.connection}/syncs",
         _family_a(202, 202, 404)),
    Case("revoke", "DELETE", f"{FA}/connections/<cid>",
         lambda w: f"/v1/families/{w.family}/connections/{w.connection}",
         _family_a(204, 204, 404)),
    # chat (issue 11): a conversation is the adult's alone, owners included get 404
    Case("start-conversation", "POST", f"{FA}/conversations",
         lambda w: f"/v1/families/{w.family}/conversations", _family_a(201, 201, 201)),
    Case("ask-adults-conversation", "POST", "/v1/conversations/<cid>/messages",
         lambda w: f"/v1/conversations/{w.extra['conversation']}/messages", _ADULT_ONLY_200,
         body=lambda w: {"text": "What are my accounts?"}),
    Case("delete-adults-conversation", "DELETE", "/v1/conversations/<cid>",
         lambda w: f"/v1/conversations/{w.extra['conversation']}",
         {**_all(404), "adult": 204}),
    Case("create-rule", "POST", f"{FA}/rules", lambda w: f"/v1/families/{w.family}/rules",
         _family_a(201, 201, 403), body=lambda w: {"category": "bills", "text": "energy"}),
    Case("replace-rule", "PUT", f"{FA}/rules/<rid>",
         lambda w: f"/v1/families/{w.family}/rules/{w.extra['rule']}", _family_a(200, 200, 403),
         body=lambda w: {"category": "bills", "merchant": "Octopus", "priority": 2}),
    Case("delete-rule", "DELETE", f"{FA}/rules/<rid>",
         lambda w: f"/v1/families/{w.family}/rules/{w.extra['rule']}", _family_a(204, 204, 403)),
    Case("decide-joint", "PATCH", "/v1/recurring/<sid>",
         lambda w: f"/v1/recurring/{w.extra['series-joint']}", _family_a(200, 200, 404),
         body=lambda w: {"decision": "dismissed"}),
    Case("decide-private", "PATCH", "/v1/recurring/<sid>",
         lambda w: f"/v1/recurring/{w.extra['series-private']}", _family_a(404, 200, 404),
         body=lambda w: {"decision": "confirmed"}),
    Case("decide-pocket", "PATCH", "/v1/recurring/<sid>",
         lambda w: f"/v1/recurring/{w.extra['series-pocket']}", _family_a(200, 200, 403),
         body=lambda w: {"decision": "confirmed"}),
]


@pytest.fixture(scope="module")
def model_server() -> Iterator[str]:
    """The laptop keyword model on the chat-completions wire (chat on for the matrix)."""
    with openai_double(KeywordModel(), model_name="matrix") as server:
        yield server.url + "/v1"


@pytest.fixture
def settings(settings: Settings, model_server: str) -> Settings:
    return replace(settings, chat_provider="openai", chat_model="matrix",
                   chat_base_url=model_server)


def _plant_series(w: World, label: str) -> str:
    """A stored series seen on one account (the refresh's trusted write path)."""
    series_id = "rs_" + hashlib.sha256(label.encode()).hexdigest()[:16]
    stored = StoredSeries(
        id=series_id, direction="outflow", merchant=f"Club {label}", category="entertainment",
        frequency="monthly", currency="GBP", average_amount_minor=-999,
        min_amount_minor=-999, max_amount_minor=-999, last_amount_minor=-999,
        first_date=date(2025, 1, 5), last_date=date(2025, 3, 5), next_date=date(2025, 4, 5),
        next_amount_minor=-999, schedule_shift="none", schedule_anchor=None, schedule_day=5,
        schedule_position=2025 * 12 + 2, status="active", explanation="Monthly.",
        internal_transfer=False, transaction_ids=(str(w.transactions[label][1]),),
        account_ids=(str(w.accounts[label]),), detected_on=date(2025, 3, 31))
    family = w.other_family if label == "other" else w.family
    with w.db.transaction() as tx:
        insights_repo.write_series(tx, family, [stored], [])
    return series_id


@pytest.fixture
def world(app: Flask, client: FlaskClient, auth_header: AuthHeader) -> World:
    services = app.extensions[SERVICES_KEY]
    w = build_world(services.database, services.keyring, signer=services.audit_signer,
                    per_account=3)
    owner = auth_header("owner@example.com")
    for name, email in (("loner_token", "loner@example.com"),
                        ("adult_token", "adult@example.com")):
        resp = client.post(f"/v1/families/{w.family}/invitations",
                           json={"email": email, "role": "adult"}, headers=owner)
        assert resp.status_code == 201
        w.extra[name] = resp.get_json()["token"]
    resp = client.post(f"/v1/families/{w.family}/conversations",
                       headers=auth_header("adult@example.com"))
    assert resp.status_code == 201
    w.extra["conversation"] = resp.get_json()["id"]
    rule = client.post(f"/v1/families/{w.family}/rules",
                       json={"category": "bills", "text": "energy"}, headers=owner)
    assert rule.status_code == 201
    w.extra["rule"] = rule.get_json()["id"]
    for label in ("joint", "private", "pocket"):
        w.extra[f"series-{label}"] = _plant_series(w, label)
    run = client.post(f"/v1/families/{w.family}/connections/{w.connection}/syncs",
                      headers=owner)
    assert run.status_code == 202, run.get_json()
    w.extra["run_id"] = run.get_json()["run_id"]
    settle_syncs(app)  # the run executes in the background; the matrix compares snapshots
    return w


def _call(client: FlaskClient, auth_header: AuthHeader, world: World, case: Case,
          persona: str) -> Any:
    kwargs: dict[str, Any] = {"headers": auth_header(f"{persona}@example.com")}
    if case.body is not None:
        kwargs["json"] = case.body(world)
    return client.open(case.path(world), method=case.method, **kwargs)


def _check(resp: Any, expected: int, case: Case, persona: str) -> None:
    assert resp.status_code == expected, (case.id, persona, resp.get_json())
    if expected >= 400:
        assert resp.headers["Content-Type"].startswith("application/problem+json")
        assert resp.get_json()["status"] == expected


@pytest.mark.parametrize("case", READS, ids=lambda c: c.id)
def test_reads(case: Case, world: World, client: FlaskClient, auth_header: AuthHeader) -> None:
    for persona in PERSONAS:
        before = count_rows(world.db)
        resp = _call(client, auth_header, world, case, persona)
        _check(resp, case.expect[persona], case, persona)
        if resp.status_code >= 400:
            assert count_rows(world.db) == before, (case.id, persona)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", WRITES, ids=lambda c: c.id)
def test_writes(case: Case, persona: str, world: World, client: FlaskClient,
                auth_header: AuthHeader) -> None:
    before = snapshot(world.db)
    resp = _call(client, auth_header, world, case, persona)
    _check(resp, case.expect[persona], case, persona)
    after = snapshot(world.db)
    if resp.status_code >= 400:
        assert after == before
    else:
        # Starting a sync records a run, not an audit entry.
        assert len(after["audit_log"]) > len(before["audit_log"]) or case.id in (
            "patch-me", "sync")


def test_matrix_covers_every_v1_route(app: Flask) -> None:
    covered = {(c.method, c.rule) for c in READS + WRITES}
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules() if rule.rule.startswith("/v1/")
        for method in rule.methods or () if method not in {"HEAD", "OPTIONS"}
    }
    # Public routes act for no family member (the provider's webhook authenticates by its
    # signature and carries no tenant input); their own tests cover them.
    public = {(r.method, r.rule) for r in public_routes()}
    assert routes - covered - public == set()


VISIBLE = {
    "owner": {"joint", "savings", "pocket"},
    "adult": {"joint", "savings", "private", "pocket"},
    "child": {"pocket"},
}


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_list_contents_follow_visibility(persona: str, world: World, client: FlaskClient,
                                         auth_header: AuthHeader) -> None:
    headers = auth_header(f"{persona}@example.com")
    expected_accounts = {str(world.accounts[label]) for label in VISIBLE[persona]}
    accounts = client.get(f"/v1/families/{world.family}/accounts", headers=headers).get_json()
    assert {a["id"] for a in accounts["items"]} == expected_accounts

    seen: set[str] = set()
    ids: list[str] = []
    cursor: str | None = None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/v1/families/{world.family}/transactions", query_string=query,
                          headers=headers).get_json()
        seen |= {t["account_id"] for t in page["items"]}
        ids += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected_accounts
    expected_ids = {str(t) for label in VISIBLE[persona] for t in world.transactions[label]}
    assert sorted(ids) == sorted(expected_ids)

    # Asking for an invisible account's transactions by filter yields nothing, not an error.
    for label in set(world.accounts) - VISIBLE[persona]:
        resp = client.get(f"/v1/families/{world.family}/transactions",
                          query_string={"account_id": str(world.accounts[label])},
                          headers=headers)
        assert resp.status_code == 200 and resp.get_json()["items"] == []


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_recurring_series_follow_visibility(persona: str, world: World, client: FlaskClient,
                                            auth_header: AuthHeader) -> None:
    listed = client.get(f"/v1/families/{world.family}/recurring",
                        headers=auth_header(f"{persona}@example.com")).get_json()["items"]
    planted = {world.extra[f"series-{label}"] for label in ("joint", "private", "pocket")
               if label in VISIBLE[persona]}
    assert {s["id"] for s in listed} == planted
