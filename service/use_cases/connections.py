"""Open Banking consents: recorded with envelope-encrypted tokens, listed, revoked."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from service.audit import AuditSigner, record_read
from service.crypto import FamilyKeyring, open_sealed, seal
from service.db.port import Database, Executor
from service.domain.errors import NotFoundError, PermissionDeniedError
from service.domain.models import Connection, Membership, Role
from service.domain.principal import Principal
from service.repositories import connections, families
from service.use_cases._common import event, found, require_role

CONNECTION_NOT_FOUND = "Connection not found."


@dataclass(frozen=True, slots=True)
class ConsentTokens:
    """Plaintext tokens of a consent (memory only; never logged or returned by the API)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)


def token_aad(family_id: UUID, connection_id: UUID, field_name: str) -> dict[str, str]:
    """Additional authenticated data binding a sealed token to its row and column."""
    return {"family": str(family_id), "connection": str(connection_id), "field": field_name}


def record_consent(
    db: Database, signer: AuditSigner, keyring: FamilyKeyring, principal: Principal,
    family_id: UUID, *, provider: str, tokens: ConsentTokens,
    consent_expires_at: datetime | None,
) -> Connection:
    """Store a new consent; tokens are sealed under the family data key (owners, adults).

    The family's data key is created here on its first use, while the transaction holds
    the family row ``FOR SHARE``: a deletion (``FOR UPDATE``) waits for this write and
    then destroys the key, or runs first and this write finds no family.
    """
    connection_id = uuid.uuid4()
    with db.transaction() as tx:
        scope, head = found(families.lock_scope(tx, principal, family_id))
        require_role(scope, Role.OWNER, Role.ADULT, to="connect bank accounts")
        data_key = keyring.sealing_key(family_id)
        access = seal(data_key, tokens.access_token,
                      token_aad(family_id, connection_id, "access_token"))
        refresh = None if tokens.refresh_token is None else seal(
            data_key, tokens.refresh_token, token_aad(family_id, connection_id, "refresh_token"))
        created = connections.create_connection(
            tx, principal, scope, connection_id=connection_id, provider=provider,
            consent_expires_at=consent_expires_at, access_token=access, refresh_token=refresh,
            entries=signer.seal(head, [event(scope.user_id, "connection.create",
                                             ("connection", connection_id))]),
        )
        if created is None:
            raise PermissionDeniedError("Your role in this family may not connect bank accounts.")
        return created


def list_connections(db: Database, principal: Principal, family_id: UUID) -> list[Connection]:
    """The family's consents (metadata only; never tokens). One statement."""
    scope, result = connections.list_connections(db, principal, family_id)
    scope = found(scope)
    record_read(family_id=family_id, user_id=scope.user_id, action="connections.list",
                target=("family", family_id))
    return result


def revoke_consent(
    db: Database, signer: AuditSigner, principal: Principal, family_id: UUID,
    connection_id: UUID,
) -> None:
    """Revoke a consent and wipe its token ciphertexts (owners, adults)."""
    with db.transaction() as tx:
        scope, head = found(families.lock_scope(tx, principal, family_id))
        require_role(scope, Role.OWNER, Role.ADULT, to="revoke bank connections")
        entries = signer.seal(head, [event(scope.user_id, "connection.revoke",
                                           ("connection", connection_id))])
        if not connections.revoke_connection(tx, principal, scope, connection_id, entries):
            raise NotFoundError(CONNECTION_NOT_FOUND)


def read_consent_tokens(
    tx: Executor, keyring: FamilyKeyring, scope: Membership, connection_id: UUID
) -> ConsentTokens:
    """Decrypt a connection's tokens for the provider sync (internal; no API exposes this).

    Raises
    ------
    NotFoundError
        The connection is not in the caller's family.
    KeyUnavailable
        The family's key was destroyed (crypto-shredded) or the ciphertext was moved.
    """
    sealed = connections.get_sealed_tokens(tx, scope, connection_id)
    if sealed is None or sealed.access_token is None:
        raise NotFoundError(CONNECTION_NOT_FOUND)
    data_key = keyring.opening_key(scope.family_id)
    fid = scope.family_id
    access = open_sealed(data_key, sealed.access_token,
                         token_aad(fid, connection_id, "access_token"))
    refresh = None if sealed.refresh_token is None else open_sealed(
        data_key, sealed.refresh_token, token_aad(fid, connection_id, "refresh_token"))
    return ConsentTokens(access_token=access, refresh_token=refresh)
