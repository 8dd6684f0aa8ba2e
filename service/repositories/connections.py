"""Open Banking connections (consents) with sealed tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from service.audit.chain import SealedEntry
from service.crypto import SealedValue
from service.db.port import Executor, Row
from service.domain.models import Connection, ConnectionStatus, Membership
from service.domain.principal import Principal
from service.repositories.audit import append_ctes
from service.repositories.scope import SCOPE, SCOPE_COLUMNS, family_params, scope_of

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


#: The caller is an owner or adult of the family (``scope`` CTE).
_MAY_CONNECT = "EXISTS (SELECT 1 FROM scope WHERE role IN ('owner', 'adult'))"


def create_connection(
    ex: Executor, principal: Principal, scope: Membership, *, connection_id: UUID,
    provider: str, consent_expires_at: datetime | None, access_token: SealedValue,
    refresh_token: SealedValue | None, entries: Sequence[SealedEntry],
) -> Connection | None:
    """Insert a connection in the caller's family (owners and adults only) and audit it,
    in one statement; ``None`` if the scope does not allow it."""
    audit, audit_params = append_ctes(entries)
    row = ex.fetch_one(
        f"""WITH {SCOPE},
            change AS (
                INSERT INTO connections (id, family_id, provider, status, consent_expires_at,
                    access_token_ciphertext, access_token_nonce,
                    refresh_token_ciphertext, refresh_token_nonce, created_by)
                SELECT :connection_id, s.family_id, :provider, 'active', :expires_at,
                       :at_ct, :at_nonce, :rt_ct, :rt_nonce, s.user_id
                FROM scope s WHERE s.role IN ('owner', 'adult')
                RETURNING {_COLUMNS}),
            {audit}
            SELECT * FROM change""",  # noqa: S608
        {**family_params(principal, scope.family_id), "connection_id": connection_id,
         "provider": provider, "expires_at": consent_expires_at,
         "at_ct": access_token.ciphertext, "at_nonce": access_token.nonce,
         "rt_ct": None if refresh_token is None else refresh_token.ciphertext,
         "rt_nonce": None if refresh_token is None else refresh_token.nonce, **audit_params},
    )
    return None if row is None else _connection(row)


def list_connections(
    ex: Executor, principal: Principal, family_id: UUID
) -> tuple[Membership | None, list[Connection]]:
    """The caller's scope (``None``: not a member) and the family's connections (metadata)."""
    rows = ex.fetch_all(
        f"""WITH {SCOPE}
            SELECT {SCOPE_COLUMNS}, c.id, c.family_id, c.provider, c.status,
                   c.consent_expires_at, c.created_at
            FROM scope s LEFT JOIN connections c ON c.family_id = s.family_id
            ORDER BY c.created_at, c.id""",  # noqa: S608
        family_params(principal, family_id),
    )
    if not rows:
        return None, []
    return scope_of(rows[0]), [_connection(r) for r in rows if r["id"] is not None]


def get_sealed_tokens(ex: Executor, scope: Membership, connection_id: UUID) -> SealedTokens | None:
    """The ciphertexts of one connection of ``scope``'s family (trusted sync path)."""
    row = ex.fetch_one(
        """SELECT c.access_token_ciphertext, c.access_token_nonce,
                  c.refresh_token_ciphertext, c.refresh_token_nonce
           FROM connections c
           JOIN memberships m ON m.family_id = c.family_id AND m.id = :membership_id
           WHERE c.id = :connection_id AND c.family_id = :family_id""",
        {"membership_id": scope.id, "family_id": scope.family_id,
         "connection_id": connection_id},
    )
    if row is None:
        return None
    return SealedTokens(
        access_token=_sealed(row["access_token_ciphertext"], row["access_token_nonce"]),
        refresh_token=_sealed(row["refresh_token_ciphertext"], row["refresh_token_nonce"]),
    )


def revoke_connection(
    ex: Executor, principal: Principal, scope: Membership, connection_id: UUID,
    entries: Sequence[SealedEntry],
) -> bool:
    """Mark revoked, wipe the token ciphertexts (owners and adults) and audit it, in one
    statement. ``True`` if the connection was found in the caller's family."""
    audit, audit_params = append_ctes(entries)
    row = ex.fetch_one(
        f"""WITH {SCOPE},
            change AS (
                UPDATE connections SET status = 'revoked',
                    access_token_ciphertext = NULL, access_token_nonce = NULL,
                    refresh_token_ciphertext = NULL, refresh_token_nonce = NULL
                WHERE id = :connection_id AND family_id = :scope_family_id
                  AND {_MAY_CONNECT}
                RETURNING id),
            {audit}
            SELECT count(*) AS n FROM change""",  # noqa: S608
        {**family_params(principal, scope.family_id), "connection_id": connection_id,
         **audit_params},
    )
    return row is not None and int(row["n"]) == 1
