"""Open Banking connections: created by the service, completed by the bank's redirect, synced.

The client never sends or receives a provider credential. Starting a connection creates it at
the provider with a single-use ``state`` (:mod:`service.banking.consent_state`) and returns
the consent link; the callback (a public route) is authorised by that state alone, completes
the connection and starts its first sync. The provider's connection id is stored only sealed
under the family data key.

Order of work where a provider is called: the caller's scope and role are checked first (one
read), the provider call follows outside any transaction, and the write is one transaction
that re-checks the scope in SQL. A provider failure therefore changes nothing here.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from service.audit import AuditSigner, record_read
from service.banking.consent_state import issue_state, state_digest
from service.banking.errors import (
    ProviderError,
    ProviderRejectedError,
    RateLimitedError,
    ReauthRequiredError,
)
from service.banking.models import DateWindow, ProviderConnection
from service.banking.port import BankProvider, ProviderRegistry
from service.crypto import FamilyKeyring, KeyUnavailable, open_sealed, seal
from service.db.port import Database, Executor
from service.domain.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    UpstreamUnavailableError,
    ValidationFailedError,
)
from service.domain.models import Connection, ConnectionStatus, Membership, Role, Visibility
from service.domain.principal import Principal
from service.repositories import audit as audit_sql
from service.repositories import connections, families
from service.repositories.sync_runs import RunAlreadyActiveError
from service.use_cases._common import event, found, require_role
from service.workflows.bank_sync import bank_sync_input, default_window
from service.workflows.launcher import LaunchFailedError, SyncLauncher
from service.workflows.store import RunRecord, RunStore
from service.workflows.targets import provider_ref_aad

CONNECTION_NOT_FOUND = "Connection not found."
RUN_NOT_FOUND = "Sync run not found."
BAD_STATE = ("This bank consent link is invalid, has expired or was already used; start the "
             "connection again.")
RECONFIRMABLE = (ConnectionStatus.ACTIVE, ConnectionStatus.REAUTH_REQUIRED,
                 ConnectionStatus.EXPIRED)


@dataclass(frozen=True, slots=True)
class ConnectionStarted:
    """A pending connection and where to send the user to consent."""

    connection: Connection
    authorization_url: str


@dataclass(frozen=True, slots=True)
class ConnectionCompleted:
    """A completed connection and the run of its first sync (``None`` if it did not start)."""

    connection: Connection
    sync_run_id: str | None


@dataclass(frozen=True, slots=True)
class BankContext:
    """What the connection use cases need besides the database (built per request)."""

    signer: AuditSigner
    keyring: FamilyKeyring
    providers: ProviderRegistry
    launcher: Callable[[], SyncLauncher]  # built on first use (only the callback syncs)
    redirect_uri: str


def _provider(providers: ProviderRegistry, name: str) -> BankProvider:
    try:
        return providers[name]
    except KeyError:
        raise ValidationFailedError(
            f"Unknown provider {name!r}; this deployment supports: {', '.join(sorted(providers))}."
        ) from None


def _upstream(error: ProviderError) -> UpstreamUnavailableError:
    if isinstance(error, RateLimitedError) and error.retry_at is not None:
        return UpstreamUnavailableError(
            f"The bank asks us to wait until {error.retry_at.isoformat()}; try again then.")
    return UpstreamUnavailableError("The bank provider is unavailable; try again shortly.")


def _scope_for_connecting(db: Database, principal: Principal, family_id: UUID) -> Membership:
    scope, _ = connections.list_connections(db, principal, family_id)
    scope = found(scope)
    require_role(scope, Role.OWNER, Role.ADULT, to="connect bank accounts")
    return scope


def _create_pending(
    db: Database, ctx: BankContext, principal: Principal, family_id: UUID, *,
    provider: BankProvider, visibility: Visibility, user_ip: str | None, now: datetime,
    replaces: tuple[UUID, ProviderConnection] | None,
) -> ConnectionStarted:
    issued = issue_state(now)
    purpose = "connect" if replaces is None else "reconfirm"
    try:
        if replaces is None:
            started = provider.start_connection(state=issued.value,
                                                redirect_uri=ctx.redirect_uri, user_ip=user_ip)
        else:
            started = provider.start_reconfirmation(replaces[1], state=issued.value,
                                                    redirect_uri=ctx.redirect_uri,
                                                    user_ip=user_ip)
    except ProviderError as error:
        raise _upstream(error) from error
    connection_id = uuid.uuid4()
    with db.transaction() as tx:
        scope, head = found(families.lock_scope(tx, principal, family_id))
        require_role(scope, Role.OWNER, Role.ADULT, to="connect bank accounts")
        sealed = seal(ctx.keyring.sealing_key(family_id), started.provider_connection_id,
                      provider_ref_aad(family_id, connection_id))
        action = "connection.create" if replaces is None else "connection.reconfirm"
        created = connections.create_pending(
            tx, principal, scope, connection_id=connection_id, provider=provider.name,
            visibility=visibility, provider_ref=sealed,
            provider_ref_digest=connections.provider_digest(provider.name,
                                                            started.provider_connection_id),
            state_digest=issued.digest,
            state_expires_at=issued.expires_at, purpose=purpose,
            replaces_id=None if replaces is None else replaces[0],
            entries=ctx.signer.seal(head, [event(scope.user_id, action,
                                                 ("connection", connection_id))]),
        )
        if created is None:
            raise NotFoundError(CONNECTION_NOT_FOUND)
    return ConnectionStarted(connection=created, authorization_url=started.authorization_url)


def start_connection(
    db: Database, ctx: BankContext, principal: Principal, family_id: UUID, *,
    provider: str, visibility: Visibility, user_ip: str | None, now: datetime,
) -> ConnectionStarted:
    """Create a pending connection at the provider and return its consent link.

    Owners and adults only (children never connect); 404 outside the caller's families.
    """
    _scope_for_connecting(db, principal, family_id)
    return _create_pending(db, ctx, principal, family_id,
                           provider=_provider(ctx.providers, provider), visibility=visibility,
                           user_ip=user_ip, now=now, replaces=None)


def complete_connection(
    db: Database, ctx: BankContext, callback: Mapping[str, str], *, user_ip: str | None,
    now: datetime,
) -> ConnectionCompleted:
    """Finish a consent journey from the bank's redirect and start the first sync.

    The state is claimed inside the transaction that completes the connection, so a forged,
    expired or replayed state, a declined consent or a provider failure all leave every
    row as it was (and the state usable until it expires, for a retried redirect).
    """
    presented = callback.get("state", "")
    if not presented or len(presented) > 256:
        raise InvalidRequestError(BAD_STATE)
    with db.transaction() as tx:
        claimed = connections.claim_state(tx, state_digest(presented), now)
        if claimed is None:
            raise InvalidRequestError(BAD_STATE)
        conn = claimed.sealed.connection
        provider = _provider(ctx.providers, conn.provider)
        ref = _open_ref(ctx.keyring, conn, claimed.sealed.provider_ref)
        try:
            grant = provider.complete_connection(callback=dict(callback),
                                                 provider_connection_id=ref)
        except ReauthRequiredError as error:
            raise InvalidRequestError(
                "The bank consent was not given, so nothing was connected; start again to "
                "connect the account.") from error
        except ProviderRejectedError as error:
            raise InvalidRequestError(
                "The bank's answer does not match this consent link; start again.") from error
        except ProviderError as error:
            raise _upstream(error) from error
        old_ref = _replaced_ref(tx, ctx.keyring, claimed.sealed.replaces_id)
        head = audit_sql.lock_head(tx, conn.family_id)
        action = "connection.complete"
        completed = connections.complete(
            tx, connection_id=conn.id, family_id=conn.family_id,
            consent_expires_at=grant.consent_expires_at, completed_at=now,
            entries=ctx.signer.seal(head, [event(claimed.user_id, action,
                                                 ("connection", conn.id))]),
        )
        if completed is None:
            raise InvalidRequestError(BAD_STATE)
    if old_ref is not None:
        # The replaced row is retired (sealed id destroyed) in the same commit; its consent
        # at the provider is withdrawn best effort (it lapses on its own anyway).
        with contextlib.suppress(ProviderError):
            provider.revoke_connection(ProviderConnection(old_ref))
    run_id = _launch(ctx.launcher(), completed.id, user_ip=user_ip, now=now)
    return ConnectionCompleted(connection=completed, sync_run_id=run_id)


def _open_ref(keyring: FamilyKeyring, conn: Connection, sealed: Any) -> str:
    if sealed is None:
        raise InvalidRequestError(BAD_STATE)
    try:
        return open_sealed(keyring.opening_key(conn.family_id), sealed,
                           provider_ref_aad(conn.family_id, conn.id))
    except KeyUnavailable:
        raise InvalidRequestError(BAD_STATE) from None


def _replaced_ref(tx: Executor, keyring: FamilyKeyring, old_id: UUID | None) -> str | None:
    if old_id is None:
        return None
    old = connections.sync_view(tx, old_id)
    if old is None or old.provider_ref is None:
        return None
    try:
        return _open_ref(keyring, old.connection, old.provider_ref)
    except InvalidRequestError:
        return None


def _launch(
    launcher: SyncLauncher, connection_id: UUID, *, user_ip: str | None, now: datetime
) -> str | None:
    try:
        return launcher.start(bank_sync_input(str(connection_id), default_window(now.date()),
                                              user_ip=user_ip, now=now))
    except RunAlreadyActiveError:
        return None
    except LaunchFailedError as error:
        raise UpstreamUnavailableError(
            "The connection is saved but its sync could not start; start a sync again."
        ) from error


def list_connections(db: Database, principal: Principal, family_id: UUID) -> list[Connection]:
    """The connections the caller may see (status, consent expiry, last and next sync)."""
    scope, result = connections.list_connections(db, principal, family_id)
    scope = found(scope)
    record_read(family_id=family_id, user_id=scope.user_id, action="connections.list",
                target=("family", family_id))
    return result


def _visible(
    db: Database, principal: Principal, family_id: UUID, connection_id: UUID
) -> tuple[Membership, connections.SealedRef]:
    scope, sealed = connections.get_visible(db, principal, family_id, connection_id)
    scope = found(scope)
    if sealed is None:
        raise NotFoundError(CONNECTION_NOT_FOUND)
    return scope, sealed


def reconfirm_connection(
    db: Database, ctx: BankContext, principal: Principal, family_id: UUID, connection_id: UUID,
    *, user_ip: str | None, now: datetime,
) -> ConnectionStarted:
    """Renew consent (UK 90-day rule) the closest documented v3 way: a fresh connection that,
    once completed, replaces this one; its sync links the same accounts by ``match_key``."""
    scope, sealed = _visible(db, principal, family_id, connection_id)
    require_role(scope, Role.OWNER, Role.ADULT, to="reconfirm bank connections")
    conn = sealed.connection
    if conn.status not in RECONFIRMABLE:
        raise ConflictError(f"A {conn.status.value} connection cannot be reconfirmed.")
    ref = _open_ref_or_gone(ctx.keyring, conn, sealed.provider_ref)
    return _create_pending(db, ctx, principal, family_id,
                           provider=_provider(ctx.providers, conn.provider),
                           visibility=conn.visibility, user_ip=user_ip, now=now,
                           replaces=(conn.id, ProviderConnection(ref, conn.consent_expires_at)))


def _open_ref_or_gone(keyring: FamilyKeyring, conn: Connection, sealed: Any) -> str:
    try:
        return _open_ref(keyring, conn, sealed)
    except InvalidRequestError:
        raise ConflictError("This connection can no longer be renewed; connect again.") from None


def delete_connection(
    db: Database, ctx: BankContext, principal: Principal, family_id: UUID, connection_id: UUID,
    *, delete_data: bool,
) -> None:
    """Revoke at the provider, destroy the sealed id, keep or delete the accounts' data.

    A provider outage answers 503 and changes nothing (so the revoke can be retried); a
    connection the provider no longer knows is revoked here all the same.
    """
    scope, sealed = _visible(db, principal, family_id, connection_id)
    require_role(scope, Role.OWNER, Role.ADULT, to="delete bank connections")
    conn = sealed.connection
    if (sealed.provider_ref is not None and conn.status is not ConnectionStatus.REVOKED
            and conn.provider in ctx.providers):  # a provider this deployment no longer has
        provider = ctx.providers[conn.provider]
        try:
            ref = _open_ref(ctx.keyring, conn, sealed.provider_ref)
            provider.revoke_connection(ProviderConnection(ref, conn.consent_expires_at))
        except (ReauthRequiredError, ProviderRejectedError, InvalidRequestError):
            pass  # already gone at the provider, or the key is shredded: nothing to revoke
        except ProviderError as error:
            raise _upstream(error) from error
    with db.transaction() as tx:
        scope, head = found(families.lock_scope(tx, principal, family_id))
        entries = ctx.signer.seal(head, [event(scope.user_id, "connection.delete",
                                               ("connection", connection_id))])
        if not connections.revoke(tx, principal, scope, connection_id,
                                  delete_data=delete_data, entries=entries):
            raise NotFoundError(CONNECTION_NOT_FOUND)


def start_sync(
    db: Database, launcher: SyncLauncher, principal: Principal, family_id: UUID,
    connection_id: UUID, *, user_ip: str | None, now: datetime,
    window: DateWindow | None = None,
) -> str:
    """Start a user-present sync of an active connection; returns the run id (409 if one
    is already running, 409 if the connection needs the user first)."""
    scope, sealed = _visible(db, principal, family_id, connection_id)
    require_role(scope, Role.OWNER, Role.ADULT, to="sync bank connections")
    conn = sealed.connection
    if conn.status is not ConnectionStatus.ACTIVE:
        raise ConflictError(
            f"The connection is {conn.status.value}; reconfirm it before syncing."
            if conn.status in RECONFIRMABLE else f"The connection is {conn.status.value}.")
    try:
        return launcher.start(bank_sync_input(str(conn.id),
                                              window or default_window(now.date()),
                                              user_ip=user_ip, now=now))
    except RunAlreadyActiveError:
        raise ConflictError("A sync of this connection is already running.") from None
    except LaunchFailedError as error:
        raise UpstreamUnavailableError("The sync could not start; try again shortly.") from error


def get_sync_run(
    db: Database, store: RunStore, principal: Principal, family_id: UUID, *,
    connection_id: UUID, run_id: UUID,
) -> RunRecord:
    """One run of a connection the caller may see (steps, attempts, status, counts, errors)."""
    _visible(db, principal, family_id, connection_id)
    run = store.get(str(run_id))
    if run is None or run.input.get("connection_ref") != str(connection_id):
        raise NotFoundError(RUN_NOT_FOUND)
    return run


__all__ = [
    "BankContext",
    "ConnectionCompleted",
    "ConnectionStarted",
    "PermissionDeniedError",
    "complete_connection",
    "delete_connection",
    "get_sync_run",
    "list_connections",
    "reconfirm_connection",
    "start_connection",
    "start_sync",
]
