"""Accounts and balances, as the caller may see them."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from service.audit import AuditSigner, record_read
from service.db.port import Database
from service.domain.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from service.domain.models import Account, Balance, Role, Visibility
from service.domain.principal import Principal
from service.repositories import accounts, balances
from service.use_cases._common import event, found

ACCOUNT_NOT_FOUND = "Account not found."


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account as seen by the caller (attributes read by the API's ``AccountOut``)."""

    account: Account
    is_mine: bool

    def __getattr__(self, name: str) -> object:
        return getattr(self.account, name)


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """A partial update: fields left ``None`` in ``fields_set`` are untouched."""

    fields_set: frozenset[str]
    nickname: str | None = None
    visibility: Visibility | None = None


def list_accounts(db: Database, principal: Principal, family_id: UUID) -> list[AccountView]:
    """The family's accounts the caller may see (one statement)."""
    scope, found_accounts = accounts.list_accounts(db, principal, family_id)
    scope = found(scope)
    record_read(family_id=family_id, user_id=scope.user_id, action="accounts.list",
                target=("family", family_id))
    return [AccountView(a, a.holder_user_id == scope.user_id) for a in found_accounts]


def list_accounts_with_balances(
    db: Database, principal: Principal, family_id: UUID
) -> list[tuple[AccountView, Balance | None]]:
    """The family's visible accounts, each with its latest balance (one statement)."""
    scope, rows = accounts.list_accounts_with_latest_balance(db, principal, family_id)
    scope = found(scope)
    record_read(family_id=family_id, user_id=scope.user_id, action="accounts.list",
                target=("family", family_id))
    for account, _ in rows:
        record_read(family_id=family_id, user_id=scope.user_id, action="balances.read",
                    target=("account", account.id))
    return [(AccountView(a, a.holder_user_id == scope.user_id), balance)
            for a, balance in rows]


def get_account(db: Database, principal: Principal, account_id: UUID) -> AccountView:
    """One account the caller may see (404 for anything else; one statement)."""
    result = accounts.find_account(db, principal, account_id)
    if result is None:
        raise NotFoundError(ACCOUNT_NOT_FOUND)
    record_read(family_id=result.account.family_id, user_id=result.scope.user_id,
                action="account.read", target=("account", account_id))
    return AccountView(result.account, result.account.holder_user_id == result.scope.user_id)


def update_account(
    db: Database, signer: AuditSigner, principal: Principal, account_id: UUID,
    changes: AccountChanges,
) -> AccountView:
    """Change nickname and/or visibility.

    Rules: only the holder may change visibility; the nickname may be set by the holder
    or by an owner (for accounts the owner can see). Others get 403.
    """
    with db.transaction() as tx:
        locked = accounts.lock_account(tx, principal, account_id)
        if locked is None:
            raise NotFoundError(ACCOUNT_NOT_FOUND)
        result, head = locked
        scope = result.scope
        is_holder = result.account.holder_user_id == scope.user_id
        if "visibility" in changes.fields_set:
            if changes.visibility is None:
                raise ValidationFailedError("visibility cannot be null.")
            if not is_holder:
                raise PermissionDeniedError("Only the account holder may change its visibility.")
        if "nickname" in changes.fields_set and not (is_holder or scope.role is Role.OWNER):
            raise PermissionDeniedError("Only the holder or a family owner may rename an account.")
        fields = sorted(changes.fields_set & {"nickname", "visibility"})
        if not fields:
            return AccountView(result.account, is_holder)
        entries = signer.seal(head, [
            event(scope.user_id, f"account.update.{field}", ("account", account_id))
            for field in fields
        ])
        updated = accounts.update_account(
            tx, principal, scope, account_id,
            nickname=changes.nickname, set_nickname="nickname" in changes.fields_set,
            visibility=changes.visibility if "visibility" in changes.fields_set else None,
            entries=entries,
        )
        if updated is None:
            raise NotFoundError(ACCOUNT_NOT_FOUND)
        return AccountView(updated, is_holder)


def list_balances(
    db: Database, principal: Principal, account_id: UUID, *, limit: int = 90
) -> list[Balance]:
    """Balance history of one visible account, newest first (one statement)."""
    scope, result = balances.list_balances(db, principal, account_id, limit=limit)
    if scope is None:
        raise NotFoundError(ACCOUNT_NOT_FOUND)
    record_read(family_id=scope.family_id, user_id=scope.user_id, action="balances.read",
                target=("account", account_id))
    return result
