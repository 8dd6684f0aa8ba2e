"""Invitations: only the SHA-256 of the random token is stored."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from service.db.port import Executor, Row
from service.domain.models import Invitation, Membership, Role
from service.repositories.scope import IS_OWNER, scope_params

_COLUMNS = "id, family_id, email, role, expires_at, accepted_at, created_at"


def _invitation(row: Row) -> Invitation:
    return Invitation(id=row["id"], family_id=row["family_id"], email=row["email"],
                      role=Role(row["role"]), expires_at=row["expires_at"],
                      accepted_at=row["accepted_at"], created_at=row["created_at"])


def create_invitation(
    ex: Executor, scope: Membership, *, email: str, role: Role, token_hash: str,
    expires_at: datetime,
) -> Invitation | None:
    """Insert an invitation if the caller owns the family, else ``None``."""
    row = ex.fetch_one(
        f"""INSERT INTO invitations (family_id, email, role, token_hash, expires_at, created_by)
            SELECT :scope_family_id, :email, :role, :token_hash, :expires_at, :scope_user_id
            WHERE {IS_OWNER}
            RETURNING {_COLUMNS}""",
        {**scope_params(scope), "email": email, "role": role.value, "token_hash": token_hash,
         "expires_at": expires_at},
    )
    return None if row is None else _invitation(row)


def list_invitations(ex: Executor, scope: Membership) -> list[Invitation]:
    """The family's invitations, newest first (owner scope only)."""
    rows = ex.fetch_all(
        f"""SELECT {_COLUMNS} FROM invitations
            WHERE family_id = :scope_family_id AND {IS_OWNER}
            ORDER BY created_at DESC, id DESC""",  # noqa: S608
        scope_params(scope),
    )
    return [_invitation(r) for r in rows]


def find_open_by_token_hash(ex: Executor, token_hash: str) -> Invitation | None:
    """The invitation for a token hash, locked for acceptance; ``None`` if unknown.

    This is the one lookup without a caller scope: possession of the random token is
    the authorisation (the use case also checks the accepting principal's email).
    """
    row = ex.fetch_one(
        """SELECT i.id, i.family_id, i.email, i.role, i.expires_at, i.accepted_at,
                   i.created_at
            FROM invitations i JOIN families f ON f.id = i.family_id
            WHERE i.token_hash = :token_hash AND f.deleted_at IS NULL
            FOR UPDATE OF i""",
        {"token_hash": token_hash},
    )
    return None if row is None else _invitation(row)


def mark_accepted(ex: Executor, invitation_id: UUID, user_id: UUID) -> bool:
    """Mark an open invitation accepted by ``user_id``; ``True`` if it was still open."""
    return ex.execute(
        """UPDATE invitations SET accepted_at = now(), accepted_by = :user_id
           WHERE id = :id AND accepted_at IS NULL""",
        {"id": invitation_id, "user_id": user_id},
    ) == 1
