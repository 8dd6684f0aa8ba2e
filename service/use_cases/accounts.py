"""Accounts and balances, as the caller may see them."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from service.db.port import Database
from service.domain.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from service.domain.models import Account, Balance, Role, Visibility
from service.domain.principal import Principal
from service.repositories import accounts, balances
from service.use_cases._common import audit, caller, membership

ACCOUNT_NOT_FOUND = "Account not found."


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account as seen by the caller."""

    account: Account
    is_mine: bool


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """A partial update: fields left ``None`` in ``fields_set`` are untouched."""

    fields_set: frozenset[str]
    nickname: str | None = None
    visibility: Visibility | None = None


def list_accounts(db: Database, principal: Principal, family_id: UUID) -> list[AccountView]:
    """The family's accounts the caller may see."""
    with db.transaction() as tx:
        user = caller(tx, principal)
        scope = membership(tx, user, family_id)
        found = accounts.list_accounts(tx, scope)
        audit(tx, family_id, user, "accounts.list", ("family", family_id))
        return [AccountView(a, a.holder_user_id == user.id) for a in found]


def get_account(db: Database, principal: Principal, account_id: UUID) -> AccountView:
    """One account the caller may see (404 for anything else)."""
    with db.transaction() as tx:
        user = caller(tx, principal)
        found = accounts.find_account(tx, user.id, account_id)
        if found is None:
            raise NotFoundError(ACCOUNT_NOT_FOUND)
        audit(tx, found.account.family_id, user, "account.read", ("account", account_id))
        return AccountView(found.account, found.account.holder_user_id == user.id)


def update_account(
    db: Database, principal: Principal, account_id: UUID, changes: AccountChanges
) -> AccountView:
    """Change nickname and/or visibility.

    Rules: only the holder may change visibility; the nickname may be set by the holder
    or by an owner (for accounts the owner can see). Others get 403.
    """
    with db.transaction() as tx:
        user = caller(tx, principal)
        found = accounts.find_account(tx, user.id, account_id)
        if found is None:
            raise NotFoundError(ACCOUNT_NOT_FOUND)
        is_holder = found.account.holder_user_id == user.id
        if "visibility" in changes.fields_set:
            if changes.visibility is None:
                raise ValidationFailedError("visibility cannot be null.")
            if not is_holder:
                raise PermissionDeniedError("Only the account holder may change its visibility.")
        if "nickname" in changes.fields_set and not (
            is_holder or found.scope.role is Role.OWNER
        ):
            raise PermissionDeniedError("Only the holder or a family owner may rename an account.")
        updated = accounts.update_account(
            tx, found.scope, account_id,
            nickname=changes.nickname, set_nickname="nickname" in changes.fields_set,
            visibility=changes.visibility if "visibility" in changes.fields_set else None,
        )
        if updated is None:
            raise NotFoundError(ACCOUNT_NOT_FOUND)
        for field in sorted(changes.fields_set & {"nickname", "visibility"}):
            audit(tx, updated.family_id, user, f"account.update.{field}", ("account", account_id))
        return AccountView(updated, is_holder)


def list_balances(
    db: Database, principal: Principal, account_id: UUID, *, limit: int = 90
) -> list[Balance]:
    """Balance history of one visible account, newest first."""
    with db.transaction() as tx:
        user = caller(tx, principal)
        found = accounts.find_account(tx, user.id, account_id)
        if found is None:
            raise NotFoundError(ACCOUNT_NOT_FOUND)
        result = balances.list_balances(tx, found.scope, account_id, limit=limit)
        audit(tx, found.account.family_id, user, "balances.read", ("account", account_id))
        return result

