"""Invitations: only the SHA-256 of the random token is stored.

Inviting follows the write pattern of :mod:`service.repositories.scope`: the caller's
lock statement (:func:`service.repositories.families.lock_scope`), then
:func:`create_invitation` with its audit entry. Accepting has its own lock statement
(:func:`lock_for_acceptance`: the caller is not a member yet, the token names the
family) and :func:`accept` with its audit entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from service.audit.chain import ChainHead, SealedEntry
from service.db.port import Executor, Row
from service.domain.models import FamilySummary, Invitation, Membership, Role
from service.domain.principal import Principal
from service.repositories.audit import append_ctes, head_of
from service.repositories.scope import SCOPE, SCOPE_COLUMNS, family_params, scope_of
from service.repositories.users import caller_ctes

_COLUMNS = "id, family_id, email, role, expires_at, accepted_at, created_at"


def _invitation(row: Row) -> Invitation:
    return Invitation(id=row["id"], family_id=row["family_id"], email=row["email"],
                      role=Role(row["role"]), expires_at=row["expires_at"],
                      accepted_at=row["accepted_at"], created_at=row["created_at"])


def create_invitation(
    ex: Executor, principal: Principal, scope: Membership, *, invitation_id: UUID,
    email: str, role: Role, token_hash: str, expires_at: datetime,
    entries: Sequence[SealedEntry],
) -> Invitation | None:
    """Insert an invitation if the caller owns the family, and audit it (one statement);
    ``None`` if the scope does not allow it."""
    audit, audit_params = append_ctes(entries)
    row = ex.fetch_one(
        f"""WITH {SCOPE},
            change AS (
                INSERT INTO invitations (id, family_id, email, role, token_hash, expires_at,
                                         created_by)
                SELECT :invitation_id, s.family_id, :email, :role, :token_hash, :expires_at,
                       s.user_id
                FROM scope s WHERE s.role = 'owner'
                RETURNING {_COLUMNS}),
            {audit}
            SELECT * FROM change""",  # noqa: S608
        {**family_params(principal, scope.family_id), "invitation_id": invitation_id,
         "email": email, "role": role.value, "token_hash": token_hash,
         "expires_at": expires_at, **audit_params},
    )
    return None if row is None else _invitation(row)


def list_invitations(
    ex: Executor, principal: Principal, family_id: UUID
) -> tuple[Membership | None, list[Invitation]]:
    """The caller's scope (``None``: not a member) and, for owners, the family's
    invitations newest first (one statement)."""
    rows = ex.fetch_all(
        f"""WITH {SCOPE}
            SELECT {SCOPE_COLUMNS}, i.id, i.family_id, i.email, i.role, i.expires_at,
                   i.accepted_at, i.created_at
            FROM scope s LEFT JOIN invitations i
                ON i.family_id = s.family_id AND s.role = 'owner'
            ORDER BY i.created_at DESC, i.id DESC""",  # noqa: S608
        family_params(principal, family_id),
    )
    if not rows:
        return None, []
    return scope_of(rows[0]), [_invitation(r) for r in rows if r["id"] is not None]


@dataclass(frozen=True, slots=True)
class Acceptance:
    """What :func:`lock_for_acceptance` found and locked."""

    invitation: Invitation
    user_id: UUID
    already_member: bool
    head: ChainHead


def lock_for_acceptance(
    ex: Executor, principal: Principal, token_hash: str
) -> Acceptance | None:
    """The open invitation of a token hash, locked; ``None`` if unknown or its family is gone.

    One statement: creates the caller's user row if needed (or refreshes its email),
    locks the invitation ``FOR UPDATE``, the family row ``FOR SHARE`` (a deletion waits)
    and the family's audit head ``FOR UPDATE``, and says whether the caller already
    belongs to the family. This is the one lookup without a caller scope: possession of
    the random token is the authorisation (the use case also checks the caller's email).
    """
    upsert, upsert_params = caller_ctes(principal)
    row = ex.fetch_one(
        f"""WITH {upsert}
            SELECT me.id AS caller_id, i.id, i.family_id, i.email, i.role, i.expires_at,
                   i.accepted_at, i.created_at, f.id AS scope_family,
                   h.chain_index AS head_index, h.hash AS head_hash,
                   m.id IS NOT NULL AS already_member
            FROM invitations i
            JOIN families f ON f.id = i.family_id AND f.deleted_at IS NULL
            JOIN audit_heads h ON h.family_id = f.id
            CROSS JOIN me
            LEFT JOIN memberships m ON m.family_id = f.id AND m.user_id = me.id
            WHERE i.token_hash = :token_hash
            FOR UPDATE OF i FOR SHARE OF f FOR UPDATE OF h""",  # noqa: S608
        {**upsert_params, "token_hash": token_hash},
    )
    if row is None:
        return None
    return Acceptance(invitation=_invitation(row), user_id=row["caller_id"],
                      already_member=bool(row["already_member"]), head=head_of(row))


def accept(
    ex: Executor, acceptance: Acceptance, *, membership_id: UUID,
    entries: Sequence[SealedEntry],
) -> FamilySummary | None:
    """Mark the invitation accepted, add the membership and audit both (one statement,
    after :func:`lock_for_acceptance`); ``None`` if it was accepted meanwhile or the
    caller became a member meanwhile (the caller rolls back)."""
    audit, audit_params = append_ctes(entries)
    row = ex.fetch_one(
        f"""WITH accepted AS (
                UPDATE invitations SET accepted_at = now(), accepted_by = :user_id
                WHERE id = :invitation_id AND accepted_at IS NULL
                RETURNING family_id, role),
            change AS (
                INSERT INTO memberships (id, family_id, user_id, role)
                SELECT :membership_id, a.family_id, :user_id, a.role FROM accepted a
                ON CONFLICT (family_id, user_id) DO NOTHING
                RETURNING family_id, role),
            {audit}
            SELECT c.family_id, c.role, f.name
            FROM change c JOIN families f ON f.id = c.family_id""",  # noqa: S608
        {"invitation_id": acceptance.invitation.id, "user_id": acceptance.user_id,
         "membership_id": membership_id, **audit_params},
    )
    if row is None:
        return None
    return FamilySummary(id=row["family_id"], name=row["name"], role=Role(row["role"]))
