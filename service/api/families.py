"""``/v1/families``: create, read, delete (crypto-shredding)."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint

from service.api._deps import audit_signer, keyring
from service.api.schemas import CreateFamilyIn, FamilyOut
from service.domain.models import Role
from service.http import current_database, current_principal, endpoint
from service.use_cases import families as uc

bp = Blueprint("families", __name__, url_prefix="/v1")


@endpoint(bp, "POST", "/families", body=CreateFamilyIn, response=FamilyOut, status=201,
          summary="Create a family", tags=["families"])
def create_family(*, body: CreateFamilyIn) -> dict[str, object]:
    """Create a family; the caller becomes its owner. Its data key is created on first use."""
    family = uc.create_family(current_database(), audit_signer(), current_principal(),
                              name=body.name)
    return {"id": family.id, "name": family.name, "created_at": family.created_at,
            "role": Role.OWNER}


@endpoint(bp, "GET", "/families/<fid>", response=FamilyOut, summary="Get a family",
          tags=["families"], responses={404: "Not a member (or no such family)"})
def get_family(*, fid: UUID) -> dict[str, object]:
    """A family the caller belongs to."""
    family, role = uc.get_family(current_database(), current_principal(), fid)
    return {"id": family.id, "name": family.name, "created_at": family.created_at,
            "role": role}


@endpoint(bp, "DELETE", "/families/<fid>", status=204, summary="Delete a family",
          tags=["families"], responses={403: "Only owners may delete", 404: "Not a member"})
def delete_family(*, fid: UUID) -> None:
    """Delete the family (owners only): its members, accounts, transactions, consents and
    invitations are deleted and audited, then its data key is destroyed (crypto-shredding)."""
    uc.delete_family(current_database(), audit_signer(), keyring(), current_principal(), fid)
