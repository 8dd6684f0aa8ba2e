"""Cross-tenant and injection defences on both adapters, with canaries so they can fail.

Family A's joint account carries the caller's own canary, Bob's private account and
family B's account carry canaries the caller (Alice) may not see. Whatever the model
does, the other canaries never reach the provider's request log, the answer or the
messages to store, while the caller's own canary does (the control).
"""

from __future__ import annotations

from devtools.llm_doubles import CallTool, ScriptedModel, Turn, scripts
from service.chat import SYSTEM_PROMPT, Assistant, AssistantReply, ToolRegistry
from tests.chat.conftest import Connect, Provider, alice_context
from tests.chat.fake_ledger import (
    ALICE,
    BOB,
    BOB_PRIVATE,
    CANARY_FAMILY,
    CANARY_MEMBER,
    CANARY_OWN,
    FAMILY_A,
    FAMILY_B,
    INJECTION,
    OTHER_FAMILY_ACCOUNT,
    FakeLedger,
    fake_tool_registry,
)

FORBIDDEN = (CANARY_MEMBER, CANARY_FAMILY)
TOOLS = ("test_list_accounts", "test_search_transactions")


def run(provider: Provider, tools: ToolRegistry, text: str) -> AssistantReply:
    return Assistant(model=provider.model, tools=tools).reply(
        context=alice_context(), history=[], text=text
    )


def stored_text(reply: AssistantReply) -> str:
    return repr(reply.messages)


def assert_only_own_data(provider: Provider, reply: AssistantReply, ledger: FakeLedger) -> None:
    everywhere = (provider.log_text(), reply.text, stored_text(reply))
    for canary in FORBIDDEN:
        assert all(canary not in where for where in everywhere), canary
    assert {(family, subject) for _, family, subject, _ in ledger.calls} <= {
        (FAMILY_A, ALICE.subject)
    }


def test_control_the_callers_own_canary_does_reach_the_model(
    connect: Connect, ledger: FakeLedger
) -> None:
    provider = connect(scripts.tool_round_trip("test_search_transactions", {"text": "CANARY"}))

    reply = run(provider, fake_tool_registry(ledger), "Show my canary")

    assert CANARY_OWN in provider.log_text()
    assert CANARY_OWN in reply.text
    assert_only_own_data(provider, reply, ledger)


def test_control_bobs_own_conversation_sees_bobs_private_canary(
    connect: Connect, ledger: FakeLedger
) -> None:
    """The same tools bound to Bob return his canary: the filter is the binding."""
    provider = connect(scripts.tool_round_trip("test_search_transactions", {"text": "CANARY"}))
    context = alice_context()
    bobs = type(context)(BOB, FAMILY_A, context.conversation_id, context.handles)

    reply = Assistant(model=provider.model, tools=fake_tool_registry(ledger)).reply(
        context=bobs, history=[], text="Show my canary"
    )

    assert CANARY_MEMBER in reply.text and CANARY_MEMBER in provider.log_text()
    assert CANARY_FAMILY not in provider.log_text()


def test_a_model_smuggling_other_ids_into_every_call_sees_only_the_callers_data(
    connect: Connect, ledger: FakeLedger
) -> None:
    provider = connect(
        scripts.family_hopper(
            TOOLS,
            other_family_id=str(FAMILY_B),
            other_member_id=BOB.subject,
            other_account_id=str(OTHER_FAMILY_ACCOUNT),
        )
    )

    reply = run(provider, fake_tool_registry(ledger), "What is in every account?")

    results = [
        content for request in provider.requests for content, _ in provider.tool_results(request)
    ]
    errors = [content.get("error") for content in results]
    # round 1: both tools refuse the smuggled fields; round 2: an id and a guessed
    # handle are not accounts; round 3: the clean call answers with Alice's data only.
    assert errors.count("invalid_input") >= 3 and "unknown_handle" in errors
    assert CANARY_OWN in reply.text
    assert_only_own_data(provider, reply, ledger)
    # ids the model made up never go back to it either: the redactor drops UUIDs
    for identifier in (str(FAMILY_B), str(OTHER_FAMILY_ACCOUNT), str(BOB_PRIVATE)):
        assert identifier not in provider.log_text()


def test_an_injected_instruction_stays_data_and_reaches_nothing(
    connect: Connect, ledger: FakeLedger
) -> None:
    provider = connect(
        scripts.echo_injection(
            "test_search_transactions", "test_list_accounts", other_family_id=str(FAMILY_B)
        )
    )

    reply = run(provider, fake_tool_registry(ledger), "Anything odd in my transactions?")

    injected = INJECTION.split(" of family")[0]
    for request in provider.requests:
        assert provider.system_texts(request) == [SYSTEM_PROMPT]
        assert all(injected not in text for text in provider.user_texts(request))
    # it reached the model only inside a tool result
    assert any(
        injected in str(content) for content, _ in provider.tool_results(provider.requests[1])
    )
    # the model obeyed (asked for family B's accounts) and got a validation error...
    second_round = provider.tool_results(provider.requests[2])[-1][0]
    assert second_round["error"] == "invalid_input"
    assert second_round["errors"] == [
        {"loc": ["family_id"], "msg": "Extra inputs are not permitted"}
    ]
    # ...and its clean call lists only what Alice may see
    assert "Joint current" in reply.text
    assert "Bob's savings" not in reply.text and "B current" not in reply.text
    assert_only_own_data(provider, reply, ledger)


def test_handles_from_another_conversation_do_not_resolve(
    connect: Connect, ledger: FakeLedger
) -> None:
    """acct-1 issued in one conversation means nothing in another."""
    provider = connect(
        ScriptedModel(
            [
                Turn(calls=(CallTool("test_search_transactions", {"account": "acct-1"}),)),
                Turn(echo_tool_results=True),
            ]
        )
    )
    elsewhere = alice_context()
    elsewhere.handles.issue("acct", str(BOB_PRIVATE))  # another table, not this conversation's

    reply = run(provider, fake_tool_registry(ledger), "Search acct-1")

    assert "unknown_handle" in reply.text
    assert_only_own_data(provider, reply, ledger)
