"""Families, memberships of the caller, and deleting a family."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from service.audit.chain import ChainHead, SealedEntry
from service.db.port import Executor, Row
from service.domain.models import Family, FamilySummary, Membership, Role
from service.domain.principal import Principal
from service.repositories.audit import append_ctes, head_of
from service.repositories.scope import (
    SCOPE,
    SCOPE_COLUMNS,
    family_params,
    lock_statement,
    scope_of,
)


def _membership(row: Row) -> Membership:
    return Membership(id=row["id"], family_id=row["family_id"], user_id=row["user_id"],
                      role=Role(row["role"]))


def create_family(
    ex: Executor, *, family_id: UUID, name: str, owner_id: UUID, entries: Sequence[SealedEntry]
) -> Family:
    """Insert a family, its owner's membership, its chain head and first entries (one statement)."""
    audit, audit_params = append_ctes(entries, after="family", new_chain=True)
    row = ex.fetch_one(
        f"""WITH family AS (
                INSERT INTO families (id, name) VALUES (:family_id, :name)
                RETURNING id, name, created_at),
            owner AS (
                INSERT INTO memberships (family_id, user_id, role)
                SELECT id, :owner_id, 'owner' FROM family RETURNING id),
            {audit}
            SELECT f.id, f.name, f.created_at FROM family f""",  # noqa: S608
        {"family_id": family_id, "name": name, "owner_id": owner_id, **audit_params},
    )
    assert row is not None
    return Family(id=row["id"], name=row["name"], created_at=row["created_at"])


def lock_scope(
    ex: Executor, principal: Principal, family_id: UUID, *, exclusive: bool = False
) -> tuple[Membership, ChainHead] | None:
    """The caller's membership of live ``family_id`` and its locked audit head, or ``None``.

    Locks the family row ``FOR SHARE`` (``FOR UPDATE`` when ``exclusive``: deletion).
    """
    row = ex.fetch_one(
        lock_statement(where="AND m.family_id = :scope_family_id", exclusive=exclusive),
        family_params(principal, family_id),
    )
    return None if row is None else (scope_of(row), head_of(row))


def find_membership(
    ex: Executor, user_id: UUID, family_id: UUID, *, lock: bool = False
) -> Membership | None:
    """The user's membership of a live family, or ``None``.

    Locks the family row ``FOR SHARE`` (``FOR UPDATE`` with ``lock``), so data added to
    the family in the same transaction cannot race its deletion.
    """
    lock_clause = "FOR UPDATE OF f" if lock else "FOR SHARE OF f"
    row = ex.fetch_one(
        f"""SELECT m.id, m.family_id, m.user_id, m.role
            FROM memberships m JOIN families f ON f.id = m.family_id
            WHERE m.user_id = :user_id AND m.family_id = :family_id
              AND f.deleted_at IS NULL {lock_clause}""",  # noqa: S608
        {"user_id": user_id, "family_id": family_id},
    )
    return None if row is None else _membership(row)


def get_family(
    ex: Executor, principal: Principal, family_id: UUID
) -> tuple[Family, Membership] | None:
    """The family and the caller's membership, if the caller belongs to it (one statement)."""
    row = ex.fetch_one(
        f"""WITH {SCOPE}
            SELECT {SCOPE_COLUMNS}, f.name, f.created_at
            FROM scope s JOIN families f ON f.id = s.family_id""",  # noqa: S608
        family_params(principal, family_id),
    )
    if row is None:
        return None
    return (Family(id=family_id, name=row["name"], created_at=row["created_at"]),
            scope_of(row))


def families_of(ex: Executor, user_id: UUID) -> list[FamilySummary]:
    """Every live family the user belongs to, with their role."""
    rows = ex.fetch_all(
        """SELECT f.id, f.name, m.role FROM memberships m JOIN families f ON f.id = m.family_id
           WHERE m.user_id = :user_id AND f.deleted_at IS NULL
           ORDER BY f.created_at, f.id""",
        {"user_id": user_id},
    )
    return [FamilySummary(id=r["id"], name=r["name"], role=Role(r["role"])) for r in rows]


def delete_family_data(
    ex: Executor, scope: Membership, entries: Sequence[SealedEntry]
) -> bool:
    """Delete every row of the family, leave a nameless tombstone and audit it (one statement).

    Call after :func:`lock_scope` with ``exclusive=True``; the caller destroys the
    family's data key once this has committed. Matches only an owner's scope; ``True``
    if the family was deleted.
    """
    audit, audit_params = append_ctes(entries, after="change")
    owner = """EXISTS (SELECT 1 FROM memberships sm WHERE sm.family_id = :family_id
                       AND sm.user_id = :user_id AND sm.role = 'owner')"""
    deletes = ",\n".join(
        f"""del_{table} AS (DELETE FROM {table} WHERE family_id = :family_id AND {owner}
                            RETURNING 1)"""  # noqa: S608
        for table in ("recurring_decisions", "recurring_series", "category_rules",
                      "transactions", "balances", "accounts", "connections", "invitations",
                      "memberships")
    )
    row = ex.fetch_one(
        f"""WITH {deletes},
            change AS (
                UPDATE families SET deleted_at = now(), name = 'deleted family'
                WHERE id = :family_id AND deleted_at IS NULL AND {owner}
                RETURNING id),
            {audit}
            SELECT count(*) AS n FROM change""",  # noqa: S608
        {"family_id": scope.family_id, "user_id": scope.user_id, **audit_params},
    )
    return row is not None and int(row["n"]) == 1


def deleters(ex: Executor, principal: Principal, family_id: UUID) -> list[tuple[UUID, str]]:
    """The caller's user id beside each actor of ``family.delete`` in a deleted family's
    chain (empty when the family is live or unknown, or the caller has no user row).

    Lets an owner's retry finish a deletion whose key shredding failed after the commit
    (the memberships are gone with the rest). One statement.
    """
    rows = ex.fetch_all(
        """SELECT u.id AS user_id, a.actor
           FROM users u
           JOIN families f ON f.id = :scope_family_id AND f.deleted_at IS NOT NULL
           JOIN audit_log a ON a.family_id = f.id AND a.action = 'family.delete'
           WHERE u.issuer = :caller_issuer AND u.subject = :caller_subject""",
        family_params(principal, family_id),
    )
    return [(r["user_id"], r["actor"]) for r in rows]
