"""Inviting people into a family and accepting invitations."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from service.audit import AuditSigner, record_read
from service.auth.emails import normalize_email
from service.db.port import Database
from service.domain.errors import ConflictError, NotFoundError, PermissionDeniedError
from service.domain.models import FamilySummary, Invitation, Role
from service.domain.principal import Principal
from service.repositories import families, invitations
from service.use_cases._common import event, found, require_role

INVITATION_TTL = timedelta(days=7)
INVITATION_NOT_FOUND = "Invitation not found."
ALREADY_MEMBER = "You are already a member of this family."
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
    db: Database, signer: AuditSigner, principal: Principal, family_id: UUID, *, email: str,
    role: Role, now: datetime | None = None,
) -> IssuedInvitation:
    """Invite ``email`` as ``role`` (owners only). The token is shown only in this answer.

    The write pattern of :mod:`service.use_cases._common`: the lock statement, then the
    invitation with its audit entry (four Data API calls).
    """
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    expires_at = (now or datetime.now(UTC)) + INVITATION_TTL
    invitation_id = uuid.uuid4()
    with db.transaction() as tx:
        scope, head = found(families.lock_scope(tx, principal, family_id))
        require_role(scope, Role.OWNER, to="invite members")
        created = invitations.create_invitation(
            tx, principal, scope, invitation_id=invitation_id, email=email, role=role,
            token_hash=token_hash(token), expires_at=expires_at,
            entries=signer.seal(head, [event(scope.user_id, "invitation.create",
                                             ("invitation", invitation_id))]),
        )
        if created is None:  # the SQL scope disagreed with the role check: refuse
            raise PermissionDeniedError("Your role in this family may not invite members.")
        return IssuedInvitation(invitation=created, token=token)


def list_invitations(db: Database, principal: Principal, family_id: UUID) -> list[Invitation]:
    """The family's invitations (owners only). One statement."""
    scope, result = invitations.list_invitations(db, principal, family_id)
    scope = found(scope)
    require_role(scope, Role.OWNER, to="see invitations")
    record_read(family_id=family_id, user_id=scope.user_id, action="invitations.list",
                target=("family", family_id))
    return result


def accept_invitation(
    db: Database, signer: AuditSigner, principal: Principal, token: str, *,
    now: datetime | None = None,
) -> FamilySummary:
    """Join the family of the invitation ``token``.

    The accepting principal's (verified) email must match the invited email in their one
    normal form (:func:`service.auth.emails.normalize_email`). Unknown tokens answer 404;
    used or expired ones 409. Four Data API calls: the lock statement (which also creates
    a first-time caller's user row), then the acceptance, membership and both audit
    entries in one statement.
    """
    if not _TOKEN_SHAPE.fullmatch(token):
        raise NotFoundError(INVITATION_NOT_FOUND)
    membership_id = uuid.uuid4()
    with db.transaction() as tx:
        locked = invitations.lock_for_acceptance(tx, principal, token_hash(token))
        if locked is None:
            raise NotFoundError(INVITATION_NOT_FOUND)
        invitation = locked.invitation
        if normalize_email(invitation.email) != normalize_email(principal.email):
            raise PermissionDeniedError("This invitation was sent to a different email address.")
        if invitation.accepted_at is not None:
            raise ConflictError("This invitation has already been accepted.")
        if invitation.expires_at <= (now or datetime.now(UTC)):
            raise ConflictError("This invitation has expired; ask for a new one.")
        if locked.already_member:
            raise ConflictError(ALREADY_MEMBER)
        entries = signer.seal(locked.head, [
            event(locked.user_id, "invitation.accept", ("invitation", invitation.id)),
            event(locked.user_id, "member.join", ("membership", membership_id)),
        ])
        joined = invitations.accept(tx, locked, membership_id=membership_id, entries=entries)
        if joined is None:  # joined through another invitation meanwhile: roll back
            raise ConflictError(ALREADY_MEMBER)
        return joined
