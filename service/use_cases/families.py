"""Creating, reading and deleting (crypto-shredding) families."""

from __future__ import annotations

import uuid
from uuid import UUID

from service.audit import AuditSigner, ChainHead, record_read
from service.audit.chain import GENESIS_HASH
from service.crypto import FamilyKeyring, family_key_context
from service.db.port import Database
from service.domain.errors import NotFoundError
from service.domain.models import Family, Role
from service.domain.principal import Principal
from service.repositories import families, users
from service.use_cases._common import FAMILY_NOT_FOUND, event, found, require_role

__all__ = ["create_family", "delete_family", "family_key_context", "get_family"]


def create_family(
    db: Database, signer: AuditSigner, principal: Principal, *, name: str
) -> Family:
    """Create a family with the caller as owner, its audit chain and first entry.

    Two statements, no transaction: the caller's user row (idempotent upsert), then the
    family, membership, chain head and entry in one statement. Its data key is created
    on first use (the first consent recorded), see
    :meth:`service.crypto.FamilyKeyring.sealing_key`.
    """
    user = users.ensure_user(db, principal)
    family_id = uuid.uuid4()
    entries = signer.seal(ChainHead(family_id=family_id, index=0, hash=GENESIS_HASH),
                          [event(user.id, "family.create", ("family", family_id))])
    return families.create_family(db, family_id=family_id, name=name, owner_id=user.id,
                                  entries=entries)


def get_family(db: Database, principal: Principal, family_id: UUID) -> tuple[Family, Role]:
    """A family the caller belongs to, with their role (404 otherwise). One statement."""
    result = families.get_family(db, principal, family_id)
    if result is None:
        raise NotFoundError(FAMILY_NOT_FOUND)
    family, scope = result
    record_read(family_id=family_id, user_id=scope.user_id, action="family.read",
                target=("family", family_id))
    return family, scope.role


def delete_family(
    db: Database, signer: AuditSigner, keyring: FamilyKeyring, principal: Principal,
    family_id: UUID,
) -> None:
    """Delete a family (owners only), crypto-shredding its data key, with an audit trail
    that is honest at every point of failure.

    Three statements, each committed on its own (no transaction; three Data API calls):

    1. the caller's membership and the family's audit head
       (:func:`~service.repositories.families.deletion_scope`);
    2. mark the family deleted and audit ``family.delete.requested``
       (:func:`~service.repositories.families.mark_deleted`). It waits for every write
       holding the family row ``FOR SHARE``; once it commits, no write, read or key
       creation finds the family;
    3. destroy the family's key in the key store - a separate system, so no database
       backup or rollback brings it back - then delete the family's rows, leave a
       nameless tombstone, and audit ``family.key.destroy`` and ``family.delete``
       (:func:`~service.repositories.families.purge_family_data`).

    The key is destroyed only after the chain durably records the request, so a crash
    or failure after the shredding always leaves ``family.delete.requested`` behind. The
    family is then already invisible (404 to everyone); the owner's retry of this call
    finds it marked, destroys the key again (idempotent) and finishes step 3.
    """
    scope, head, marked = found(families.deletion_scope(db, principal, family_id))
    if marked and scope.role is not Role.OWNER:
        raise NotFoundError(FAMILY_NOT_FOUND)  # deleted, as far as non-owners can tell
    require_role(scope, Role.OWNER, to="delete the family")
    if not marked:
        requested = signer.seal(head, [
            event(scope.user_id, "family.delete.requested", ("family", family_id))])
        if not families.mark_deleted(db, principal, scope, requested):
            raise NotFoundError(FAMILY_NOT_FOUND)  # deleted meanwhile, or role changed
        last = requested[-1]
        head = ChainHead(family_id=family_id, index=last.index, hash=last.hash)
    keyring.destroy(family_id)
    entries = signer.seal(head, [
        event(scope.user_id, "family.key.destroy", ("family", family_id)),
        event(scope.user_id, "family.delete", ("family", family_id)),
    ])
    if not families.purge_family_data(db, scope, entries):
        raise NotFoundError(FAMILY_NOT_FOUND)
