"""Family members: list (any member), change role and remove (owners; anyone may leave)."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint

from service.api.schemas import MemberList, MemberOut, MemberPatch
from service.domain.models import Member, Role
from service.http import current_database, current_principal, endpoint
from service.use_cases import members as uc

bp = Blueprint("members", __name__, url_prefix="/v1")


def _out(member: Member) -> MemberOut:
    return MemberOut(id=member.id, user_id=member.user_id, email=member.email,
                     display_name=member.display_name, role=member.role.value,
                     joined_at=member.joined_at)


@endpoint(bp, "GET", "/families/<fid>/members", response=MemberList, summary="List members",
          tags=["members"], responses={404: "Not a member"})
def list_members(*, fid: UUID) -> MemberList:
    """Members of the family."""
    return MemberList(items=[_out(m) for m in uc.list_members(current_database(),
                                                                 current_principal(), fid)])


@endpoint(bp, "PATCH", "/families/<fid>/members/<mid>", body=MemberPatch, response=MemberOut,
          summary="Change a member's role", tags=["members"],
          responses={403: "Only owners change roles", 404: "No such member",
                     409: "Would leave the family without an owner"})
def change_member_role(*, fid: UUID, mid: UUID, body: MemberPatch) -> MemberOut:
    """Change a member's role (owners only); the last owner cannot be demoted."""
    return _out(uc.change_role(current_database(), current_principal(), fid, mid,
                               role=Role(body.role)))


@endpoint(bp, "DELETE", "/families/<fid>/members/<mid>", status=204, summary="Remove a member",
          tags=["members"],
          responses={403: "Only owners remove others", 404: "No such member",
                     409: "Would leave the family without an owner"})
def remove_member(*, fid: UUID, mid: UUID) -> None:
    """Remove a member (owners) or leave the family (your own membership). Accounts held by
    the member leave with them. The last owner cannot be removed."""
    uc.remove_member(current_database(), current_principal(), fid, mid)
