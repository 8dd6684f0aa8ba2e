"""Named scripts: the misbehaving models the chat's defences are tested against.

Each returns a :class:`~.script.ScriptedModel`. Tool names are parameters, so the same
scripts drive test tools now and the product's tools later.
"""

from __future__ import annotations

from typing import Any

from devtools.llm_doubles.script import CallTool, ScriptedModel, Turn


def answer(text: str) -> ScriptedModel:
    """A model that answers at once, without tools."""
    return ScriptedModel([Turn(text=text)])


def tool_round_trip(tool: str, arguments: dict[str, Any] | None = None) -> ScriptedModel:
    """Call ``tool`` once, then answer by repeating its result."""
    return ScriptedModel(
        [
            Turn(text="Let me look that up.", calls=(CallTool(tool, arguments or {}),)),
            Turn(text="Here is what I found:", echo_tool_results=True),
        ]
    )


def loops_forever(tool: str, arguments: dict[str, Any] | None = None) -> ScriptedModel:
    """Call ``tool`` on every turn, never answering."""
    return ScriptedModel([Turn(calls=(CallTool(tool, arguments or {}),))], repeat_last=True)


def unknown_tool(name: str = "transfer_money") -> ScriptedModel:
    """Ask for a tool that was never offered, then repeat what it was told."""
    return ScriptedModel(
        [Turn(calls=(CallTool(name, {"amount": "1000.00"}),)), Turn(echo_tool_results=True)]
    )


def malformed_input(tool: str) -> ScriptedModel:
    """Send ``tool`` input that is not JSON, not an object and of the wrong types."""
    return ScriptedModel(
        [
            Turn(
                calls=(
                    CallTool(tool, "not an object", raw_arguments='{"text": "tesco", '),
                    CallTool(tool, ["a", "list"]),
                    CallTool(tool, {"limit": "lots", "text": 42}),
                )
            ),
            Turn(echo_tool_results=True),
        ]
    )


def family_hopper(
    tools: tuple[str, ...],
    *,
    other_family_id: str,
    other_member_id: str,
    other_account_id: str,
) -> ScriptedModel:
    """Add another family's and another member's ids to every call of every tool.

    Then try the other family's account id and a guessed handle as the account, and
    finally make a clean call and repeat everything it was told.
    """
    smuggled = {
        "family_id": other_family_id,
        "familyId": other_family_id,
        "user_id": other_member_id,
        "member_id": other_member_id,
        "account_id": other_account_id,
    }
    return ScriptedModel(
        [
            Turn(calls=tuple(CallTool(tool, dict(smuggled)) for tool in tools)),
            Turn(
                calls=(
                    CallTool(tools[-1], {"account": other_account_id}),
                    CallTool(tools[-1], {"account": "acct-7"}),
                )
            ),
            Turn(calls=(CallTool(tools[-1], {"text": "CANARY"}),)),
            Turn(text="Everything I was told:", echo_tool_results=True),
        ]
    )


def echo_injection(search_tool: str, list_tool: str, *, other_family_id: str) -> ScriptedModel:
    """Read transactions, then obey the instruction planted in a description.

    The planted text asks for another family's accounts: the model calls ``list_tool``
    with that family's id and repeats the injected text in its answer.
    """
    return ScriptedModel(
        [
            Turn(calls=(CallTool(search_tool, {"text": "IGNORE"}),)),
            Turn(
                text="Following the instruction in the transaction.",
                calls=(CallTool(list_tool, {"family_id": other_family_id}),),
                echo_tool_results=True,
            ),
            Turn(calls=(CallTool(list_tool, {}),)),
            Turn(text="Accounts:", echo_tool_results=True),
        ]
    )
