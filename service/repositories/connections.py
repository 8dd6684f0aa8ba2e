"""Open Banking connections, their single-use consent states, and the sync's view of them.

A connection is created by the service (``pending``) together with the digest of the consent
``state`` that will bring the user back, in one statement with its audit entry; the callback
claims that state once (:func:`claim_state`) and completes the connection. The provider's
connection id is stored only sealed (AES-256-GCM under the family data key), next to its
:func:`provider_digest`, by which a provider webhook finds the connection
(:func:`lock_by_provider_digest`); both are destroyed together.

Visibility: ``family`` connections are listed to owners and adults; ``private`` ones only to
the member who made them. Children never see or make connections.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from service.audit.chain import SealedEntry
from service.crypto import SealedValue
from service.db.port import Executor, Row
from service.domain.models import Connection, ConnectionStatus, Membership, Visibility
from service.domain.principal import Principal
from service.repositories.audit import append_ctes
from service.repositories.scope import SCOPE, SCOPE_COLUMNS, family_params, scope_of

_COLUMNS = """id, family_id, provider, status, consent_expires_at, created_at, visibility,
              created_by, last_synced_at, next_unattended_sync_at, status_reason"""
_C_COLUMNS = """c.id, c.family_id, c.provider, c.status, c.consent_expires_at, c.created_at,
                c.visibility, c.created_by, c.last_synced_at, c.next_unattended_sync_at,
                c.status_reason"""

#: The caller (``scope s``) may see connection ``c``: owners/adults see the family's
#: family-visible ones, everyone their own (children have none).
CONNECTION_VISIBLE = """(c.created_by = s.user_id
       OR (s.role IN ('owner', 'adult') AND c.visibility = 'family'))"""


def provider_digest(provider: str, provider_connection_id: str) -> str:
    """SHA-256 (hex) of ``provider:provider_connection_id``: the webhook lookup key.

    Provider connection ids are random (TrueLayer's are UUIDs), so the digest reveals nothing
    and needs no key; the provider name keeps two providers' ids apart.
    """
    return hashlib.sha256(f"{provider}:{provider_connection_id}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SealedRef:
    """A connection with its sealed provider connection id."""

    connection: Connection
    provider_ref: SealedValue | None = field(repr=False)
    replaces_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class ClaimedState:
    """A consent state claimed by the callback, with the connection it completes."""

    family_id: UUID
    user_id: UUID
    purpose: str
    sealed: SealedRef


def connection_of(row: Row) -> Connection:
    """The connection in a row of the connection columns."""
    return Connection(
        id=row["id"], family_id=row["family_id"], provider=row["provider"],
        status=ConnectionStatus(row["status"]), consent_expires_at=row["consent_expires_at"],
        created_at=row["created_at"], visibility=Visibility(row["visibility"]),
        created_by=row["created_by"], last_synced_at=row["last_synced_at"],
        next_unattended_sync_at=row["next_unattended_sync_at"],
        status_reason=row["status_reason"],
    )


def _sealed(row: Row) -> SealedRef:
    ct, nonce = row.get("provider_ref_ciphertext"), row.get("provider_ref_nonce")
    ref = None if ct is None or nonce is None else SealedValue(bytes(ct), bytes(nonce))
    return SealedRef(connection=connection_of(row), provider_ref=ref,
                     replaces_id=row.get("replaces_id"))


def create_pending(
    ex: Executor, principal: Principal, scope: Membership, *, connection_id: UUID,
    provider: str, visibility: Visibility, provider_ref: SealedValue, provider_ref_digest: str,
    state_digest: str, state_expires_at: datetime, purpose: str, replaces_id: UUID | None,
    entries: Sequence[SealedEntry],
) -> Connection | None:
    """Insert a pending connection, its consent state and audit entries in one statement.

    Owners and adults only (``None`` otherwise). A reconfirmation (``replaces_id``) must
    replace a connection of the same family the caller may see.
    """
    audit, audit_params = append_ctes(entries)
    row = ex.fetch_one(
        f"""WITH {SCOPE},
            allowed AS (
                SELECT s.family_id, s.user_id FROM scope s
                WHERE s.role IN ('owner', 'adult')
                  AND (CAST(:replaces_id AS uuid) IS NULL OR EXISTS (
                      SELECT 1 FROM connections c
                      WHERE c.id = CAST(:replaces_id AS uuid) AND c.family_id = s.family_id
                        AND c.status <> 'revoked' AND {CONNECTION_VISIBLE}))),
            change AS (
                INSERT INTO connections (id, family_id, provider, status, visibility,
                    provider_ref_ciphertext, provider_ref_nonce, provider_digest, replaces_id,
                    created_by)
                SELECT :connection_id, a.family_id, :provider, 'pending', :visibility,
                       :ref_ct, :ref_nonce, :provider_digest, CAST(:replaces_id AS uuid),
                       a.user_id
                FROM allowed a
                RETURNING {_COLUMNS}),
            state AS (
                INSERT INTO consent_states (digest, family_id, user_id, connection_id, purpose,
                                            expires_at)
                SELECT :digest, c.family_id, c.created_by, c.id, :purpose, :state_expires_at
                FROM change c),
            {audit}
            SELECT * FROM change""",  # noqa: S608
        {**family_params(principal, scope.family_id), "connection_id": connection_id,
         "provider": provider, "visibility": visibility.value,
         "ref_ct": provider_ref.ciphertext, "ref_nonce": provider_ref.nonce,
         "provider_digest": provider_ref_digest, "replaces_id": replaces_id,
         "digest": state_digest, "purpose": purpose,
         "state_expires_at": state_expires_at, **audit_params},
    )
    return None if row is None else connection_of(row)


def claim_state(ex: Executor, digest: str, now: datetime) -> ClaimedState | None:
    """Mark an unused, unexpired state used and return it with its pending connection.

    Run inside the callback's transaction: the row lock makes a concurrent replay wait and
    then find the state used; if the completion fails the transaction rolls back and the
    state is as it was.
    """
    row = ex.fetch_one(
        f"""WITH claimed AS (
                UPDATE consent_states SET used_at = :now
                WHERE digest = :digest AND used_at IS NULL AND expires_at > :now
                RETURNING family_id, user_id, connection_id, purpose)
            SELECT cl.family_id AS state_family, cl.user_id AS state_user, cl.purpose,
                   {_C_COLUMNS}, c.provider_ref_ciphertext, c.provider_ref_nonce,
                   c.replaces_id
            FROM claimed cl
            JOIN connections c ON c.id = cl.connection_id AND c.status = 'pending'
            JOIN families f ON f.id = c.family_id AND f.deleted_at IS NULL""",  # noqa: S608
        {"digest": digest, "now": now},
    )
    if row is None:
        return None
    return ClaimedState(family_id=row["state_family"], user_id=row["state_user"],
                        purpose=row["purpose"], sealed=_sealed(row))


def complete(
    ex: Executor, *, connection_id: UUID, family_id: UUID, consent_expires_at: datetime,
    completed_at: datetime, entries: Sequence[SealedEntry],
) -> Connection | None:
    """Activate a pending connection; a reconfirmation also retires the one it replaces
    (revoked, sealed id destroyed). One statement with its audit entries."""
    audit, audit_params = append_ctes(entries)
    row = ex.fetch_one(
        f"""WITH change AS (
                UPDATE connections SET status = 'active', consent_expires_at = :expires_at,
                    completed_at = :completed_at, status_reason = NULL
                WHERE id = :connection_id AND family_id = :family_id AND status = 'pending'
                RETURNING {_COLUMNS}, replaces_id),
            retired AS (
                UPDATE connections o SET status = 'revoked', provider_ref_ciphertext = NULL,
                    provider_ref_nonce = NULL, provider_digest = NULL,
                    status_reason = 'replaced by a reconfirmation'
                FROM change c WHERE o.id = c.replaces_id AND o.family_id = c.family_id),
            {audit}
            SELECT * FROM change""",  # noqa: S608
        {"connection_id": connection_id, "family_id": family_id,
         "expires_at": consent_expires_at, "completed_at": completed_at, **audit_params},
    )
    return None if row is None else connection_of(row)


def list_connections(
    ex: Executor, principal: Principal, family_id: UUID
) -> tuple[Membership | None, list[Connection]]:
    """The caller's scope (``None``: not a member) and the connections they may see."""
    rows = ex.fetch_all(
        f"""WITH {SCOPE}
            SELECT {SCOPE_COLUMNS}, {_C_COLUMNS}
            FROM scope s LEFT JOIN connections c
                 ON c.family_id = s.family_id AND {CONNECTION_VISIBLE}
            ORDER BY c.created_at, c.id""",  # noqa: S608
        family_params(principal, family_id),
    )
    if not rows:
        return None, []
    return scope_of(rows[0]), [connection_of(r) for r in rows if r["id"] is not None]


def get_visible(
    ex: Executor, principal: Principal, family_id: UUID, connection_id: UUID
) -> tuple[Membership | None, SealedRef | None]:
    """The caller's scope and one connection they may see (with its sealed id)."""
    rows = ex.fetch_all(
        f"""WITH {SCOPE}
            SELECT {SCOPE_COLUMNS}, {_C_COLUMNS}, c.provider_ref_ciphertext,
                   c.provider_ref_nonce, c.replaces_id
            FROM scope s LEFT JOIN connections c
                 ON c.family_id = s.family_id AND c.id = :connection_id
                 AND {CONNECTION_VISIBLE}""",  # noqa: S608
        {**family_params(principal, family_id), "connection_id": connection_id},
    )
    if not rows:
        return None, None
    row = rows[0]
    return scope_of(row), None if row["id"] is None else _sealed(row)


def revoke(
    ex: Executor, principal: Principal, scope: Membership, connection_id: UUID, *,
    delete_data: bool, entries: Sequence[SealedEntry],
) -> bool:
    """Mark revoked and destroy the sealed provider id (owners and adults who may see it);
    with ``delete_data`` also delete its accounts (their balances and transactions cascade).
    One statement with its audit entries; ``True`` if the connection was found."""
    audit, audit_params = append_ctes(entries)
    row = ex.fetch_one(
        f"""WITH {SCOPE},
            change AS (
                UPDATE connections c SET status = 'revoked',
                    provider_ref_ciphertext = NULL, provider_ref_nonce = NULL,
                    provider_digest = NULL,
                    access_token_ciphertext = NULL, access_token_nonce = NULL,
                    refresh_token_ciphertext = NULL, refresh_token_nonce = NULL,
                    status_reason = 'deleted by a member'
                FROM scope s
                WHERE c.id = :connection_id AND c.family_id = s.family_id
                  AND s.role IN ('owner', 'adult') AND {CONNECTION_VISIBLE}
                RETURNING c.id),
            dropped AS (
                DELETE FROM accounts a USING change ch
                WHERE :delete_data AND a.connection_id = ch.id
                  AND a.family_id = :scope_family_id),
            {audit}
            SELECT count(*) AS n FROM change""",  # noqa: S608
        {**family_params(principal, scope.family_id), "connection_id": connection_id,
         "delete_data": delete_data, **audit_params},
    )
    return row is not None and int(row["n"]) == 1


# -- the sync's (trusted) view ---------------------------------------------------------------

def sync_view(ex: Executor, connection_id: UUID) -> SealedRef | None:
    """A connection of a live family with its sealed id (worker path; no caller scope)."""
    row = ex.fetch_one(
        f"""SELECT {_C_COLUMNS}, c.provider_ref_ciphertext, c.provider_ref_nonce, c.replaces_id
            FROM connections c JOIN families f ON f.id = c.family_id AND f.deleted_at IS NULL
            WHERE c.id = :connection_id""",  # noqa: S608
        {"connection_id": connection_id},
    )
    return None if row is None else _sealed(row)


def active_connection_ids(ex: Executor) -> list[UUID]:
    """Every active connection of a live family (the daily schedule's manifest)."""
    rows = ex.fetch_all(
        """SELECT c.id FROM connections c
           JOIN families f ON f.id = c.family_id AND f.deleted_at IS NULL
           WHERE c.status = 'active' ORDER BY c.id"""
    )
    return [r["id"] for r in rows]


# -- provider webhooks (trusted; found by digest, no caller scope) ----------------------------

@dataclass(frozen=True, slots=True)
class ProviderMatch:
    """The connection a provider event names: ids and status only."""

    id: UUID
    family_id: UUID
    status: ConnectionStatus


def lock_by_provider_digest(
    ex: Executor, digest: str, *, lock: bool = True
) -> ProviderMatch | None:
    """The connection of a live family holding ``digest``, locked for the event's change
    (``lock=False``: only read, e.g. to learn which family's audit head to lock first)."""
    row = ex.fetch_one(
        f"""SELECT c.id, c.family_id, c.status FROM connections c
            JOIN families f ON f.id = c.family_id AND f.deleted_at IS NULL
            WHERE c.provider_digest = :digest {"FOR UPDATE OF c" if lock else ""}""",  # noqa: S608
        {"digest": digest},
    )
    if row is None:
        return None
    return ProviderMatch(id=row["id"], family_id=row["family_id"],
                         status=ConnectionStatus(row["status"]))


def mark_consent_ended(
    ex: Executor, match: ProviderMatch, *, status: ConnectionStatus, reason: str,
    entries: Sequence[SealedEntry],
) -> bool:
    """Set ``expired`` / ``revoked`` (with ``reason``) as the provider reported, with its
    audit entries, in one statement; ``False`` if the connection changed meanwhile.

    The sealed id stays (the member may still delete the connection, which revokes it at
    the provider and destroys the id); nothing else is touched.
    """
    if status not in (ConnectionStatus.EXPIRED, ConnectionStatus.REVOKED):
        raise ValueError("a provider event only ends a consent")
    audit, audit_params = append_ctes(entries)
    row = ex.fetch_one(
        f"""WITH change AS (
                UPDATE connections SET status = :status, status_reason = :reason
                WHERE id = :id AND family_id = :family_id AND status = :was
                RETURNING id),
            {audit}
            SELECT count(*) AS n FROM change""",  # noqa: S608
        {"id": match.id, "family_id": match.family_id, "status": status.value,
         "was": match.status.value, "reason": reason[:500], **audit_params},
    )
    return row is not None and int(row["n"]) == 1


def delete_expired_states(ex: Executor, now: datetime) -> int:
    """Remove consent states past their expiry (used or not)."""
    return ex.execute("DELETE FROM consent_states WHERE expires_at <= :now", {"now": now})
