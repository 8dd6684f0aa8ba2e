"""Family members (memberships joined with users), scoped to the caller's family."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from service.audit.chain import ChainHead, SealedEntry
from service.db.port import Executor, Row
from service.domain.models import Member, Membership, Role
from service.domain.principal import Principal
from service.repositories.audit import append_ctes, head_of
from service.repositories.scope import (
    SCOPE,
    SCOPE_COLUMNS,
    family_params,
    lock_statement,
    scope_of,
)

#: Owners left if the target stops being one (counted in the changing statement).
_OWNERS_LEFT = """(NOT CAST(:target_was_owner AS boolean)
    OR (SELECT count(*) FROM memberships o
        WHERE o.family_id = s.family_id AND o.role = 'owner') > 1)"""


def _member(row: Row) -> Member:
    return Member(id=row["id"], user_id=row["user_id"], email=row["email"],
                  display_name=row["display_name"], role=Role(row["role"]),
                  joined_at=row["created_at"])


def list_members(
    ex: Executor, principal: Principal, family_id: UUID
) -> tuple[Membership | None, list[Member]]:
    """The caller's scope (``None``: not a member) and the family's members (one statement)."""
    rows = ex.fetch_all(
        f"""WITH {SCOPE}
            SELECT {SCOPE_COLUMNS}, x.id, x.user_id, u.email, u.display_name, x.role,
                   x.created_at
            FROM scope s JOIN memberships x ON x.family_id = s.family_id
            JOIN users u ON u.id = x.user_id
            ORDER BY x.created_at, x.id""",  # noqa: S608
        family_params(principal, family_id),
    )
    if not rows:
        return None, []
    return scope_of(rows[0]), [_member(r) for r in rows]


def lock_member(
    ex: Executor, principal: Principal, family_id: UUID, membership_id: UUID
) -> tuple[Membership, ChainHead, Member | None] | None:
    """The caller's scope and locked head, and the target member (``None`` if not in the
    family); ``None`` when the caller is not a member."""
    row = ex.fetch_one(
        lock_statement(
            columns="t.id, t.user_id, t.role, t.created_at, tu.email, tu.display_name",
            joins="""LEFT JOIN memberships t ON t.id = :membership_id
                                               AND t.family_id = m.family_id
                     LEFT JOIN users tu ON tu.id = t.user_id""",
            where="AND m.family_id = :scope_family_id",
        ),
        {**family_params(principal, family_id), "membership_id": membership_id},
    )
    if row is None:
        return None
    return scope_of(row), head_of(row), None if row["id"] is None else _member(row)


def set_role(
    ex: Executor, principal: Principal, scope: Membership, target: Member, *, role: Role,
    entries: Sequence[SealedEntry],
) -> Member | None:
    """Change a member's role (owners only; never the last owner) and audit it, in one
    statement. ``None`` if refused."""
    audit, audit_params = append_ctes(entries)
    row = ex.fetch_one(
        f"""WITH {SCOPE},
            change AS (
                UPDATE memberships t SET role = :role FROM scope s
                WHERE t.id = :membership_id AND t.family_id = s.family_id
                  AND s.role = 'owner' AND {_OWNERS_LEFT}
                RETURNING t.id, t.user_id, t.role, t.created_at),
            {audit}
            SELECT c.*, u.email, u.display_name FROM change c JOIN users u ON u.id = c.user_id""",  # noqa: S608
        {**family_params(principal, scope.family_id), "membership_id": target.id,
         "role": role.value, "target_was_owner": target.role is Role.OWNER, **audit_params},
    )
    return None if row is None else _member(row)


def remove_member(
    ex: Executor, principal: Principal, scope: Membership, target: Member,
    entries: Sequence[SealedEntry],
) -> bool:
    """Remove a member (and, by cascade, the accounts they hold) and audit it.

    Matches when the caller is an owner or removes themselves, and an owner remains.
    """
    audit, audit_params = append_ctes(entries)
    row = ex.fetch_one(
        f"""WITH {SCOPE},
            change AS (
                DELETE FROM memberships t USING scope s
                WHERE t.id = :membership_id AND t.family_id = s.family_id
                  AND (t.user_id = s.user_id OR s.role = 'owner') AND {_OWNERS_LEFT}
                RETURNING t.id),
            {audit}
            SELECT count(*) AS n FROM change""",  # noqa: S608
        {**family_params(principal, scope.family_id), "membership_id": target.id,
         "target_was_owner": target.role is Role.OWNER, **audit_params},
    )
    return row is not None and int(row["n"]) == 1
