"""Creating, reading and deleting (crypto-shredding) families."""

from __future__ import annotations

from uuid import UUID

from service.audit import init_chain
from service.crypto import DataKeyProvider
from service.db.port import Database
from service.domain.errors import NotFoundError
from service.domain.models import Family, Role
from service.domain.principal import Principal
from service.repositories import families, keys
from service.use_cases._common import FAMILY_NOT_FOUND, audit, caller, membership, require_role


def family_key_context(family_id: UUID) -> dict[str, str]:
    """KMS encryption context of a family's data key."""
    return {"family": str(family_id)}


def create_family(
    db: Database, key_provider: DataKeyProvider, principal: Principal, *, name: str
) -> Family:
    """Create a family with the caller as owner, its data key and its audit chain."""
    with db.transaction() as tx:
        user = caller(tx, principal)
        family = families.create_family(tx, name)
        families.add_membership(tx, family.id, user.id, Role.OWNER)
        context = family_key_context(family.id)
        data_key = key_provider.generate_data_key(context)
        keys.store_family_key(tx, family.id, provider=data_key.provider,
                              key_id=data_key.key_id, context=context,
                              wrapped=data_key.wrapped)
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


def delete_family(db: Database, principal: Principal, family_id: UUID) -> None:
    """Delete a family (owners only): destroy its data key FIRST, then delete its data.

    Runs in one transaction (all-or-nothing). The key is shredded before any row is
    deleted, so consent tokens are unreadable even from a backup of ``connections``.
    The family row stays as a nameless tombstone that its audit chain refers to.
    """
    with db.transaction() as tx:
        user = caller(tx, principal)
        scope = membership(tx, user, family_id, lock=True)
        require_role(scope, Role.OWNER, to="delete the family")
        keys.destroy_family_key(tx, family_id)
        families.delete_family_data(tx, scope)
        audit(tx, family_id, user, "family.delete", ("family", family_id))
