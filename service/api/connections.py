"""Open Banking consents: recorded with envelope-encrypted tokens; never returned."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint

from service.api._deps import audit_signer, keyring
from service.api.schemas import ConnectionIn, ConnectionList, ConnectionOut
from service.domain.models import Connection
from service.http import current_database, current_principal, endpoint
from service.use_cases import connections as uc

bp = Blueprint("connections", __name__, url_prefix="/v1")


@endpoint(bp, "GET", "/families/<fid>/connections", response=ConnectionList,
          summary="List bank connections", tags=["connections"],
          responses={404: "Not a member"})
def list_connections(*, fid: UUID) -> dict[str, object]:
    """The family's consents (metadata only)."""
    return {"items": uc.list_connections(current_database(), current_principal(), fid)}


@endpoint(bp, "POST", "/families/<fid>/connections", body=ConnectionIn, response=ConnectionOut,
          status=201, summary="Record a bank consent", tags=["connections"],
          responses={403: "Children may not connect accounts", 404: "Not a member"})
def create_connection(*, fid: UUID, body: ConnectionIn) -> Connection:
    """Store the consent's tokens sealed with AES-256-GCM under the family data key
    (owners and adults)."""
    return uc.record_consent(
        current_database(), audit_signer(), keyring(), current_principal(), fid,
        provider=body.provider,
        tokens=uc.ConsentTokens(access_token=body.access_token,
                                refresh_token=body.refresh_token),
        consent_expires_at=body.consent_expires_at,
    )


@endpoint(bp, "DELETE", "/families/<fid>/connections/<cid>", status=204,
          summary="Revoke a bank consent", tags=["connections"],
          responses={403: "Children may not revoke", 404: "No such connection"})
def revoke_connection(*, fid: UUID, cid: UUID) -> None:
    """Revoke the consent and wipe its token ciphertexts (owners and adults)."""
    uc.revoke_consent(current_database(), audit_signer(), current_principal(), fid, cid)
