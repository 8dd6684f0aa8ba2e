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
from service.use_cases._common import FAMILY_NOT_FOUND, actor, event, require_role

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
    """Delete a family (owners only): record and commit the deletion, THEN shred its key.

    One transaction (four Data API calls: begin, two statements, commit): (1) the lock
    statement locks the family row ``FOR UPDATE`` (every write that adds family data
    holds ``FOR SHARE`` on it until it commits, so none is in flight and none can start)
    and the audit head ``FOR UPDATE`` like every append, and checks the caller is an
    owner; (2) one statement deletes the family's rows, leaves a nameless tombstone its
    chain refers to and appends ``family.delete`` and ``family.key.destroy``. Only once
    that has committed is the family's key destroyed in the key store (a separate
    system, so no database backup or rollback brings it back).

    So the chain always records a deletion before its key is shredded, and the database
    part is all or nothing (a failure leaves the family, its key and its chain as they
    were). If shredding fails after the commit, the family is already gone for everyone
    and the error reaches the caller; the owner's retry finds the committed
    ``family.delete`` entry they made and destroys the key again (idempotent).
    """
    with db.transaction() as tx:
        locked = families.lock_scope(tx, principal, family_id, exclusive=True)
        if locked is not None:
            scope, head = locked
            require_role(scope, Role.OWNER, to="delete the family")
            entries = signer.seal(head, [
                event(scope.user_id, "family.delete", ("family", family_id)),
                event(scope.user_id, "family.key.destroy", ("family", family_id)),
            ])
            if not families.delete_family_data(tx, scope, entries):
                raise NotFoundError(FAMILY_NOT_FOUND)
    if locked is None and not any(
        actor(user_id) == recorded
        for user_id, recorded in families.deleters(db, principal, family_id)
    ):
        raise NotFoundError(FAMILY_NOT_FOUND)
    keyring.destroy(family_id)
