"""Who may read a conversation, and the bounds: off switch, quota, timeout, retention."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from uuid import UUID

import pytest
from flask.testing import FlaskClient

from devtools.llm_doubles import KeywordModel, scripts
from devtools.llm_doubles.script import ScriptedModel, Turn
from service.repositories import conversations as repo
from service.settings import Settings
from service.use_cases import chat as chat_uc
from tests.service.chat.rig import ChatRig, ask, start
from tests.service.conftest import AuthHeader
from tests.service.domain.helpers import principal


def test_with_chat_off_every_route_answers_503_saying_how_to_turn_it_on(
    client: FlaskClient, auth_header: AuthHeader
) -> None:
    headers = auth_header("owner@example.com")
    fid = client.post("/v1/families", json={"name": "Off"}, headers=headers).json["id"]
    cid = "3c000000-0000-4000-8000-000000000001"
    answers = [
        client.post(f"/v1/families/{fid}/conversations", headers=headers),
        client.get(f"/v1/families/{fid}/conversations", headers=headers),
        client.get(f"/v1/conversations/{cid}", headers=headers),
        client.delete(f"/v1/conversations/{cid}", headers=headers),
        client.post(f"/v1/conversations/{cid}/messages", json={"text": "hi"}, headers=headers),
    ]
    for response in answers:
        assert response.status_code == 503
        assert response.mimetype == "application/problem+json"
        assert "CHAT_PROVIDER=openai" in response.json["detail"]


def test_only_the_member_who_started_a_conversation_reads_lists_or_deletes_it(
    openai_rig: ChatRig, auth_header: AuthHeader
) -> None:
    rig = openai_rig
    cid = start(rig, auth_header, "adult")
    rig.play(scripts.answer("Hello"))
    assert ask(rig, auth_header, cid, "hi", who="adult").status_code == 200
    family = rig.world.family
    for who in ("owner", "child", "outsider", "loner"):
        headers = auth_header(f"{who}@example.com")
        assert rig.client.get(f"/v1/conversations/{cid}", headers=headers).status_code == 404
        assert rig.client.delete(f"/v1/conversations/{cid}", headers=headers).status_code == 404
        assert ask(rig, auth_header, cid, "mine now", who=who).status_code == 404
    own = rig.client.get(f"/v1/families/{family}/conversations",
                         headers=auth_header("owner@example.com"))
    assert own.status_code == 200 and own.json["items"] == []
    other = rig.client.get(f"/v1/families/{family}/conversations",
                           headers=auth_header("outsider@example.com"))
    assert other.status_code == 404
    adult = auth_header("adult@example.com")
    mine = rig.client.get(f"/v1/families/{family}/conversations", headers=adult).json
    assert [c["id"] for c in mine["items"]] == [cid]
    transcript = rig.client.get(f"/v1/conversations/{cid}", headers=adult).json
    assert [(m["role"], m["text"]) for m in transcript["messages"]] == [
        ("member", "hi"), ("assistant", "Hello")]
    assert rig.client.delete(f"/v1/conversations/{cid}", headers=adult).status_code == 204
    assert rig.client.get(f"/v1/conversations/{cid}", headers=adult).status_code == 404
    assert rig.db.fetch_all("SELECT 1 FROM chat_messages") == []


def test_a_childs_tools_see_what_the_childs_api_calls_see(
    openai_rig: ChatRig, auth_header: AuthHeader
) -> None:
    rig = openai_rig
    cid = start(rig, auth_header, "child")
    rig.play(scripts.tool_round_trip("list_accounts"))

    answer = ask(rig, auth_header, cid, "my accounts", who="child").json["text"]

    assert "pocket account" in answer
    assert all(name not in answer for name in ("joint account", "savings account",
                                               "private account"))


@pytest.fixture
def chat_settings(settings: Settings) -> Settings:
    return replace(settings, chat_daily_messages=2, chat_timeout_seconds=1.0)


def test_the_daily_quota_answers_429_once_spent(
    openai_rig: ChatRig, auth_header: AuthHeader
) -> None:
    rig = openai_rig
    cid = start(rig, auth_header)
    rig.play(ScriptedModel([Turn(text="ok")], repeat_last=True))
    statuses = [ask(rig, auth_header, cid, f"q{n}").status_code for n in range(3)]
    assert statuses == [200, 200, 429]


def test_concurrent_claims_never_overshoot_the_quota(openai_rig: ChatRig,
                                                     auth_header: AuthHeader) -> None:
    rig = openai_rig
    cid = UUID(start(rig, auth_header))
    owner = principal("owner")

    def claim(_: int) -> int | None:
        stored = repo.claim_message(rig.db, owner, cid, daily_limit=3)
        assert stored is not None
        return stored.quota_used

    with ThreadPoolExecutor(max_workers=8) as pool:
        used = list(pool.map(claim, range(12)))
    assert sorted(u for u in used if u is not None) == [1, 2, 3]


def test_a_model_that_does_not_answer_in_time_gets_a_504_problem(
    openai_rig: ChatRig, auth_header: AuthHeader
) -> None:
    rig = openai_rig
    cid = start(rig, auth_header)
    rig.play(ScriptedModel([Turn(text="late", delay=5.0)]))

    response = ask(rig, auth_header, cid, "slow?")

    assert response.status_code == 504
    assert response.json["type"].endswith("chat-timeout")


def test_expired_conversations_are_unreadable_and_purged_idempotently(
    openai_rig: ChatRig, auth_header: AuthHeader
) -> None:
    rig = openai_rig
    cid = start(rig, auth_header)
    keep = start(rig, auth_header)
    rig.db.execute("UPDATE conversations SET expires_at = now() - interval '1 second' "
                   "WHERE id = :c", {"c": UUID(cid)})
    headers = auth_header("owner@example.com")

    assert rig.client.get(f"/v1/conversations/{cid}", headers=headers).status_code == 404
    assert chat_uc.purge_expired_conversations(rig.db) == 1
    assert chat_uc.purge_expired_conversations(rig.db) == 0
    remaining = [str(r["id"]) for r in rig.db.fetch_all("SELECT id FROM conversations")]
    assert remaining == [keep]


def test_family_deletion_removes_its_conversations(
    openai_rig: ChatRig, auth_header: AuthHeader
) -> None:
    rig = openai_rig
    start(rig, auth_header)
    headers = auth_header("owner@example.com")
    assert rig.client.delete(f"/v1/families/{rig.world.family}",
                             headers=headers).status_code == 204
    assert rig.db.fetch_all("SELECT 1 FROM conversations") == []


def test_the_laptop_keyword_model_answers_spending_by_category_from_the_tool(
    openai_rig: ChatRig, auth_header: AuthHeader
) -> None:
    rig = openai_rig
    cid = start(rig, auth_header)
    rig.play(KeywordModel())

    response = ask(rig, auth_header, cid, "What is our spending by category?")

    assert response.status_code == 200, response.json
    assert response.json["tools"] == ["spending_by_category"]
    assert '"periods"' in response.json["text"]


def test_the_purge_command_reports_what_it_deleted(
    openai_rig: ChatRig, auth_header: AuthHeader
) -> None:
    rig = openai_rig
    cid = start(rig, auth_header)
    rig.db.execute("UPDATE conversations SET expires_at = now() WHERE id = :c",
                   {"c": UUID(cid)})
    runner = rig.app.test_cli_runner()

    first = runner.invoke(args=["chat", "purge"])
    again = runner.invoke(args=["chat", "purge"])

    assert first.exit_code == 0 and "purged 1 expired" in first.output
    assert "purged 0 expired" in again.output
