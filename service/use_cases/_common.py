"""Helpers shared by use cases: the caller, their membership, role rules, audit."""

from __future__ import annotations

from uuid import UUID

from service.audit import AuditEvent, append
from service.db.port import Executor
from service.domain.errors import NotFoundError, PermissionDeniedError
from service.domain.models import Membership, Role, User
from service.domain.principal import Principal
from service.repositories import families, users

FAMILY_NOT_FOUND = "Family not found."


def caller(tx: Executor, principal: Principal) -> User:
    """The ``users`` row of the authenticated principal (created on first sight)."""
    return users.ensure_user(tx, principal)


def membership(tx: Executor, user: User, family_id: UUID, *, lock: bool = False) -> Membership:
    """The caller's membership of ``family_id``; 404 when they are not a member."""
    found = families.find_membership(tx, user.id, family_id, lock=lock)
    if found is None:
        raise NotFoundError(FAMILY_NOT_FOUND)
    return found


def require_role(scope: Membership, *roles: Role, to: str) -> None:
    """403 unless the caller's role is one of ``roles``; ``to`` completes 'Your role may not …'."""
    if scope.role not in roles:
        raise PermissionDeniedError(f"Your role in this family may not {to}.")


def actor(user: User) -> str:
    """How the audit trail names a user (an opaque id: no email or name)."""
    return f"user:{user.id}"


def audit(
    tx: Executor, family_id: UUID, user: User, action: str,
    target: tuple[str, UUID | str | None],
) -> None:
    """Append an audit entry ``target=(type, id)`` in the current transaction."""
    target_type, target_id = target
    append(tx, family_id, AuditEvent(
        actor=actor(user), action=action, target_type=target_type,
        target_id=None if target_id is None else str(target_id),
    ))
