"""Creating, reading and deleting (crypto-shredding) families."""

from __future__ import annotations

from uuid import UUID

from service.audit import init_chain
from service.crypto import FamilyKeyring, family_key_context
from service.db.port import Database
from service.domain.errors import NotFoundError
from service.domain.models import Family, Role
from service.domain.principal import Principal
from service.repositories import families
from service.use_cases._common import FAMILY_NOT_FOUND, audit, caller, membership, require_role

__all__ = ["create_family", "delete_family", "family_key_context", "get_family"]


def create_family(db: Database, principal: Principal, *, name: str) -> Family:
    """Create a family with the caller as owner and its audit chain.

    Its data key is created on first use (the first consent recorded), see
    :meth:`service.crypto.FamilyKeyring.sealing_key`.
    """
    with db.transaction() as tx:
        user = caller(tx, principal)
        family = families.create_family(tx, name)
        families.add_membership(tx, family.id, user.id, Role.OWNER)
        init_chain(tx, family.id)
        audit(tx, family.id, user, "family.create", ("family", family.id))
        return family


def get_family(db: Database, principal: Principal, family_id: UUID) -> tuple[Family, Role]:
    """A family the caller belongs to, with their role (404 otherwise)."""
    with db.transaction() as tx:
        user = caller(tx, principal)
        scope = membership(tx, user, family_id)
        family = families.get_family(tx, scope)
        if family is None:
            raise NotFoundError(FAMILY_NOT_FOUND)
        return family, scope.role


def delete_family(
    db: Database, keyring: FamilyKeyring, principal: Principal, family_id: UUID
) -> None:
    """Delete a family (owners only): destroy its data key FIRST, then delete its data.

    Steps: (1) check the caller is an owner; (2) destroy the family's key in the key
    store - outside any database transaction, so no database backup or rollback can
    bring it back - and audit ``family.key.destroy``; (3) in one transaction delete the
    family's rows, leave a nameless tombstone its audit chain refers to, and audit
    ``family.delete``; (4) destroy the key once more, in case a first use raced step 3.

    If step 3 fails the family and its rows remain but its consent tokens are already
    unreadable for good (accepted: the owner asked for deletion; retrying is safe), and
    the audit entry of step 2 records the shredding.
    """
    with db.transaction() as tx:
        user = caller(tx, principal)
        require_role(membership(tx, user, family_id), Role.OWNER, to="delete the family")
    keyring.destroy(family_id)
    with db.transaction() as tx:
        audit(tx, family_id, user, "family.key.destroy", ("family", family_id))
    with db.transaction() as tx:
        scope = membership(tx, user, family_id, lock=True)
        require_role(scope, Role.OWNER, to="delete the family")
        families.delete_family_data(tx, scope)
        audit(tx, family_id, user, "family.delete", ("family", family_id))
    keyring.destroy(family_id)
