"""Request and response models of the money assistant's routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from service.api.schemas import In, Out
from service.domain.queries import NO_CONTROL

MAX_MESSAGE_CHARS = 2000


class ConversationOut(Out):
    """A conversation of the caller (metadata only)."""

    id: UUID
    family_id: UUID
    created_at: datetime
    last_message_at: datetime
    expires_at: datetime = Field(description="When it is deleted unless a message extends it.")
    message_count: int


class ConversationList(Out):
    """The caller's own conversations in a family, newest first."""

    items: list[ConversationOut]


class TranscriptEntryOut(Out):
    """One message as the member sees it."""

    role: Literal["member", "assistant"]
    text: str
    tools: list[str] = Field(description="Tools the assistant called in this turn.")


class ConversationDetail(Out):
    """A conversation with its messages."""

    conversation: ConversationOut
    messages: list[TranscriptEntryOut]


class MessageIn(In):
    """The member's question."""

    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=MAX_MESSAGE_CHARS, pattern=NO_CONTROL)]


class UsageOut(Out):
    """Tokens the provider counted for this answer."""

    input_tokens: int
    output_tokens: int


class AnswerOut(Out):
    """The assistant's answer, built from the tools' figures."""

    conversation_id: UUID
    text: str
    tools: list[str] = Field(description="Tools called for this answer, in order.")
    usage: UsageOut
    truncated: bool = Field(description="The answer hit the output-token bound.")
    filtered: bool = Field(description="The provider's guardrail stopped the answer.")
    messages_left_today: int
