"""Redaction of every outbound request, asserted on what the doubles received."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from devtools.llm_doubles import scripts
from service.chat import Assistant, Tool, ToolContext, ToolRegistry
from tests.chat.conftest import Connect, alice_context

SECRETS = {
    "email": "jane.doe+bank@example.co.uk",
    "sort code": "20-45-77",
    "account number": "31926819",
    "card": "4111 1111 1111 1111",
    "bearer": "Bearer abcdef0123456789abcdef",
    "jwt": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.c2lnbmF0dXJlc2lnbmF0dXJl",
    "refresh token": "rt9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0",
}


class NoInput(BaseModel):
    model_config = ConfigDict(extra="forbid")


def leaky_statement(_: ToolContext, __: NoInput) -> dict[str, Any]:
    """A TEST tool whose result carries every kind of secret, as bank text can."""
    return {
        "payee": f"Refund to {SECRETS['email']}",
        "from": f"sort code {SECRETS['sort code']} account {SECRETS['account number']}",
        "card": SECRETS["card"],
        "amount_pence": 98765432,  # a JSON number is a figure and passes, even 8 digits
        "date": "2026-11-30",
    }


def test_no_secret_in_user_text_or_tool_results_reaches_the_provider(connect: Connect) -> None:
    provider = connect(scripts.tool_round_trip("test_statement"))
    tools = ToolRegistry(
        [Tool("test_statement", "TEST TOOL: a statement line.", NoInput, leaky_statement)]
    )
    question = (
        f"I am {SECRETS['email']}, my card is {SECRETS['card']}, sort code "
        f"{SECRETS['sort code']}, account {SECRETS['account number']}; my token is "
        f"{SECRETS['bearer']} / {SECRETS['jwt']} / {SECRETS['refresh token']}. "
        "What was the refund on 2026-11-30 of £12.50?"
    )

    Assistant(model=provider.model, tools=tools).reply(
        context=alice_context(), history=[], text=question
    )

    log = provider.log_text()
    assert len(provider.requests) == 2
    for kind, secret in SECRETS.items():
        assert secret not in log, kind
    for placeholder in (
        "[redacted email]",
        "[redacted card number]",
        "[redacted sort code]",
        "[redacted account number]",
        "[redacted token]",
    ):
        assert placeholder in log
    # what is not sensitive still goes: dates, amounts, the JSON number
    assert "2026-11-30" in log and "£12.50" in log and "98765432" in log
