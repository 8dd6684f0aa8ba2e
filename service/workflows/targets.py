"""The bank sync's :class:`~service.workflows.bank_sync.SyncTargets` over the connections table.

The provider connection id is opened from its seal under the family data key only here, in the
worker, for the duration of a step; the API never decrypts it except to revoke.
"""

from __future__ import annotations

from uuid import UUID

from service.banking.errors import ReauthRequiredError
from service.banking.models import ProviderConnection
from service.crypto import FamilyKeyring, KeyUnavailable, open_sealed
from service.db.port import Database
from service.repositories import connections
from service.workflows.bank_sync import SyncTarget


def provider_ref_aad(family_id: UUID, connection_id: UUID) -> dict[str, str]:
    """AAD binding a sealed provider connection id to its family, row and column."""
    return {"family": str(family_id), "connection": str(connection_id),
            "field": "provider_connection_id"}


class DatabaseSyncTargets:
    """Resolves a connection id to what the sync needs, refusing inactive connections."""

    def __init__(self, database: Database, keyring: FamilyKeyring) -> None:
        self._db = database
        self._keyring = keyring

    def load(self, connection_ref: str) -> SyncTarget:
        """See :meth:`SyncTargets.load`; ``owner_key`` is the connection id."""
        try:
            connection_id = UUID(connection_ref)
        except ValueError:
            raise ReauthRequiredError("the connection no longer exists") from None
        view = connections.sync_view(self._db, connection_id)
        if view is None or view.provider_ref is None:
            raise ReauthRequiredError("the connection no longer exists")
        conn = view.connection
        if conn.status.value != "active":
            raise ReauthRequiredError(f"the connection is {conn.status.value}")
        try:
            key = self._keyring.opening_key(conn.family_id)
            ref = open_sealed(key, view.provider_ref, provider_ref_aad(conn.family_id, conn.id))
        except KeyUnavailable:
            raise ReauthRequiredError("the connection's key was destroyed") from None
        return SyncTarget(
            owner_key=str(conn.id),
            provider=conn.provider,
            connection=ProviderConnection(ref, conn.consent_expires_at),
        )
