"""The assistant loop on both adapters, through the real clients, against the doubles."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from devtools.llm_doubles import CallTool, KeywordModel, ScriptedModel, Turn, scripts
from devtools.llm_doubles.server import ProtocolError
from service.chat import (
    SYSTEM_PROMPT,
    Assistant,
    AssistantLimits,
    AssistantTimeoutError,
    ChatModel,
    OutputTokenLimitError,
    ProviderFailedError,
    ProviderUnavailableError,
    ToolResultsMessage,
    ToolRoundLimitError,
    UserMessage,
)
from tests.chat.conftest import Connect, alice_context
from tests.chat.fake_ledger import CANARY_OWN, FakeLedger, fake_tool_registry


def assistant(model: ChatModel, ledger: FakeLedger, **limits: Any) -> Assistant:
    """The assistant over the TEST tools with the given limits."""
    return Assistant(
        model=model, tools=fake_tool_registry(ledger), limits=AssistantLimits(**limits)
    )


def test_tool_round_trip(connect: Connect, ledger: FakeLedger) -> None:
    provider = connect(scripts.tool_round_trip("test_search_transactions", {"text": "tesco"}))

    reply = assistant(provider.model, ledger).reply(
        context=alice_context(), history=[], text="What did we spend at Tesco?"
    )

    assert CANARY_OWN in reply.text
    assert reply.model_calls == 2 and len(provider.requests) == 2
    assert [run.audit_name for run in reply.tool_runs] == ["test_search_transactions"]
    assert all(run.ok for run in reply.tool_runs)
    assert isinstance(reply.messages[0], UserMessage)
    assert isinstance(reply.messages[2], ToolResultsMessage)
    first, second = provider.requests
    assert provider.system_texts(first) == [SYSTEM_PROMPT]
    assert provider.user_texts(first) == ["What did we spend at Tesco?"]
    # the tool result travels as a tool-result block, not as system or user text
    [(content, is_error)] = provider.tool_results(second)
    assert content["transactions"][0]["description"].endswith(CANARY_OWN)
    assert is_error in (False, None)
    assert provider.system_texts(second) == [SYSTEM_PROMPT]
    assert reply.usage.output_tokens > 0 and reply.usage.input_tokens > 0


def test_history_is_sent_before_the_new_message(connect: Connect, ledger: FakeLedger) -> None:
    provider = connect(
        ScriptedModel(
            [
                Turn(calls=(CallTool("test_list_accounts"),)),
                Turn(text="You have a joint account."),
                Turn(text="Still the joint account."),
            ]
        )
    )
    helper = assistant(provider.model, ledger)
    first = helper.reply(context=alice_context(), history=[], text="Which accounts?")
    second = helper.reply(context=alice_context(), history=first.messages, text="And now?")

    assert second.text == "Still the joint account."
    last = provider.requests[-1]
    assert provider.user_texts(last) == ["Which accounts?", "And now?"]
    assert len(provider.tool_results(last)) == 1


def test_a_model_that_loops_forever_stops_after_the_round_limit(
    connect: Connect, ledger: FakeLedger
) -> None:
    provider = connect(scripts.loops_forever("test_list_accounts"))

    with pytest.raises(ToolRoundLimitError) as raised:
        assistant(provider.model, ledger, max_tool_rounds=3).reply(
            context=alice_context(), history=[], text="Loop"
        )

    assert len(provider.requests) == 4  # three rounds run, the fourth request for tools refused
    assert len(ledger.calls) == 3
    assert raised.value.usage.output_tokens > 0
    assert raised.value.status == 422 and "3 rounds" in raised.value.detail
    # the tools that ran are still reported, for the audit trail
    assert [run.audit_name for run in raised.value.tool_runs] == ["test_list_accounts"] * 3


def test_each_call_asks_only_for_the_output_tokens_left(
    connect: Connect, ledger: FakeLedger
) -> None:
    looping = ScriptedModel(
        [Turn(text="thinking", calls=(CallTool("test_list_accounts"),), output_tokens=40)],
        repeat_last=True,
    )
    provider = connect(looping)

    reply = assistant(provider.model, ledger, max_output_tokens=100, max_tool_rounds=10).reply(
        context=alice_context(), history=[], text="Spend"
    )

    assert [provider.max_tokens(r) for r in provider.requests] == [100, 60, 20]
    assert reply.truncated  # the third turn was cut at the last 20 tokens
    assert reply.usage.output_tokens == 100


def test_a_spent_output_budget_is_a_typed_error(connect: Connect, ledger: FakeLedger) -> None:
    provider = connect(
        ScriptedModel(
            [Turn(calls=(CallTool("test_list_accounts"),), output_tokens=50)], repeat_last=True
        )
    )

    with pytest.raises(OutputTokenLimitError) as raised:
        assistant(provider.model, ledger, max_output_tokens=100, max_tool_rounds=10).reply(
            context=alice_context(), history=[], text="Spend"
        )

    assert len(provider.requests) == 2
    assert raised.value.usage.output_tokens == 100


def test_an_unknown_tool_gets_an_error_result(connect: Connect, ledger: FakeLedger) -> None:
    provider = connect(scripts.unknown_tool("transfer_money"))

    reply = assistant(provider.model, ledger).reply(
        context=alice_context(), history=[], text="Pay my rent"
    )

    [(content, is_error)] = provider.tool_results(provider.requests[1])
    assert content["error"] == "unknown_tool"
    assert "test_list_accounts" in content["detail"]
    assert is_error in (True, None)
    assert [run.audit_name for run in reply.tool_runs] == ["unknown"]
    assert not reply.tool_runs[0].ok
    assert ledger.calls == []


def test_malformed_tool_input_gets_error_results(connect: Connect, ledger: FakeLedger) -> None:
    provider = connect(scripts.malformed_input("test_search_transactions"))

    reply = assistant(provider.model, ledger).reply(
        context=alice_context(), history=[], text="Search"
    )

    results = provider.tool_results(provider.requests[1])
    assert [content["error"] for content, _ in results] == ["invalid_input"] * 3
    assert results[0][0]["detail"] in (
        "The tool input is not valid JSON.",  # chat completions: the arguments string
        "The tool input must be a JSON object.",  # Converse: a JSON string as input
    )
    assert results[1][0]["detail"] == "The tool input must be a JSON object."
    locations = {tuple(item["loc"]) for item in results[2][0]["errors"]}
    assert locations == {("limit",), ("text",)}
    assert ledger.calls == []  # no handler ran on invalid input
    assert "invalid_input" in reply.text


def test_a_provider_slower_than_the_timeout_is_a_typed_timeout(
    connect: Connect, ledger: FakeLedger
) -> None:
    provider = connect(ScriptedModel([Turn(text="late", delay=30.0)]), read_timeout=0.3)

    with pytest.raises(AssistantTimeoutError) as raised:
        assistant(provider.model, ledger).reply(context=alice_context(), history=[], text="Hi")

    assert raised.value.status == 504
    assert len(provider.requests) == 1


def test_the_whole_message_has_one_deadline(connect: Connect, ledger: FakeLedger) -> None:
    provider = connect(scripts.loops_forever("test_list_accounts"))
    ticks = itertools.count(0.0, 4.0)  # every clock reading is 4 s later
    helper = Assistant(
        model=provider.model,
        tools=fake_tool_registry(ledger),
        limits=AssistantLimits(max_tool_rounds=100, timeout=25.0),
        clock=lambda: next(ticks),
    )

    with pytest.raises(AssistantTimeoutError):
        helper.reply(context=alice_context(), history=[], text="Hi")

    assert 1 <= len(provider.requests) < 5


def test_provider_failures_are_typed(connect: Connect, ledger: FakeLedger) -> None:
    provider = connect(scripts.answer("never sent"))
    provider.double.protocol.fail_next(
        ProtocolError(503, "ServiceUnavailableException", "overloaded")
    )

    with pytest.raises(ProviderFailedError) as raised:
        assistant(provider.model, ledger).reply(context=alice_context(), history=[], text="Hi")

    assert isinstance(raised.value.__cause__, ProviderUnavailableError)
    assert raised.value.status == 502
    assert "overloaded" not in raised.value.detail


def test_the_laptop_keyword_model_calls_the_tool_the_question_names(
    connect: Connect, ledger: FakeLedger
) -> None:
    provider = connect(KeywordModel())

    reply = assistant(provider.model, ledger).reply(
        context=alice_context(), history=[], text="Search my transactions please"
    )

    assert [run.audit_name for run in reply.tool_runs] == ["test_search_transactions"]
    assert CANARY_OWN in reply.text


def test_calls_past_the_per_turn_cap_are_not_run(connect: Connect, ledger: FakeLedger) -> None:
    provider = connect(
        ScriptedModel(
            [
                Turn(calls=tuple(CallTool("test_list_accounts") for _ in range(3))),
                Turn(echo_tool_results=True),
            ]
        )
    )

    reply = assistant(provider.model, ledger, max_tool_calls_per_round=2).reply(
        context=alice_context(), history=[], text="Accounts, thrice"
    )

    assert len(ledger.calls) == 2
    assert [run.audit_name for run in reply.tool_runs] == ["test_list_accounts"] * 2 + ["skipped"]
    results = provider.tool_results(provider.requests[1])
    assert results[2][0]["error"] == "too_many_calls"


def test_a_filtered_turn_is_flagged(connect: Connect, ledger: FakeLedger) -> None:
    provider = connect(ScriptedModel([Turn(text="Sorry, I cannot help with that.", filtered=True)]))

    reply = assistant(provider.model, ledger).reply(
        context=alice_context(), history=[], text="Which shares should I buy?"
    )

    assert reply.filtered and not reply.truncated
    assert reply.text == "Sorry, I cannot help with that."


def test_a_history_ending_with_an_unanswered_message_still_works(
    connect: Connect, ledger: FakeLedger
) -> None:
    provider = connect(scripts.answer("Answered both."))

    reply = assistant(provider.model, ledger).reply(
        context=alice_context(), history=[UserMessage("First, unanswered")], text="Second"
    )

    assert reply.text == "Answered both."
    assert provider.user_texts(provider.requests[0]) == ["First, unanswered", "Second"]
