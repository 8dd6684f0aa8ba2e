"""The sandbox bank itself: backend behaviour (no HTTP) and its wire layer's shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime

import httpx
import pytest

from devtools.sandbox_bank import SandboxBank, SandboxBankServer
from devtools.sandbox_bank.exceptions import SandboxError

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def authorised(bank: SandboxBank) -> str:
    conn = bank.create_connection(
        scopes=["accounts", "balance", "transactions"],
        redirect_uri="http://127.0.0.1/cb",
        state="s",
    )
    bank.decide(conn.id, allow=True)
    return conn.id


def all_items(bank: SandboxBank, cid: str, account: str, start: date, end: date) -> list[dict]:
    req = bank.request_transactions(
        cid, account, {"from": start.isoformat(), "to": end.isoformat()}, None
    )
    bank.read_transactions(cid, account, req.id)  # pending
    items: list[dict] = []
    while True:
        page = bank.read_transactions(cid, account, req.id)
        items.extend(page["items"])
        if page["next_cursor"] is None:
            return items
        req = bank.request_transactions(
            cid,
            account,
            {"from": start.isoformat(), "to": end.isoformat(), "cursor": page["next_cursor"]},
            None,
        )
        bank.read_transactions(cid, account, req.id)


def test_same_seed_same_bank() -> None:
    a, b = SandboxBank(clock=lambda: NOW), SandboxBank(clock=lambda: NOW)
    ca, cb = authorised(a), authorised(b)
    acc_a, acc_b = a.list_accounts(ca)[0]["id"], b.list_accounts(cb)[0]["id"]
    items_a = all_items(a, ca, acc_a, date(2026, 10, 1), date(2026, 11, 20))
    items_b = all_items(b, cb, acc_b, date(2026, 10, 1), date(2026, 11, 20))
    assert items_a == items_b and len(items_a) > 50
    other = SandboxBank(household_seed=8, clock=lambda: NOW)
    co = authorised(other)
    assert (
        all_items(
            other, co, other.list_accounts(co)[0]["id"], date(2026, 10, 1), date(2026, 11, 20)
        )
        != items_a
    )


def test_household_covers_the_uk_staples() -> None:
    bank = SandboxBank(clock=lambda: NOW)
    cid = authorised(bank)
    items = [
        i
        for a in bank.list_accounts(cid)
        for i in all_items(bank, cid, a["id"], date(2025, 1, 1), date(2026, 11, 20))
    ]
    assert "COUNCIL" in " ".join(i["description"] for i in items).upper()
    assert {"DIRECT_DEBIT", "STANDING_ORDER", "PURCHASE"} <= {
        i["transaction_category"] for i in items
    }
    # wages: large regular credits
    assert (
        sum(
            1
            for i in items
            if i["transaction_type"] == "CREDIT" and float(i["amount"]["value"]) > 1000
        )
        >= 12
    )


def test_documented_order_and_paging() -> None:
    bank = SandboxBank(clock=lambda: NOW)
    bank.default_quirks.page_size = 10
    cid = authorised(bank)
    account = bank.list_accounts(cid)[0]["id"]
    items = all_items(bank, cid, account, date(2026, 9, 1), date(2026, 11, 20))
    keys = [(i["timestamp"], i["transaction_id"]) for i in items]
    assert keys == sorted(keys, reverse=True)  # booking date desc, then id desc
    assert len({i["transaction_id"] for i in items}) == len(items)


def test_pending_then_booked_under_another_id() -> None:
    bank = SandboxBank(clock=lambda: NOW)
    cid = authorised(bank)
    account = bank.list_accounts(cid)[0]["id"]
    before = all_items(bank, cid, account, date(2026, 11, 10), date(2026, 11, 30))
    pending = [i for i in before if i["status"] == "pending"]
    assert pending and all(i["transaction_id"].startswith("pnd_") for i in pending)
    bank.advance(days=3)
    after = {
        i["transaction_id"]: i
        for i in all_items(bank, cid, account, date(2026, 11, 10), date(2026, 11, 30))
    }
    for p in pending:
        booked = after["txn_" + p["transaction_id"].removeprefix("pnd_")]
        assert booked["status"] == "booked" and booked["amount"] == p["amount"]


def test_consent_page_decision_is_single_use() -> None:
    bank = SandboxBank(clock=lambda: NOW)
    conn = bank.create_connection(
        scopes=["accounts"], redirect_uri="http://127.0.0.1/cb?x=1", state="st"
    )
    assert (
        bank.decide(conn.id, allow=True)
        == f"http://127.0.0.1/cb?x=1&state=st&connection_id={conn.id}"
    )
    with pytest.raises(SandboxError) as caught:
        bank.decide(conn.id, allow=True)
    assert caught.value.title == "Invalid State"


def test_scopes_are_enforced() -> None:
    bank = SandboxBank(clock=lambda: NOW)
    conn = bank.create_connection(
        scopes=["accounts"], redirect_uri="http://127.0.0.1/cb", state="s"
    )
    bank.decide(conn.id, allow=True)
    account = bank.list_accounts(conn.id)[0]["id"]
    with pytest.raises(SandboxError) as caught:
        bank.balance(conn.id, account, None)
    assert caught.value.status == 403


@pytest.fixture
def served() -> Iterator[tuple[SandboxBank, str]]:
    bank = SandboxBank(clock=lambda: NOW)
    with SandboxBankServer(bank) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        yield bank, server.base_url


def test_wire_errors_are_problem_details(served: tuple[SandboxBank, str]) -> None:
    _bank, url = served
    response = httpx.get(f"{url}/v3/connected-accounts", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail", "trace_id"} <= set(body) and body[
        "title"
    ] == "Unauthenticated"
    missing = httpx.get(f"{url}/v3/nowhere")
    assert missing.status_code == 404 and missing.json()["status"] == 404


def test_token_endpoint_speaks_oauth(served: tuple[SandboxBank, str]) -> None:
    _, url = served
    bad = httpx.post(
        f"{url}/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "x",
            "client_secret": "y",
            "scope": "data",
        },
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    good = httpx.post(
        f"{url}/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
            "scope": "data",
        },
    )
    assert good.status_code == 200 and good.json()["token_type"] == "Bearer"


def test_rate_limit_answer_carries_retry_after(served: tuple[SandboxBank, str]) -> None:
    bank, url = served
    bank.switches.rate_limit_next = 1
    bank.switches.retry_after = 9
    response = httpx.post(f"{url}/v3/data-connections", content=json.dumps({}))
    assert response.status_code == 429 and response.headers["retry-after"] == "9"
    assert response.json()["title"] == "Rate Limit Exceeded"


def test_consent_page_escapes_and_sets_csp(served: tuple[SandboxBank, str]) -> None:
    bank, url = served
    conn = bank.create_connection(
        scopes=["accounts"], redirect_uri="http://127.0.0.1/cb", state="<s>"
    )
    page = httpx.get(f"{url}/sandbox/consent/{conn.id}")
    assert (
        page.status_code == 200 and "default-src 'none'" in page.headers["content-security-policy"]
    )
    decision = httpx.post(f"{url}/sandbox/consent/{conn.id}", data={"decision": "deny"})
    assert decision.status_code == 302 and "error=access_denied" in decision.headers["location"]
    assert "state=%3Cs%3E" in decision.headers["location"]
