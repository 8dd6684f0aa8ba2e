"""The money assistant: a member's own conversations over the family's data.

With no provider configured every route answers 503 saying how to turn chat on. A
conversation is its creator's alone: other members, owners included, get 404.
"""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint, Response

from service.api._deps import audit_signer, keyring
from service.api.chat_schemas import (
    AnswerOut,
    ConversationDetail,
    ConversationList,
    ConversationOut,
    MessageIn,
)
from service.chat import AssistantError
from service.chat.config import CHAT_OFF_DETAIL, ChatConfig
from service.domain.errors import FeatureUnavailableError
from service.errors import problem, problem_type
from service.http import current_database, current_principal, endpoint
from service.http.context import current_services
from service.repositories.conversations import Conversation
from service.use_cases import chat as uc

bp = Blueprint("chat", __name__, url_prefix="/v1")
_OFF = {503: "Chat is off on this server (the problem says how to turn it on)"}


def _config() -> ChatConfig:
    config = current_services().chat_config
    if not config.enabled:
        raise FeatureUnavailableError(CHAT_OFF_DETAIL)
    return config


def _policy(config: ChatConfig) -> uc.ChatPolicy:
    return uc.ChatPolicy(retention_days=config.retention_days,
                         daily_messages=config.daily_messages)


@endpoint(bp, "POST", "/families/<fid>/conversations", response=ConversationOut, status=201,
          summary="Start a conversation with the money assistant", tags=["chat"],
          responses={404: "Not a member", **_OFF})
def create_conversation(*, fid: UUID) -> Conversation:
    """A new conversation of the caller in the family; only the caller can read it."""
    config = _config()
    return uc.create_conversation(current_database(), audit_signer(), keyring(),
                                  current_principal(), fid, policy=_policy(config))


@endpoint(bp, "GET", "/families/<fid>/conversations", response=ConversationList,
          summary="List my conversations", tags=["chat"], responses={404: "Not a member", **_OFF})
def list_conversations(*, fid: UUID) -> dict[str, object]:
    """The caller's own conversations in the family, newest first (never other members')."""
    _config()
    return {"items": uc.list_conversations(current_database(), current_principal(), fid)}


@endpoint(bp, "GET", "/conversations/<cid>", response=ConversationDetail,
          summary="Read one of my conversations", tags=["chat"],
          responses={404: "Not the caller's conversation", **_OFF})
def get_conversation(*, cid: UUID) -> dict[str, object]:
    """The member's and the assistant's messages (tool results are not shown)."""
    _config()
    transcript = uc.read_conversation(current_database(), keyring(), current_principal(), cid)
    return {"conversation": transcript.conversation, "messages": transcript.messages}


@endpoint(bp, "DELETE", "/conversations/<cid>", status=204,
          summary="Delete one of my conversations", tags=["chat"],
          responses={404: "Not the caller's conversation", **_OFF})
def delete_conversation(*, cid: UUID) -> None:
    """Delete the conversation and every message of it."""
    _config()
    uc.delete_conversation(current_database(), audit_signer(), current_principal(), cid)


@endpoint(bp, "POST", "/conversations/<cid>/messages", body=MessageIn, response=AnswerOut,
          summary="Ask the money assistant", tags=["chat"],
          responses={404: "Not the caller's conversation", 422: "Tool rounds or output "
                     "budget exhausted", 429: "Daily message quota used", 502: "Provider "
                     "failed", 504: "No answer in time", **_OFF})
def post_message(*, cid: UUID, body: MessageIn) -> uc.ChatAnswer | Response:
    """Answer the question from the family's data through read-only tools, within bounds:
    tool rounds, output tokens, a time limit and a daily message quota."""
    config = _config()
    services = current_services()
    try:
        return uc.post_message(current_database(), audit_signer(), keyring(),
                               services.assistant, current_principal(), conversation_id=cid,
                               text=body.text,
                               policy=_policy(config))
    except AssistantError as error:
        return problem(error.status, error.detail, type_=problem_type(error.problem_slug))
