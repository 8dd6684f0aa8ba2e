"""The provider-neutral shape of a conversation with a model.

Both adapters translate these frozen records to their wire format and back, so the
assistant loop, the redaction step and the storage of a conversation see one shape.
Text that came from outside the service's code (the member's words, transaction
descriptions inside tool results) only ever travels in :class:`UserMessage` and
:class:`ToolResult`; the system prompt is a constant of the code.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

JsonObject: TypeAlias = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Tokens the provider counted for one call (or a sum of calls)."""

    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
        )


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as offered to the model: name, description and JSON Schema of its input."""

    name: str
    description: str
    input_schema: JsonObject


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call the model asked for.

    ``arguments`` is the decoded JSON the model sent (any JSON value: models do send
    arrays or strings); ``raw_arguments`` keeps the undecodable text when the model's
    arguments were not JSON at all, in which case ``arguments`` is ``None``.
    """

    call_id: str
    name: str
    arguments: Any
    raw_arguments: str | None = None

    @property
    def arguments_are_json(self) -> bool:
        """Whether the provider's arguments decoded as JSON."""
        return self.raw_arguments is None


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a tool answered to one call, as data for the model (never instructions)."""

    call_id: str
    content: JsonObject
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class UserMessage:
    """The member's own words."""

    text: str


@dataclass(frozen=True, slots=True)
class AssistantMessage:
    """A model turn: text and/or tool calls."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True, slots=True)
class ToolResultsMessage:
    """The results of every call of the previous assistant turn, in the same order."""

    results: tuple[ToolResult, ...]


Message: TypeAlias = UserMessage | AssistantMessage | ToolResultsMessage


class StopReason(enum.Enum):
    """Why the model stopped, normalised over both protocols."""

    END_TURN = "end_turn"
    TOOL_USE = "tool_use"
    MAX_TOKENS = "max_tokens"
    CONTENT_FILTERED = "content_filtered"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """One call to the model: everything the provider receives."""

    system: str
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...]
    max_output_tokens: int


@dataclass(frozen=True, slots=True)
class ModelTurn:
    """What the model answered to one :class:`ModelRequest`."""

    text: str
    tool_calls: tuple[ToolCall, ...]
    stop_reason: StopReason
    usage: TokenUsage = field(default_factory=TokenUsage)
