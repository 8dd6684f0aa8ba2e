"""Families and the caller's memberships."""

from __future__ import annotations

from uuid import UUID

from service.db.port import Executor, Row
from service.domain.models import Family, FamilySummary, Membership, Role
from service.repositories.scope import IS_MEMBER, scope_params


def _membership(row: Row) -> Membership:
    return Membership(id=row["id"], family_id=row["family_id"], user_id=row["user_id"],
                      role=Role(row["role"]))


def create_family(ex: Executor, name: str) -> Family:
    """Insert a family (the caller's owner membership is added separately)."""
    row = ex.fetch_one(
        "INSERT INTO families (name) VALUES (:name) RETURNING id, name, created_at",
        {"name": name},
    )
    assert row is not None
    return Family(id=row["id"], name=row["name"], created_at=row["created_at"])


def add_membership(ex: Executor, family_id: UUID, user_id: UUID, role: Role) -> Membership:
    """Add ``user_id`` to ``family_id``; ``IntegrityViolationError`` if already a member."""
    row = ex.fetch_one(
        """INSERT INTO memberships (family_id, user_id, role)
           VALUES (:family_id, :user_id, :role)
           RETURNING id, family_id, user_id, role""",
        {"family_id": family_id, "user_id": user_id, "role": role.value},
    )
    assert row is not None
    return _membership(row)


def find_membership(
    ex: Executor, user_id: UUID, family_id: UUID, *, lock: bool = False
) -> Membership | None:
    """The user's membership of a live family, or ``None``.

    ``lock=True`` locks the family row (``FOR UPDATE`` of ``families``) so use cases that
    check-then-change membership or delete the family serialise per family.
    """
    lock_clause = " FOR UPDATE OF f" if lock else ""
    row = ex.fetch_one(
        f"""SELECT m.id, m.family_id, m.user_id, m.role
            FROM memberships m JOIN families f ON f.id = m.family_id
            WHERE m.user_id = :user_id AND m.family_id = :family_id
              AND f.deleted_at IS NULL{lock_clause}""",  # noqa: S608
        {"user_id": user_id, "family_id": family_id},
    )
    return None if row is None else _membership(row)


def get_family(ex: Executor, scope: Membership) -> Family | None:
    """The family of ``scope`` if the caller is still a member of it."""
    row = ex.fetch_one(
        f"""SELECT id, name, created_at FROM families
            WHERE id = :scope_family_id AND deleted_at IS NULL AND {IS_MEMBER}""",  # noqa: S608
        scope_params(scope),
    )
    return None if row is None else Family(id=row["id"], name=row["name"],
                                           created_at=row["created_at"])


def families_of(ex: Executor, user_id: UUID) -> list[FamilySummary]:
    """Every live family the user belongs to, with their role."""
    rows = ex.fetch_all(
        """SELECT f.id, f.name, m.role FROM memberships m JOIN families f ON f.id = m.family_id
           WHERE m.user_id = :user_id AND f.deleted_at IS NULL
           ORDER BY f.created_at, f.id""",
        {"user_id": user_id},
    )
    return [FamilySummary(id=r["id"], name=r["name"], role=Role(r["role"])) for r in rows]


def delete_family_data(ex: Executor, scope: Membership) -> None:
    """Delete every row of the family and leave a nameless tombstone (owner scope only).

    The caller must already have destroyed the family's data key in the key store
    (:meth:`service.crypto.FamilyKeyring.destroy`).
    """
    params = scope_params(scope)
    owner_check = """EXISTS (SELECT 1 FROM memberships sm
                     WHERE sm.family_id = :scope_family_id AND sm.user_id = :scope_user_id
                       AND sm.role = 'owner')"""
    for table in ("transactions", "balances", "accounts", "connections", "invitations"):
        ex.execute(
            f"DELETE FROM {table} WHERE family_id = :scope_family_id AND {owner_check}", params  # noqa: S608
        )
    ex.execute(
        f"""UPDATE families SET deleted_at = now(), name = 'deleted family'
            WHERE id = :scope_family_id AND deleted_at IS NULL AND {owner_check}""",  # noqa: S608
        params,
    )
    # Memberships last (the owner check above relies on them), only once tombstoned.
    ex.execute(
        """DELETE FROM memberships WHERE family_id = :scope_family_id
           AND EXISTS (SELECT 1 FROM families WHERE id = :scope_family_id
                       AND deleted_at IS NOT NULL)""",
        {"scope_family_id": scope.family_id},
    )
