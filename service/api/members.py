"""Family members: list (any member), change role and remove (owners; anyone may leave)."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint

from service.api._deps import audit_signer
from service.api.schemas import MemberList, MemberOut, MemberPatch
from service.domain.models import Member
from service.http import current_database, current_principal, endpoint
from service.use_cases import members as uc

bp = Blueprint("members", __name__, url_prefix="/v1")


@endpoint(bp, "GET", "/families/<fid>/members", response=MemberList, summary="List members",
          tags=["members"], responses={404: "Not a member"})
def list_members(*, fid: UUID) -> dict[str, object]:
    """Members of the family."""
    return {"items": uc.list_members(current_database(), current_principal(), fid)}


@endpoint(bp, "PATCH", "/families/<fid>/members/<mid>", body=MemberPatch, response=MemberOut,
          summary="Change a member's role", tags=["members"],
          responses={403: "Only owners change roles", 404: "No such member",
                     409: "Would leave the family without an owner"})
def change_member_role(*, fid: UUID, mid: UUID, body: MemberPatch) -> Member:
    """Change a member's role (owners only); the last owner cannot be demoted."""
    return uc.change_role(current_database(), audit_signer(), current_principal(), fid, mid,
                          role=body.role)


@endpoint(bp, "DELETE", "/families/<fid>/members/<mid>", status=204, summary="Remove a member",
          tags=["members"],
          responses={403: "Only owners remove others", 404: "No such member",
                     409: "Would leave the family without an owner"})
def remove_member(*, fid: UUID, mid: UUID) -> None:
    """Remove a member (owners) or leave the family (your own membership). Accounts held by
    the member leave with them. The last owner cannot be removed."""
    uc.remove_member(current_database(), audit_signer(), current_principal(), fid, mid)
