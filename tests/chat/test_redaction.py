"""The redaction rules, one kind at a time, with what must pass unchanged."""

from __future__ import annotations

import pytest

from service.chat import (
    AssistantMessage,
    ModelRequest,
    ToolCall,
    ToolResult,
    ToolResultsMessage,
    ToolSpec,
    UserMessage,
)
from service.chat.redaction import Redactor, luhn_valid

redact = Redactor().text


@pytest.mark.parametrize(
    ("prefix", "secret", "placeholder"),
    [
        ("write to ", "a.b+c@example.co.uk", "[redacted email]"),
        ("sort code ", "12-34-56", "[redacted sort code]"),
        ("sort code ", "12 34 56", "[redacted sort code]"),
        ("", "sortcode: 123456", "[redacted sort code]"),
        ("account ", "31926819", "[redacted account number]"),
        ("IBAN ", "GB29 NWBK 6016 1331 9268 19", "[redacted account number]"),
        ("IBAN ", "GB29NWBK60161331926819", "[redacted account number]"),
        ("card ", "4111 1111 1111 1111", "[redacted card number]"),
        ("card ", "5555-5555-5555-4444", "[redacted card number]"),
        ("card ", "378282246310005", "[redacted card number]"),
        ("ref ", "4111111111111112", "[redacted number]"),  # fails Luhn: still not sent
        ("Authorization: ", "Bearer abc.def-ghi_jkl", "[redacted token]"),
        ("", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "[redacted token]"),
        ("key ", "sk-proj-abcdefghijklmnop1234", "[redacted token]"),
        ("refresh ", "9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a", "[redacted token]"),
        ("family ", "3f2c1b5e-0000-4000-8000-000000000001", "[redacted id]"),
    ],
)
def test_each_kind_is_replaced(prefix: str, secret: str, placeholder: str) -> None:
    assert redact(f"{prefix}{secret}, thanks") == f"{prefix}{placeholder}, thanks"


@pytest.mark.parametrize(
    "text",
    [
        "Spent £1234.56 on 2026-12-01 at TESCO STORES 3021",
        "12345678.90 is an amount, 1,234,567 a count",
        "acct-1 and acct-12 are handles",
        "Netflix monthly 15.99, next 2027-01-05",
        "phone the bank on extension 1234",
        "tooluse_kZJMlvQmRJ6eAyJE5",  # short ids of our own making
    ],
)
def test_ordinary_text_passes(text: str) -> None:
    assert redact(text) == text


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")


def test_json_numbers_pass_and_strings_and_keys_are_redacted() -> None:
    value = {"amount_pence": 31926819, "note": "from 31926819", "a@b.com": [1.5, "12-34-56"]}
    assert Redactor().json(value) == {
        "amount_pence": 31926819,
        "note": "from [redacted account number]",
        "[redacted email]": [1.5, "[redacted sort code]"],
    }


def test_a_request_is_redacted_everywhere_but_ids_and_tool_specs() -> None:
    schema = {"type": "object", "properties": {"pattern": {"pattern": "^[0-9]{8}$"}}}
    request = ModelRequest(
        system="rules",
        messages=(
            UserMessage("me@example.com"),
            AssistantMessage(
                "mail me@example.com",
                (
                    ToolCall("call-12345678", "search", {"text": "me@example.com"}),
                    ToolCall("call-2", "search", None, raw_arguments='{"text": "me@example.com'),
                ),
            ),
            ToolResultsMessage((ToolResult("call-12345678", {"payee": "me@example.com"}),)),
        ),
        tools=(ToolSpec("search", "find 12345678", schema),),
        max_output_tokens=10,
    )

    redacted = Redactor().request(request)

    assert "me@example.com" not in repr(redacted.messages)
    assistant = redacted.messages[1]
    assert isinstance(assistant, AssistantMessage)
    assert assistant.tool_calls[0].call_id == "call-12345678"
    assert assistant.tool_calls[1].raw_arguments == '{"text": "[redacted email]'
    results = redacted.messages[2]
    assert isinstance(results, ToolResultsMessage)
    assert results.results[0].call_id == "call-12345678"
    assert redacted.tools == request.tools  # our own schemas are code, not data
