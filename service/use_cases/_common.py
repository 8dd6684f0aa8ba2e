"""Helpers shared by use cases: role rules, audit events, the write pattern.

Reads are one scoped statement (no transaction). A write is one transaction of two
statements: a lock statement (caller's scope, family row ``FOR SHARE`` or ``FOR UPDATE``,
audit head ``FOR UPDATE``; see :mod:`service.repositories.scope`) and the change with
its audit entries (:func:`service.repositories.audit.append_ctes`). Through the Data
API that is four calls: ``BeginTransaction``, two ``ExecuteStatement``, ``Commit``.
"""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from service.audit import AuditEvent, AuditSigner
from service.db.port import Executor
from service.domain.errors import NotFoundError, PermissionDeniedError
from service.domain.models import Membership, Role, User
from service.domain.principal import Principal
from service.repositories import audit as audit_sql
from service.repositories import users

FAMILY_NOT_FOUND = "Family not found."
T = TypeVar("T")


def require_role(scope: Membership, *roles: Role, to: str) -> None:
    """403 unless the caller's role is one of ``roles``; ``to`` completes 'Your role may not …'."""
    if scope.role not in roles:
        raise PermissionDeniedError(f"Your role in this family may not {to}.")


def found(scoped: T | None) -> T:
    """What a scoped statement returned; 404 when the caller is not a member of a live family."""
    if scoped is None:
        raise NotFoundError(FAMILY_NOT_FOUND)
    return scoped


def actor(user_id: UUID) -> str:
    """How the audit trail names a user (an opaque id: no email or name)."""
    return f"user:{user_id}"


def event(user_id: UUID, action: str, target: tuple[str, UUID | str | None]) -> AuditEvent:
    """An audit event ``target=(type, id)`` by ``user_id``."""
    target_type, target_id = target
    return AuditEvent(actor=actor(user_id), action=action, target_type=target_type,
                      target_id=None if target_id is None else str(target_id))


# -- step-by-step helpers (more statements; for flows that are not on the hot path) -----

def caller(tx: Executor, principal: Principal) -> User:
    """The ``users`` row of the authenticated principal (created on first sight)."""
    return users.ensure_user(tx, principal)


def audit(  # noqa: PLR0917 - a step-by-step call shape (tests of the chain)
    tx: Executor, signer: AuditSigner, family_id: UUID, user: User, action: str,
    target: tuple[str, UUID | str | None],
) -> None:
    """Append one audit entry in the current transaction (locks the head; 2 statements)."""
    head = audit_sql.lock_head(tx, family_id)
    audit_sql.append(tx, signer.seal(head, [event(user.id, action, target)]))
