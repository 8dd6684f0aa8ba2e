"""Inviting people into a family and accepting invitations."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from service.auth.emails import normalize_email
from service.db.port import Database, IntegrityViolationError
from service.domain.errors import ConflictError, NotFoundError, PermissionDeniedError
from service.domain.models import FamilySummary, Invitation, Role
from service.domain.principal import Principal
from service.repositories import families, invitations
from service.use_cases._common import audit, caller, membership, require_role

INVITATION_TTL = timedelta(days=7)
INVITATION_NOT_FOUND = "Invitation not found."
_TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    """A new invitation and its token (returned once, to the owner who sends it)."""

    invitation: Invitation
    token: str


def token_hash(token: str) -> str:
    """What the database stores for an invitation token."""
    return hashlib.sha256(token.encode()).hexdigest()


def invite(
    db: Database, principal: Principal, family_id: UUID, *, email: str, role: Role,
    now: datetime | None = None,
) -> IssuedInvitation:
    """Invite ``email`` as ``role`` (owners only). The token is shown only in this answer."""
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    expires_at = (now or datetime.now(UTC)) + INVITATION_TTL
    with db.transaction() as tx:
        user = caller(tx, principal)
        scope = membership(tx, user, family_id)
        require_role(scope, Role.OWNER, to="invite members")
        created = invitations.create_invitation(
            tx, scope, email=email, role=role, token_hash=token_hash(token),
            expires_at=expires_at,
        )
        if created is None:  # the SQL scope disagreed with the role check: refuse
            raise PermissionDeniedError("Your role in this family may not invite members.")
        audit(tx, family_id, user, "invitation.create", ("invitation", created.id))
        return IssuedInvitation(invitation=created, token=token)


def list_invitations(db: Database, principal: Principal, family_id: UUID) -> list[Invitation]:
    """The family's invitations (owners only)."""
    with db.transaction() as tx:
        user = caller(tx, principal)
        scope = membership(tx, user, family_id)
        require_role(scope, Role.OWNER, to="see invitations")
        return invitations.list_invitations(tx, scope)


def accept_invitation(
    db: Database, principal: Principal, token: str, *, now: datetime | None = None
) -> FamilySummary:
    """Join the family of the invitation ``token``.

    The accepting principal's (verified) email must match the invited email in their one
    normal form (:func:`service.auth.emails.normalize_email`). Unknown tokens answer 404;
    used or expired ones 409.
    """
    if not _TOKEN_SHAPE.fullmatch(token):
        raise NotFoundError(INVITATION_NOT_FOUND)
    with db.transaction() as tx:
        user = caller(tx, principal)
        found = invitations.find_open_by_token_hash(tx, token_hash(token))
        if found is None:
            raise NotFoundError(INVITATION_NOT_FOUND)
        if normalize_email(found.email) != normalize_email(principal.email):
            raise PermissionDeniedError("This invitation was sent to a different email address.")
        if found.accepted_at is not None:
            raise ConflictError("This invitation has already been accepted.")
        if found.expires_at <= (now or datetime.now(UTC)):
            raise ConflictError("This invitation has expired; ask for a new one.")
        if families.find_membership(tx, user.id, found.family_id) is not None:
            raise ConflictError("You are already a member of this family.")
        try:
            joined = families.add_membership(tx, found.family_id, user.id, found.role)
        except IntegrityViolationError:
            raise ConflictError("You are already a member of this family.") from None
        if not invitations.mark_accepted(tx, found.id, user.id):
            raise ConflictError("This invitation has already been accepted.")
        audit(tx, found.family_id, user, "invitation.accept", ("invitation", found.id))
        audit(tx, found.family_id, user, "member.join", ("membership", joined.id))
        scope = membership(tx, user, found.family_id)
        family = families.get_family(tx, scope)
        assert family is not None
        return FamilySummary(id=family.id, name=family.name, role=joined.role)
