"""Family members (memberships joined with users), scoped to the caller's family."""

from __future__ import annotations

from uuid import UUID

from service.db.port import Executor, Row
from service.domain.models import Member, Membership, Role
from service.repositories.scope import IS_MEMBER, IS_OWNER, scope_params

_SELECT = """SELECT m.id, m.user_id, u.email, u.display_name, m.role, m.created_at
             FROM memberships m JOIN users u ON u.id = m.user_id"""


def _member(row: Row) -> Member:
    return Member(id=row["id"], user_id=row["user_id"], email=row["email"],
                  display_name=row["display_name"], role=Role(row["role"]),
                  joined_at=row["created_at"])


def list_members(ex: Executor, scope: Membership) -> list[Member]:
    """Members of the caller's family (any member may list them)."""
    rows = ex.fetch_all(
        f"""{_SELECT} WHERE m.family_id = :scope_family_id AND {IS_MEMBER}
            ORDER BY m.created_at, m.id""",
        scope_params(scope),
    )
    return [_member(r) for r in rows]


def get_member(ex: Executor, scope: Membership, membership_id: UUID) -> Member | None:
    """One member of the caller's family, or ``None`` (also for other families' ids)."""
    row = ex.fetch_one(
        f"""{_SELECT} WHERE m.id = :membership_id AND m.family_id = :scope_family_id
            AND {IS_MEMBER}""",
        {**scope_params(scope), "membership_id": membership_id},
    )
    return None if row is None else _member(row)


def count_owners(ex: Executor, scope: Membership) -> int:
    """Number of owners of the caller's family."""
    row = ex.fetch_one(
        f"""SELECT count(*) AS n FROM memberships
            WHERE family_id = :scope_family_id AND role = 'owner' AND {IS_MEMBER}""",  # noqa: S608
        scope_params(scope),
    )
    return 0 if row is None else int(row["n"])


def set_role(ex: Executor, scope: Membership, membership_id: UUID, role: Role) -> bool:
    """Change a member's role; only an owner's scope matches. ``True`` if a row changed."""
    changed = ex.execute(
        f"""UPDATE memberships SET role = :role
            WHERE id = :membership_id AND family_id = :scope_family_id AND {IS_OWNER}""",  # noqa: S608
        {**scope_params(scope), "membership_id": membership_id, "role": role.value},
    )
    return changed == 1


def remove_member(ex: Executor, scope: Membership, membership_id: UUID) -> bool:
    """Remove a member (and, by cascade, the accounts they hold).

    Matches when the caller is an owner or removes themselves. ``True`` if removed.
    """
    removed = ex.execute(
        f"""DELETE FROM memberships
            WHERE id = :membership_id AND family_id = :scope_family_id
              AND (user_id = :scope_user_id OR {IS_OWNER})""",  # noqa: S608
        {**scope_params(scope), "membership_id": membership_id},
    )
    return removed == 1
