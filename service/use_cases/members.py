"""Listing, re-roling and removing family members."""

from __future__ import annotations

from uuid import UUID

from service.audit import AuditSigner, record_read
from service.db.port import Database
from service.domain.errors import ConflictError, NotFoundError
from service.domain.models import Member, Role
from service.domain.principal import Principal
from service.repositories import members
from service.use_cases._common import event, found, require_role

MEMBER_NOT_FOUND = "Member not found."
LAST_OWNER = "A family needs at least one owner; promote someone first."


def list_members(db: Database, principal: Principal, family_id: UUID) -> list[Member]:
    """Members of a family (any member may list them). One statement."""
    scope, result = members.list_members(db, principal, family_id)
    scope = found(scope)
    record_read(family_id=family_id, user_id=scope.user_id, action="members.list",
                target=("family", family_id))
    return result


def change_role(
    db: Database, signer: AuditSigner, principal: Principal, family_id: UUID,
    membership_id: UUID, *, role: Role,
) -> Member:
    """Change a member's role (owners only); the last owner cannot be demoted (409)."""
    with db.transaction() as tx:
        scope, head, target = found(members.lock_member(tx, principal, family_id,
                                                        membership_id))
        if target is None:
            raise NotFoundError(MEMBER_NOT_FOUND)
        require_role(scope, Role.OWNER, to="change roles")
        if target.role is role:
            return target
        entries = signer.seal(head, [event(scope.user_id, f"member.role.{role.value}",
                                           ("membership", membership_id))])
        updated = members.set_role(tx, principal, scope, target, role=role, entries=entries)
        if updated is None:
            raise ConflictError(LAST_OWNER)
        return updated


def remove_member(
    db: Database, signer: AuditSigner, principal: Principal, family_id: UUID,
    membership_id: UUID,
) -> None:
    """Remove a member (owners), or leave the family (anyone, for themselves).

    The member's accounts leave with them. The last owner cannot be removed (409).
    """
    with db.transaction() as tx:
        scope, head, target = found(members.lock_member(tx, principal, family_id,
                                                        membership_id))
        if target is None:
            raise NotFoundError(MEMBER_NOT_FOUND)
        if target.id != scope.id:
            require_role(scope, Role.OWNER, to="remove other members")
        entries = signer.seal(head, [event(scope.user_id, "member.remove",
                                           ("membership", membership_id))])
        if not members.remove_member(tx, principal, scope, target, entries):
            raise ConflictError(LAST_OWNER)
