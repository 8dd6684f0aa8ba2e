"""The money assistant's conversations: create, list, read, delete, message, purge.

A conversation belongs to the member who created it, in one family; only that member
reads, messages or deletes it (anyone else, owners included, gets 404). Messages and
the handle table are sealed under the family's data key. Posting a message:

1. one statement claims a message of the member's daily quota and reads the
   conversation (429 when the quota is spent, 404 when it is not the caller's);
2. the :class:`~service.chat.Assistant` answers with the read-only tools, bound to the
   caller's principal and the conversation's family;
3. one write (lock statement + change) stores the new messages and appends one audit
   entry per tool call: ``chat.tool.<name>`` on ``conversation:<id>``, nothing else
   (the owners who read the trail may not read the conversation).

When the assistant fails within its bounds (timeout, tool rounds, output budget,
provider) the member's message and the audit entries of the tools that ran are still
stored, then the :class:`~service.chat.AssistantError` propagates for the API to answer.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from service.audit import AuditSigner, record_read
from service.chat import Assistant, AssistantError, HandleTable, ToolContext, ToolRun
from service.chat.messages import AssistantMessage, Message, TokenUsage, UserMessage
from service.chat.transcript import (
    dump_message,
    handles_aad,
    load_message,
    message_aad,
    message_kind,
    recent_history,
)
from service.crypto import FamilyKeyring, open_sealed, seal
from service.db.port import Database
from service.domain.errors import NotFoundError, QuotaExceededError
from service.domain.principal import Principal
from service.repositories import conversations as repo
from service.repositories import families
from service.use_cases._common import event, found

CONVERSATION_NOT_FOUND = "Conversation not found."
PURGE_BATCH = 500


@dataclass(frozen=True, slots=True)
class ChatPolicy:
    """Retention, quota and how much history goes back to the model."""

    retention_days: int = 30
    daily_messages: int = 50
    history_exchanges: int = 10


@dataclass(frozen=True, slots=True)
class TranscriptEntry:
    """What the member sees of one message: who spoke, the text, the tools called."""

    role: str
    text: str
    tools: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Transcript:
    """A conversation and its visible messages."""

    conversation: repo.Conversation
    messages: tuple[TranscriptEntry, ...]


@dataclass(frozen=True, slots=True)
class ChatAnswer:
    """The assistant's answer to one message."""

    conversation_id: UUID
    text: str
    tools: tuple[str, ...]
    usage: TokenUsage
    truncated: bool
    filtered: bool
    messages_left_today: int


def create_conversation(
    db: Database, signer: AuditSigner, keyring: FamilyKeyring, principal: Principal,
    family_id: UUID, *, policy: ChatPolicy,
) -> repo.Conversation:
    """Start the caller's conversation in ``family_id`` (any member, children included)."""
    conversation_id = uuid.uuid4()
    with db.transaction() as tx:
        scope, head = found(families.lock_scope(tx, principal, family_id))
        # Created under the family's FOR SHARE lock: a deletion waits, then shreds it.
        data_key = keyring.sealing_key(family_id)
        created = repo.create(
            tx, principal, scope, conversation_id=conversation_id,
            handles=seal(data_key, "{}", handles_aad(family_id, conversation_id)),
            retention_days=policy.retention_days,
            entries=signer.seal(head, [event(scope.user_id, "chat.conversation.create",
                                             ("conversation", conversation_id))]),
        )
        return found(created)


def list_conversations(
    db: Database, principal: Principal, family_id: UUID, *, limit: int = 50
) -> list[repo.Conversation]:
    """The caller's own unexpired conversations in the family, newest first (one statement)."""
    scope, items = repo.list_own(db, principal, family_id, limit=limit)
    found(scope)
    return items


def read_conversation(
    db: Database, keyring: FamilyKeyring, principal: Principal, conversation_id: UUID
) -> Transcript:
    """The caller's own conversation with its member and assistant text (one statement)."""
    stored = repo.read_own(db, principal, conversation_id)
    if stored is None:
        raise NotFoundError(CONVERSATION_NOT_FOUND)
    record_read(family_id=stored.scope.family_id, user_id=stored.scope.user_id,
                action="conversation.read", target=("conversation", conversation_id))
    _, _, messages = _open(keyring, stored)
    return Transcript(stored.conversation, tuple(_visible(messages)))


def delete_conversation(
    db: Database, signer: AuditSigner, principal: Principal, conversation_id: UUID
) -> None:
    """Delete the caller's own conversation and its messages."""
    with db.transaction() as tx:
        locked = repo.lock_own(tx, principal, conversation_id)
        if locked is None:
            raise NotFoundError(CONVERSATION_NOT_FOUND)
        scope, head, _ = locked
        entries = signer.seal(head, [event(scope.user_id, "chat.conversation.delete",
                                           ("conversation", conversation_id))])
        if not repo.delete(tx, scope, conversation_id, entries):
            raise NotFoundError(CONVERSATION_NOT_FOUND)


def post_message(
    db: Database, signer: AuditSigner, keyring: FamilyKeyring, assistant: Assistant,
    principal: Principal, *, conversation_id: UUID, text: str, policy: ChatPolicy,
) -> ChatAnswer:
    """Answer the member's ``text`` in their conversation (see the module docstring).

    Raises
    ------
    NotFoundError
        Not the caller's (unexpired) conversation.
    QuotaExceededError
        The member's daily messages are used up.
    AssistantError
        A bound was reached or the provider failed (the message is stored).
    """
    stored = repo.claim_message(db, principal, conversation_id,
                                daily_limit=policy.daily_messages)
    if stored is None:
        raise NotFoundError(CONVERSATION_NOT_FOUND)
    if stored.quota_used is None:
        raise QuotaExceededError(
            f"You have sent the {policy.daily_messages} assistant messages allowed per day; "
            "try again tomorrow (UTC).")
    data_key, handles, history = _open(keyring, stored)
    context = ToolContext(principal=principal, family_id=stored.conversation.family_id,
                          conversation_id=conversation_id, handles=handles)
    try:
        reply = assistant.reply(
            context=context, text=text,
            history=recent_history(history, exchanges=policy.history_exchanges))
    except AssistantError as error:
        _store(db, signer, data_key, principal, conversation_id, [UserMessage(text)],
               handles, error.tool_runs, policy)
        raise
    _store(db, signer, data_key, principal, conversation_id, reply.messages, handles,
           reply.tool_runs, policy)
    return ChatAnswer(
        conversation_id=conversation_id, text=reply.text,
        tools=tuple(run.audit_name for run in reply.tool_runs), usage=reply.usage,
        truncated=reply.truncated, filtered=reply.filtered,
        messages_left_today=max(0, policy.daily_messages - stored.quota_used),
    )


def purge_expired_conversations(db: Database, *, batch: int = PURGE_BATCH) -> int:
    """Delete every conversation past its retention (idempotent; batches of ``batch``).

    Returns the number deleted. Safe to run at any time and concurrently with traffic:
    reads already ignore expired conversations.
    """
    total = 0
    while True:
        deleted = repo.purge_expired(db, limit=batch)
        total += deleted
        if deleted < batch:
            return total


def _open(
    keyring: FamilyKeyring, stored: repo.StoredConversation
) -> tuple[bytes, HandleTable, list[Message]]:
    family_id = stored.conversation.family_id
    conversation_id = stored.conversation.id
    data_key = keyring.opening_key(family_id)
    handles = HandleTable.from_dict(json.loads(open_sealed(
        data_key, stored.handles, handles_aad(family_id, conversation_id))))
    messages = [load_message(open_sealed(data_key, m.body,
                                         message_aad(family_id, conversation_id, m.seq)))
                for m in stored.messages]
    return data_key, handles, messages


def _store(  # noqa: PLR0917 - one write of a chat turn
    db: Database, signer: AuditSigner, data_key: bytes, principal: Principal,
    conversation_id: UUID, messages: Sequence[Message], handles: HandleTable,
    tool_runs: Sequence[ToolRun], policy: ChatPolicy,
) -> None:
    with db.transaction() as tx:
        locked = repo.lock_own(tx, principal, conversation_id)
        if locked is None:  # deleted (or expired) while the assistant was answering
            raise NotFoundError(CONVERSATION_NOT_FOUND)
        scope, head, count = locked
        family_id = scope.family_id
        # The key opened for this turn: never sealing_key() here, which would create a
        # new key if a family deletion destroyed the old one meanwhile (the deletion then
        # removes these rows; under a destroyed key they are unreadable anyway).
        sealed = [
            (message_kind(message),
             seal(data_key, dump_message(message),
                  message_aad(family_id, conversation_id, count + n + 1)))
            for n, message in enumerate(messages)
        ]
        entries = signer.seal(head, [
            event(scope.user_id, f"chat.tool.{run.audit_name}", ("conversation", conversation_id))
            for run in tool_runs
        ]) if tool_runs else []
        sealed_handles = seal(data_key, json.dumps(handles.to_dict()),
                              handles_aad(family_id, conversation_id))
        if not repo.append(tx, scope, conversation_id, after_count=count, messages=sealed,
                           handles=sealed_handles, retention_days=policy.retention_days,
                           entries=entries):
            raise NotFoundError(CONVERSATION_NOT_FOUND)


def _visible(messages: Sequence[Message]) -> list[TranscriptEntry]:
    out: list[TranscriptEntry] = []
    for message in messages:
        if isinstance(message, UserMessage):
            out.append(TranscriptEntry("member", message.text))
        elif isinstance(message, AssistantMessage):
            tools = tuple(call.name for call in message.tool_calls)
            if message.text or tools:
                out.append(TranscriptEntry("assistant", message.text, tools))
    return out
