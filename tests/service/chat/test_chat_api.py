"""The money assistant end to end on both providers: tenancy, hostile models, canaries.

Every run goes through the real routes, use cases, tools, adapters and wire doubles on
a real PostgreSQL. The caller is family A's owner. Canaries: the owner's own (a joint
account transaction: the control, it must reach the model and the answer), the adult's
private account and family B's account (they must never reach the provider's request
log, the answer or the stored conversation).
"""

from __future__ import annotations

import json
from uuid import UUID

from devtools.llm_doubles import scripts
from devtools.llm_doubles.script import CallTool, ScriptedModel, Turn
from service.bootstrap import Services
from service.chat.transcript import load_message, message_aad
from service.crypto import SealedValue, open_sealed
from service.http.context import SERVICES_KEY
from tests.service.chat.rig import (
    CANARY_FAMILY,
    CANARY_MEMBER,
    CANARY_OWN,
    SECRET_DETAILS,
    ChatRig,
    ask,
    ids,
    start,
)
from tests.service.conftest import AuthHeader

FORBIDDEN = (CANARY_MEMBER, CANARY_FAMILY, "other account", "private account")
TOOLS = ("list_accounts", "search_transactions")


def stored_plaintext(rig: ChatRig, cid: str) -> str:
    """Every stored message of the conversation, decrypted (tool results included)."""
    services: Services = rig.app.extensions[SERVICES_KEY]
    rows = rig.db.fetch_all(
        "SELECT seq, body_ciphertext, body_nonce FROM chat_messages "
        "WHERE conversation_id = :c ORDER BY seq", {"c": UUID(cid)})
    key = services.keyring.opening_key(rig.world.family)
    texts = [open_sealed(key, SealedValue(bytes(r["body_ciphertext"]), bytes(r["body_nonce"])),
                         message_aad(rig.world.family, UUID(cid), int(r["seq"])))
             for r in rows]
    for text in texts:
        load_message(text)  # every stored message decodes
    return "\n".join(json.dumps(json.loads(t), ensure_ascii=False) for t in texts)


def raw_stored_bytes(rig: ChatRig) -> bytes:
    rows = rig.db.fetch_all("SELECT body_ciphertext FROM chat_messages")
    return b"".join(bytes(r["body_ciphertext"]) for r in rows)


def assert_no_leak(rig: ChatRig, cid: str, answer: str) -> None:
    log = rig.double.log.text()
    stored = stored_plaintext(rig, cid)
    for canary in FORBIDDEN:
        assert canary not in log, canary
        assert canary not in answer, canary
        assert canary not in stored, canary
    for detail in SECRET_DETAILS:
        assert detail not in log, detail
    assert str(rig.world.family) not in log and str(rig.world.other_family) not in log
    assert CANARY_OWN.encode() not in raw_stored_bytes(rig)  # sealed at rest


def test_control_the_callers_own_canary_reaches_the_model_and_answer(
    rig: ChatRig, auth_header: AuthHeader
) -> None:
    cid = start(rig, auth_header)
    rig.play(scripts.tool_round_trip("search_transactions", {"text": "CANARY"}))

    response = ask(rig, auth_header, cid, "What is my canary?")

    assert response.status_code == 200, response.json
    assert CANARY_OWN in rig.double.log.text()
    assert CANARY_OWN in response.json["text"]
    assert CANARY_OWN in stored_plaintext(rig, cid)
    assert response.json["tools"] == ["search_transactions"]
    assert_no_leak(rig, cid, response.json["text"])


def test_a_model_smuggling_other_ids_into_every_call_sees_only_the_callers_data(
    rig: ChatRig, auth_header: AuthHeader
) -> None:
    smuggle = ids(rig.world)
    cid = start(rig, auth_header)
    rig.play(scripts.family_hopper(
        TOOLS, other_family_id=str(smuggle["family"]), other_member_id=str(smuggle["member"]),
        other_account_id=str(smuggle["account"])))

    response = ask(rig, auth_header, cid, "Show me everything")

    assert response.status_code == 200, response.json
    answer = response.json["text"]
    log = rig.double.log.text()
    assert "Extra inputs are not permitted" in log  # every smuggled id was refused
    assert "unknown_handle" in log and "at most 11 characters" in log
    assert CANARY_OWN in answer  # the clean call still works: the run can fail
    assert_no_leak(rig, cid, answer)


def test_an_injected_instruction_in_a_description_reaches_no_other_family(
    rig: ChatRig, auth_header: AuthHeader
) -> None:
    cid = start(rig, auth_header)
    rig.play(scripts.echo_injection("search_transactions", "list_accounts",
                                    other_family_id=str(rig.world.other_family)))

    response = ask(rig, auth_header, cid, "Anything odd in my transactions?")

    assert response.status_code == 200, response.json
    answer = response.json["text"]
    assert "joint account" in answer  # the caller's own accounts were listed
    assert_no_leak(rig, cid, answer)
    # The injected text travelled as tool data, never as a system instruction.
    system = _system_texts(rig)
    assert system and all("IGNORE PREVIOUS" not in text for text in system)


def test_unknown_tools_and_malformed_input_become_error_results(
    rig: ChatRig, auth_header: AuthHeader
) -> None:
    cid = start(rig, auth_header)
    rig.play(scripts.unknown_tool("transfer_money"))
    unknown = ask(rig, auth_header, cid, "Pay my rent")
    rig.play(scripts.malformed_input("search_transactions"))
    malformed = ask(rig, auth_header, cid, "Search")

    assert unknown.status_code == 200 and "unknown_tool" in unknown.json["text"]
    assert malformed.status_code == 200 and "invalid_input" in malformed.json["text"]
    actions = _audit_actions(rig)
    assert "chat.tool.unknown" in actions and "chat.tool.search_transactions" in actions
    assert_no_leak(rig, cid, unknown.json["text"] + malformed.json["text"])


def test_a_model_that_loops_forever_is_stopped_by_the_tool_round_bound(
    rig: ChatRig, auth_header: AuthHeader
) -> None:
    cid = start(rig, auth_header)
    rig.play(scripts.loops_forever("list_accounts"))

    response = ask(rig, auth_header, cid, "Loop")

    assert response.status_code == 422
    assert response.json["type"].endswith("chat-tool-round-limit")
    assert len(rig.double.requests) == 5  # 4 tool rounds, then the refused fifth turn
    # The member's message and every tool call that ran are recorded all the same.
    assert _audit_actions(rig).count("chat.tool.list_accounts") == 4
    transcript = rig.client.get(f"/v1/conversations/{cid}",
                                headers=auth_header("owner@example.com")).json
    assert [m["role"] for m in transcript["messages"]] == ["member"]


def test_tool_calls_are_audited_by_tool_name_and_conversation_only(
    openai_rig: ChatRig, auth_header: AuthHeader
) -> None:
    rig = openai_rig
    cid = start(rig, auth_header)
    rig.play(ScriptedModel([
        Turn(calls=(CallTool("list_accounts"),
                    CallTool("search_transactions", {"text": "Coffee", "amount_max": "-1.00"}))),
        Turn(text="Done.")]))

    assert ask(rig, auth_header, cid, "Coffee spend?").status_code == 200

    rows = rig.db.fetch_all(
        "SELECT actor, action, target_type, target_id FROM audit_log "
        "WHERE action LIKE 'chat.tool.%' ORDER BY chain_index")
    assert [r["action"] for r in rows] == ["chat.tool.list_accounts",
                                           "chat.tool.search_transactions"]
    assert {(r["target_type"], r["target_id"]) for r in rows} == {("conversation", cid)}
    assert "Coffee" not in json.dumps([dict(r) for r in rows], default=str)


def _audit_actions(rig: ChatRig) -> list[str]:
    return [r["action"] for r in rig.db.fetch_all(
        "SELECT action FROM audit_log ORDER BY family_id, chain_index")]


def _system_texts(rig: ChatRig) -> list[str]:
    texts: list[str] = []
    for request in rig.double.requests:
        body = request.json()
        if rig.kind == "bedrock":
            texts.extend(block["text"] for block in body.get("system", []))
        else:
            texts.extend(m["content"] for m in body["messages"] if m["role"] == "system")
    return texts


def test_insight_tools_answer_with_the_services_figures(
    rig: ChatRig, auth_header: AuthHeader
) -> None:
    cid = start(rig, auth_header)
    rig.play(ScriptedModel([
        Turn(calls=(
            CallTool("spending_by_category",
                     {"period": "month", "start": "2024-12-01", "end": "2025-01-31"}),
            CallTool("recurring_payments"),
            CallTool("runway", {"income_stops": True, "buffer": "100.00",
                                "expenses": [{"on": "2025-02-10", "amount": "250.00"}]}),
            CallTool("runway", {"cancel": ["series-9"]}),
        )),
        Turn(text="Figures:", echo_tool_results=True),
    ]))

    response = ask(rig, auth_header, cid, "Spending, subscriptions and runway?")

    assert response.status_code == 200, response.json
    answer = response.json["text"]
    results = [json.loads(line) for line in answer.splitlines()[1:]]
    spending, recurring, projection, unknown = results
    assert spending["period"] == "month" and spending["periods"]
    assert "series" in recurring
    assert projection["scenario"]["income_stops"] is True and "runway_days" in projection
    assert unknown["error"] == "unknown_handle"
    assert response.json["tools"] == ["spending_by_category", "recurring_payments", "runway",
                                      "runway"]
    assert_no_leak(rig, cid, answer)
