"""Accounts, visible according to :mod:`service.repositories.scope`."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from service.db.port import Executor, Row
from service.domain.models import Account, AccountType, Membership, Role, Visibility
from service.repositories.scope import (
    VISIBLE_ACCOUNTS,
    VISIBLE_ACCOUNTS_ANY_FAMILY,
    scope_params,
)

_COLUMNS = """id, family_id, holder_user_id, connection_id, name, nickname, type, currency,
              visibility"""


@dataclass(frozen=True, slots=True)
class ScopedAccount:
    """An account together with the caller's membership in its family."""

    account: Account
    scope: Membership


def _account(row: Row) -> Account:
    return Account(id=row["id"], family_id=row["family_id"],
                   holder_user_id=row["holder_user_id"], connection_id=row["connection_id"],
                   name=row["name"], nickname=row["nickname"], type=AccountType(row["type"]),
                   currency=row["currency"], visibility=Visibility(row["visibility"]))


def _scoped(row: Row, user_id: UUID) -> ScopedAccount:
    return ScopedAccount(
        account=_account(row),
        scope=Membership(id=row["scope_membership_id"], family_id=row["family_id"],
                         user_id=user_id, role=Role(row["scope_role"])),
    )


def list_accounts(ex: Executor, scope: Membership) -> list[Account]:
    """Accounts of the caller's family the caller may see."""
    rows = ex.fetch_all(
        f"""WITH {VISIBLE_ACCOUNTS}
            SELECT {_COLUMNS} FROM visible_accounts ORDER BY name, id""",  # noqa: S608
        scope_params(scope),
    )
    return [_account(r) for r in rows]


def find_account(ex: Executor, user_id: UUID, account_id: UUID) -> ScopedAccount | None:
    """An account the user may see (in any of their families), or ``None``."""
    rows = ex.fetch_all(
        f"""WITH {VISIBLE_ACCOUNTS_ANY_FAMILY}
            SELECT {_COLUMNS}, scope_membership_id, scope_role
            FROM visible_accounts WHERE id = :account_id""",  # noqa: S608
        {"scope_user_id": user_id, "account_id": account_id},
    )
    if not rows:
        return None
    return _scoped(rows[0], user_id)


def update_account(
    ex: Executor, scope: Membership, account_id: UUID, *,
    nickname: str | None, set_nickname: bool,
    visibility: Visibility | None,
) -> Account | None:
    """Apply the permitted changes; visibility only changes for the holder (in SQL too)."""
    row = ex.fetch_one(
        f"""WITH {VISIBLE_ACCOUNTS}
            UPDATE accounts a SET
                nickname = CASE WHEN CAST(:set_nickname AS boolean)
                                THEN CAST(:nickname AS text) ELSE a.nickname END,
                visibility = CASE WHEN CAST(:visibility AS text) IS NOT NULL
                                   AND a.holder_user_id = :scope_user_id
                                  THEN CAST(:visibility AS text) ELSE a.visibility END
            FROM visible_accounts va
            WHERE a.id = va.id AND a.id = :account_id
            RETURNING a.id, a.family_id, a.holder_user_id, a.connection_id, a.name,
                      a.nickname, a.type, a.currency, a.visibility""",  # noqa: S608
        {**scope_params(scope), "account_id": account_id, "set_nickname": set_nickname,
         "nickname": nickname, "visibility": None if visibility is None else visibility.value},
    )
    return None if row is None else _account(row)


def insert_account(
    ex: Executor, *, family_id: UUID, holder_user_id: UUID, connection_id: UUID | None,
    provider_account_id: str, name: str, type_: AccountType, currency: str,
    visibility: Visibility,
) -> Account:
    """Insert an account (ingestion path; the holder must be a member, enforced by FK)."""
    row = ex.fetch_one(
        f"""INSERT INTO accounts (family_id, holder_user_id, connection_id, provider_account_id,
                                  name, type, currency, visibility)
            VALUES (:family_id, :holder, :connection_id, :provider_account_id, :name, :type,
                    :currency, :visibility)
            ON CONFLICT (family_id, provider_account_id) DO UPDATE SET name = EXCLUDED.name
            RETURNING {_COLUMNS}""",  # noqa: S608
        {"family_id": family_id, "holder": holder_user_id, "connection_id": connection_id,
         "provider_account_id": provider_account_id, "name": name, "type": type_.value,
         "currency": currency, "visibility": visibility.value},
    )
    assert row is not None
    return _account(row)
