"""Invitations: owners invite by email; the invitee accepts with the secret token.

The token travels only in request and response bodies, never in a URL: paths and query
strings end up in API Gateway, CloudFront and WAF logs, bodies do not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from service.api.schemas import (
    FamilyMembershipOut,
    InvitationCreatedOut,
    InvitationIn,
    InvitationList,
    InvitationOut,
)
from service.domain.models import Invitation, Role
from service.http import current_database, current_principal, endpoint
from service.use_cases import invitations as uc

bp = Blueprint("invitations", __name__, url_prefix="/v1")


def _fields(inv: Invitation) -> dict[str, object]:
    if inv.accepted_at is not None:
        status = "accepted"
    elif inv.expires_at <= datetime.now(UTC):
        status = "expired"
    else:
        status = "pending"
    return {"id": inv.id, "email": inv.email, "role": inv.role.value, "status": status,
            "expires_at": inv.expires_at, "accepted_at": inv.accepted_at,
            "created_at": inv.created_at}


@endpoint(bp, "GET", "/families/<fid>/invitations", response=InvitationList,
          summary="List invitations", tags=["members"],
          responses={403: "Only owners see invitations", 404: "Not a member"})
def list_invitations(*, fid: UUID) -> InvitationList:
    """The family's invitations, newest first (owners only)."""
    found = uc.list_invitations(current_database(), current_principal(), fid)
    return InvitationList(items=[InvitationOut.model_validate(_fields(i)) for i in found])


@endpoint(bp, "POST", "/families/<fid>/invitations", body=InvitationIn,
          response=InvitationCreatedOut, status=201, summary="Invite a member",
          tags=["members"], responses={403: "Only owners invite", 404: "Not a member"})
def create_invitation(*, fid: UUID, body: InvitationIn) -> InvitationCreatedOut:
    """Invite an email address with a role. The token is returned ONCE; only its hash is
    stored. It expires after 7 days."""
    issued = uc.invite(current_database(), current_principal(), fid, email=body.email,
                       role=Role(body.role))
    return InvitationCreatedOut.model_validate({**_fields(issued.invitation),
                                                "token": issued.token})


class InvitationAcceptIn(BaseModel):
    """The invitation token received from the family owner (never put it in a URL)."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=100, description="The invitation token.")


@endpoint(bp, "POST", "/invitations/accept", body=InvitationAcceptIn,
          response=FamilyMembershipOut, summary="Accept an invitation", tags=["members"],
          responses={403: "Invitation sent to another email", 404: "Unknown token",
                     409: "Already accepted, expired, or already a member"})
def accept_invitation(*, body: InvitationAcceptIn) -> FamilyMembershipOut:
    """Join the family; the caller's verified email must match the invited one."""
    joined = uc.accept_invitation(current_database(), current_principal(), body.token)
    return FamilyMembershipOut(id=joined.id, name=joined.name, role=joined.role.value)
