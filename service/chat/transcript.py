"""How a conversation's messages are stored: one JSON document per message, sealed.

:func:`dump_message` / :func:`load_message` turn the provider-neutral messages of
:mod:`service.chat.messages` into JSON text and back; :func:`message_aad` binds a sealed
message to its family, conversation and position, so a ciphertext copied to another
row does not open. :func:`recent_history` bounds what is sent back to the model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from service.chat.messages import (
    AssistantMessage,
    Message,
    ToolCall,
    ToolResult,
    ToolResultsMessage,
    UserMessage,
)


def message_kind(message: Message) -> str:
    """The stored ``kind`` of ``message``: ``user``, ``assistant`` or ``tool_results``."""
    if isinstance(message, UserMessage):
        return "user"
    if isinstance(message, AssistantMessage):
        return "assistant"
    return "tool_results"


def dump_message(message: Message) -> str:
    """``message`` as JSON text."""
    document: dict[str, Any]
    if isinstance(message, UserMessage):
        document = {"text": message.text}
    elif isinstance(message, AssistantMessage):
        document = {"text": message.text, "tool_calls": [
            {"id": c.call_id, "name": c.name, "arguments": c.arguments,
             "raw_arguments": c.raw_arguments} for c in message.tool_calls]}
    else:
        document = {"results": [
            {"id": r.call_id, "content": dict(r.content), "is_error": r.is_error}
            for r in message.results]}
    return json.dumps({"kind": message_kind(message), **document}, separators=(",", ":"))


def load_message(text: str) -> Message:
    """The message stored as ``text`` by :func:`dump_message`."""
    document = json.loads(text)
    kind = document["kind"]
    if kind == "user":
        return UserMessage(str(document["text"]))
    if kind == "assistant":
        return AssistantMessage(str(document["text"]), tuple(
            ToolCall(str(c["id"]), str(c["name"]), c["arguments"], c.get("raw_arguments"))
            for c in document["tool_calls"]))
    return ToolResultsMessage(tuple(
        ToolResult(str(r["id"]), r["content"], bool(r["is_error"]))
        for r in document["results"]))


def message_aad(family_id: UUID, conversation_id: UUID, seq: int) -> dict[str, str]:
    """Additional authenticated data of message ``seq`` of a conversation."""
    return {"family": str(family_id), "conversation": str(conversation_id),
            "message": str(seq)}


def handles_aad(family_id: UUID, conversation_id: UUID) -> dict[str, str]:
    """Additional authenticated data of a conversation's sealed handle table."""
    return {"family": str(family_id), "conversation": str(conversation_id),
            "field": "handles"}


def recent_history(messages: Sequence[Message], *, exchanges: int) -> list[Message]:
    """The last ``exchanges`` exchanges (each from a member's message on), so tool results
    always travel with the assistant turn that asked for them."""
    starts = [i for i, message in enumerate(messages) if isinstance(message, UserMessage)]
    if len(starts) <= exchanges:
        return list(messages[starts[0]:]) if starts else []
    return list(messages[starts[-exchanges]:])
