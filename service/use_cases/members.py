"""Listing, re-roling and removing family members."""

from __future__ import annotations

from uuid import UUID

from service.db.port import Database
from service.domain.errors import ConflictError, NotFoundError
from service.domain.models import Member, Role
from service.domain.principal import Principal
from service.repositories import members
from service.use_cases._common import audit, caller, membership, require_role

MEMBER_NOT_FOUND = "Member not found."


def list_members(db: Database, principal: Principal, family_id: UUID) -> list[Member]:
    """Members of a family (any member may list them)."""
    with db.transaction() as tx:
        user = caller(tx, principal)
        return members.list_members(tx, membership(tx, user, family_id))


def change_role(
    db: Database, principal: Principal, family_id: UUID, membership_id: UUID, *, role: Role
) -> Member:
    """Change a member's role (owners only); the last owner cannot be demoted (409)."""
    with db.transaction() as tx:
        user = caller(tx, principal)
        scope = membership(tx, user, family_id, lock=True)  # serialises owner-count checks
        target = members.get_member(tx, scope, membership_id)
        if target is None:
            raise NotFoundError(MEMBER_NOT_FOUND)
        require_role(scope, Role.OWNER, to="change roles")
        if target.role is Role.OWNER and role is not Role.OWNER \
                and members.count_owners(tx, scope) <= 1:
            raise ConflictError("A family needs at least one owner; promote someone first.")
        if target.role is not role:
            members.set_role(tx, scope, membership_id, role)
            audit(tx, family_id, user, f"member.role.{role.value}", ("membership", membership_id))
        updated = members.get_member(tx, scope, membership_id)
        assert updated is not None
        return updated


def remove_member(
    db: Database, principal: Principal, family_id: UUID, membership_id: UUID
) -> None:
    """Remove a member (owners), or leave the family (anyone, for themselves).

    The member's accounts leave with them. The last owner cannot be removed (409).
    """
    with db.transaction() as tx:
        user = caller(tx, principal)
        scope = membership(tx, user, family_id, lock=True)
        target = members.get_member(tx, scope, membership_id)
        if target is None:
            raise NotFoundError(MEMBER_NOT_FOUND)
        if target.id != scope.id:
            require_role(scope, Role.OWNER, to="remove other members")
        if target.role is Role.OWNER and members.count_owners(tx, scope) <= 1:
            raise ConflictError("A family needs at least one owner; promote someone first.")
        members.remove_member(tx, scope, membership_id)
        audit(tx, family_id, user, "member.remove", ("membership", membership_id))
