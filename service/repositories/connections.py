"""Open Banking connections (consents) with sealed tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from service.crypto import SealedValue
from service.db.port import Executor, Row
from service.domain.models import Connection, ConnectionStatus, Membership
from service.repositories.scope import IS_MEMBER, scope_params

_COLUMNS = "id, family_id, provider, status, consent_expires_at, created_at"


@dataclass(frozen=True, slots=True)
class SealedTokens:
    """The stored ciphertexts of a connection's tokens."""

    access_token: SealedValue | None = field(repr=False)
    refresh_token: SealedValue | None = field(repr=False)


def _connection(row: Row) -> Connection:
    return Connection(id=row["id"], family_id=row["family_id"], provider=row["provider"],
                      status=ConnectionStatus(row["status"]),
                      consent_expires_at=row["consent_expires_at"],
                      created_at=row["created_at"])


def _sealed(ciphertext: bytes | None, nonce: bytes | None) -> SealedValue | None:
    if ciphertext is None or nonce is None:
        return None
    return SealedValue(ciphertext=bytes(ciphertext), nonce=bytes(nonce))


def create_connection(
    ex: Executor, scope: Membership, *, connection_id: UUID, provider: str,
    consent_expires_at: datetime | None, access_token: SealedValue,
    refresh_token: SealedValue | None,
) -> Connection | None:
    """Insert a connection in the caller's family (owners and adults only), else ``None``."""
    row = ex.fetch_one(
        f"""INSERT INTO connections (id, family_id, provider, status, consent_expires_at,
                access_token_ciphertext, access_token_nonce,
                refresh_token_ciphertext, refresh_token_nonce, created_by)
            SELECT :connection_id, :scope_family_id, :provider, 'active', :expires_at,
                   :at_ct, :at_nonce, :rt_ct, :rt_nonce, :scope_user_id
            WHERE EXISTS (SELECT 1 FROM memberships sm JOIN families sf ON sf.id = sm.family_id
                          WHERE sm.family_id = :scope_family_id
                            AND sm.user_id = :scope_user_id
                            AND sm.role IN ('owner', 'adult') AND sf.deleted_at IS NULL)
            RETURNING {_COLUMNS}""",  # noqa: S608
        {**scope_params(scope), "connection_id": connection_id, "provider": provider,
         "expires_at": consent_expires_at,
         "at_ct": access_token.ciphertext, "at_nonce": access_token.nonce,
         "rt_ct": None if refresh_token is None else refresh_token.ciphertext,
         "rt_nonce": None if refresh_token is None else refresh_token.nonce},
    )
    return None if row is None else _connection(row)


def list_connections(ex: Executor, scope: Membership) -> list[Connection]:
    """The family's connections (metadata only)."""
    rows = ex.fetch_all(
        f"""SELECT {_COLUMNS} FROM connections
            WHERE family_id = :scope_family_id AND {IS_MEMBER}
            ORDER BY created_at, id""",  # noqa: S608
        scope_params(scope),
    )
    return [_connection(r) for r in rows]


def get_sealed_tokens(ex: Executor, scope: Membership, connection_id: UUID) -> SealedTokens | None:
    """The ciphertexts of one connection of the caller's family, or ``None``."""
    row = ex.fetch_one(
        f"""SELECT access_token_ciphertext, access_token_nonce,
                   refresh_token_ciphertext, refresh_token_nonce
            FROM connections
            WHERE id = :connection_id AND family_id = :scope_family_id AND {IS_MEMBER}""",  # noqa: S608
        {**scope_params(scope), "connection_id": connection_id},
    )
    if row is None:
        return None
    return SealedTokens(
        access_token=_sealed(row["access_token_ciphertext"], row["access_token_nonce"]),
        refresh_token=_sealed(row["refresh_token_ciphertext"], row["refresh_token_nonce"]),
    )


def revoke_connection(ex: Executor, scope: Membership, connection_id: UUID) -> bool:
    """Mark revoked and wipe the token ciphertexts (owners and adults). ``True`` if changed."""
    return ex.execute(
        """UPDATE connections SET status = 'revoked',
               access_token_ciphertext = NULL, access_token_nonce = NULL,
               refresh_token_ciphertext = NULL, refresh_token_nonce = NULL
           WHERE id = :connection_id AND family_id = :scope_family_id
             AND EXISTS (SELECT 1 FROM memberships sm
                         WHERE sm.family_id = :scope_family_id
                           AND sm.user_id = :scope_user_id
                           AND sm.role IN ('owner', 'adult'))""",
        {**scope_params(scope), "connection_id": connection_id},
    ) == 1
