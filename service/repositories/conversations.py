"""Conversations of the money assistant: scoped to their own member, sealed at rest.

Every statement resolves the caller (:mod:`service.repositories.scope`) and matches a
conversation only where ``user_id`` is the caller's own user in a live family they
belong to: another member, an owner included, finds nothing (404). Expired
conversations are invisible before the purge removes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from service.audit.chain import ChainHead, SealedEntry
from service.crypto import SealedValue
from service.db.port import Executor, Row, SqlValue
from service.domain.models import Membership
from service.domain.principal import Principal
from service.repositories.audit import append_ctes, head_of
from service.repositories.scope import (
    SCOPE,
    SCOPE_ANY_FAMILY,
    SCOPE_COLUMNS,
    caller_params,
    family_params,
    lock_statement,
    scope_of,
)

_COLUMNS = "c.id, c.family_id, c.created_at, c.last_message_at, c.expires_at, c.message_count"
_SEALED = "c.handles_ciphertext, c.handles_nonce"
#: The caller's own, unexpired conversation (after ``scope s``).
_OWN = "c.family_id = s.family_id AND c.user_id = s.user_id AND c.expires_at > now()"


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation's metadata (never its text)."""

    id: UUID
    family_id: UUID
    created_at: datetime
    last_message_at: datetime
    expires_at: datetime
    message_count: int


@dataclass(frozen=True, slots=True)
class SealedMessage:
    """One stored message: its number, kind and ciphertext."""

    seq: int
    kind: str
    body: SealedValue = field(repr=False)


@dataclass(frozen=True, slots=True)
class StoredConversation:
    """A conversation with its sealed handle table and messages, and the caller's scope."""

    scope: Membership
    conversation: Conversation
    handles: SealedValue = field(repr=False)
    messages: tuple[SealedMessage, ...]
    quota_used: int | None = None
    """Messages counted today after this claim; ``None``: the daily quota is spent."""


def _conversation(row: Row) -> Conversation:
    return Conversation(id=row["id"], family_id=row["family_id"], created_at=row["created_at"],
                        last_message_at=row["last_message_at"], expires_at=row["expires_at"],
                        message_count=int(row["message_count"]))


def _stored(rows: list[Row], *, quota: bool = False) -> StoredConversation | None:
    if not rows:
        return None
    first = rows[0]
    messages = tuple(
        SealedMessage(int(r["seq"]), r["kind"], SealedValue(bytes(r["body_ciphertext"]),
                                                            bytes(r["body_nonce"])))
        for r in rows if r["seq"] is not None)
    used = first["quota_used"] if quota else 0
    return StoredConversation(
        scope=scope_of(first), conversation=_conversation(first),
        handles=SealedValue(bytes(first["handles_ciphertext"]), bytes(first["handles_nonce"])),
        messages=messages, quota_used=None if used is None else int(used))


def create(
    ex: Executor, principal: Principal, scope: Membership, *, conversation_id: UUID,
    handles: SealedValue, retention_days: int, entries: Sequence[SealedEntry],
) -> Conversation | None:
    """Insert the caller's conversation in ``scope``'s family and audit it (one statement)."""
    audit, audit_params = append_ctes(entries)
    row = ex.fetch_one(
        f"""WITH {SCOPE},
            change AS (
                INSERT INTO conversations (id, family_id, user_id, handles_ciphertext,
                    handles_nonce, expires_at)
                SELECT :conversation_id, s.family_id, s.user_id, :h_ct, :h_nonce,
                       now() + make_interval(days => CAST(:retention_days AS integer))
                FROM scope s
                RETURNING id, family_id, created_at, last_message_at, expires_at,
                          message_count),
            {audit}
            SELECT * FROM change""",  # noqa: S608
        {**family_params(principal, scope.family_id), "conversation_id": conversation_id,
         "h_ct": handles.ciphertext, "h_nonce": handles.nonce,
         "retention_days": retention_days, **audit_params},
    )
    return None if row is None else _conversation(row)


def list_own(
    ex: Executor, principal: Principal, family_id: UUID, *, limit: int
) -> tuple[Membership | None, list[Conversation]]:
    """The caller's scope (``None``: not a member) and their own conversations, newest first."""
    rows = ex.fetch_all(
        f"""WITH {SCOPE}
            SELECT {SCOPE_COLUMNS}, {_COLUMNS}
            FROM scope s LEFT JOIN LATERAL (
                SELECT * FROM conversations c WHERE {_OWN}
                ORDER BY c.last_message_at DESC, c.id LIMIT :limit) c ON true
            ORDER BY c.last_message_at DESC, c.id""",  # noqa: S608
        {**family_params(principal, family_id), "limit": limit},
    )
    if not rows:
        return None, []
    return scope_of(rows[0]), [_conversation(r) for r in rows if r["id"] is not None]


def read_own(
    ex: Executor, principal: Principal, conversation_id: UUID
) -> StoredConversation | None:
    """The caller's own conversation with every message (one statement)."""
    return _stored(ex.fetch_all(
        f"""WITH {SCOPE_ANY_FAMILY}
            SELECT {SCOPE_COLUMNS}, {_COLUMNS}, {_SEALED},
                   m.seq, m.kind, m.body_ciphertext, m.body_nonce
            FROM scope s JOIN conversations c ON {_OWN} AND c.id = :conversation_id
            LEFT JOIN chat_messages m ON m.conversation_id = c.id
            ORDER BY m.seq""",  # noqa: S608
        {**caller_params(principal), "conversation_id": conversation_id},
    ))


def claim_message(
    ex: Executor, principal: Principal, conversation_id: UUID, *, daily_limit: int
) -> StoredConversation | None:
    """Count one message against the member's daily quota and read the conversation.

    One statement: the upsert increments only below ``daily_limit`` (row-locked, so
    concurrent claims never overshoot); ``quota_used`` is ``None`` when it is spent.
    """
    return _stored(ex.fetch_all(
        f"""WITH {SCOPE_ANY_FAMILY},
            conv AS (
                SELECT s.membership_id AS scope_membership_id, s.role AS scope_role,
                       s.user_id AS scope_user_id, s.family_id AS scope_family,
                       {_COLUMNS}, {_SEALED}, c.user_id
                FROM scope s JOIN conversations c ON {_OWN} AND c.id = :conversation_id),
            quota AS (
                INSERT INTO chat_quota AS q (family_id, user_id, day, messages)
                SELECT family_id, user_id, CAST(timezone('UTC', now()) AS date), 1 FROM conv
                ON CONFLICT (family_id, user_id, day)
                DO UPDATE SET messages = q.messages + 1 WHERE q.messages < :daily_limit
                RETURNING messages)
            SELECT conv.*, (SELECT messages FROM quota) AS quota_used,
                   m.seq, m.kind, m.body_ciphertext, m.body_nonce
            FROM conv LEFT JOIN chat_messages m ON m.conversation_id = conv.id
            ORDER BY m.seq""",  # noqa: S608
        {**caller_params(principal), "conversation_id": conversation_id,
         "daily_limit": daily_limit},
    ), quota=True)


def lock_own(
    ex: Executor, principal: Principal, conversation_id: UUID
) -> tuple[Membership, ChainHead, int] | None:
    """Lock statement of a write to the caller's own conversation: scope, audit head and
    the conversation's message count (stable while the head is locked)."""
    row = ex.fetch_one(
        lock_statement(
            columns="c.message_count",
            joins="JOIN conversations c ON c.family_id = m.family_id AND c.user_id = m.user_id",
            where="AND c.id = :conversation_id AND c.expires_at > now()",
        ),
        {**caller_params(principal), "conversation_id": conversation_id},
    )
    if row is None:
        return None
    return scope_of(row), head_of(row), int(row["message_count"])


def append(
    ex: Executor, scope: Membership, conversation_id: UUID, *, after_count: int,
    messages: Sequence[tuple[str, SealedValue]], handles: SealedValue, retention_days: int,
    entries: Sequence[SealedEntry],
) -> bool:
    """Append messages numbered from ``after_count + 1``, store the handle table, move
    the expiry and audit the tool calls, in one statement (after :func:`lock_own`)."""
    params: dict[str, SqlValue] = {
        "conversation_id": conversation_id, "family_id": scope.family_id,
        "user_id": scope.user_id, "after_count": after_count, "added": len(messages),
        "h_ct": handles.ciphertext, "h_nonce": handles.nonce, "retention_days": retention_days,
    }
    values = []
    for n, (kind, body) in enumerate(messages):
        values.append(f"(CAST(:m{n}_seq AS integer), CAST(:m{n}_kind AS text), "
                      f"CAST(:m{n}_ct AS bytea), CAST(:m{n}_nonce AS bytea))")
        params.update({f"m{n}_seq": after_count + n + 1, f"m{n}_kind": kind,
                       f"m{n}_ct": body.ciphertext, f"m{n}_nonce": body.nonce})
    audit = ""
    if entries:
        ctes, audit_params = append_ctes(entries)
        audit = f",\n{ctes}"
        params.update(audit_params)
    inserted = ""
    if values:
        inserted = f""",
            inserted AS (
                INSERT INTO chat_messages (conversation_id, seq, kind, body_ciphertext,
                                           body_nonce)
                SELECT :conversation_id, v.* FROM (VALUES {", ".join(values)})
                    AS v(seq, kind, body_ciphertext, body_nonce)
                WHERE EXISTS (SELECT 1 FROM change)
                RETURNING seq)"""  # noqa: S608
    row = ex.fetch_one(
        f"""WITH change AS (
                UPDATE conversations SET message_count = message_count + :added,
                    handles_ciphertext = :h_ct, handles_nonce = :h_nonce,
                    last_message_at = now(),
                    expires_at = now() + make_interval(days => CAST(:retention_days AS integer))
                WHERE id = :conversation_id AND family_id = :family_id
                  AND user_id = :user_id AND message_count = :after_count
                RETURNING id){inserted}{audit}
            SELECT count(*) AS n FROM change""",  # noqa: S608
        params,
    )
    return row is not None and int(row["n"]) == 1


def delete(
    ex: Executor, scope: Membership, conversation_id: UUID, entries: Sequence[SealedEntry]
) -> bool:
    """Delete the caller's conversation (messages go with it) and audit it (one statement)."""
    audit, audit_params = append_ctes(entries)
    row = ex.fetch_one(
        f"""WITH change AS (
                DELETE FROM conversations WHERE id = :conversation_id
                  AND family_id = :family_id AND user_id = :user_id
                RETURNING id),
            {audit}
            SELECT count(*) AS n FROM change""",  # noqa: S608
        {"conversation_id": conversation_id, "family_id": scope.family_id,
         "user_id": scope.user_id, **audit_params},
    )
    return row is not None and int(row["n"]) == 1


def purge_expired(ex: Executor, *, limit: int) -> int:
    """Delete up to ``limit`` expired conversations and quota days older than yesterday
    (idempotent: a second run finds nothing); the number of conversations deleted."""
    row = ex.fetch_one(
        """WITH gone AS (
               DELETE FROM conversations WHERE id IN (
                   SELECT id FROM conversations WHERE expires_at <= now()
                   ORDER BY expires_at LIMIT :limit)
               RETURNING id),
           old_quota AS (
               DELETE FROM chat_quota
               WHERE day < CAST(timezone('UTC', now()) AS date) - 1 RETURNING 1)
           SELECT (SELECT count(*) FROM gone) AS n""",
        {"limit": limit},
    )
    return 0 if row is None else int(row["n"])
