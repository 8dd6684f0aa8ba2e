"""Accounts, visible according to :mod:`service.repositories.scope`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from service.audit.chain import ChainHead, SealedEntry
from service.db.port import Executor, Row
from service.domain.errors import NotFoundError
from service.domain.models import Account, AccountType, Balance, Membership, Visibility
from service.domain.money import Money
from service.domain.principal import Principal
from service.repositories.audit import append_ctes, head_of
from service.repositories.scope import (
    SCOPE,
    SCOPE_ANY_FAMILY,
    SCOPE_COLUMNS,
    VISIBLE_ACCOUNTS,
    caller_params,
    family_params,
    lock_statement,
    scope_of,
)

_COLUMNS = """id, family_id, holder_user_id, connection_id, name, nickname, type, currency,
              visibility"""
_VA_COLUMNS = """va.id, va.family_id, va.holder_user_id, va.connection_id, va.name,
                 va.nickname, va.type, va.currency, va.visibility"""


@dataclass(frozen=True, slots=True)
class ScopedAccount:
    """An account together with the caller's membership in its family."""

    account: Account
    scope: Membership


def account_of(row: Row) -> Account:
    """The account in a row of :data:`_COLUMNS`."""
    return Account(id=row["id"], family_id=row["family_id"],
                   holder_user_id=row["holder_user_id"], connection_id=row["connection_id"],
                   name=row["name"], nickname=row["nickname"], type=AccountType(row["type"]),
                   currency=row["currency"], visibility=Visibility(row["visibility"]))


def list_accounts(
    ex: Executor, principal: Principal, family_id: UUID
) -> tuple[Membership | None, list[Account]]:
    """The caller's membership (``None``: not a member) and the accounts they may see."""
    rows = ex.fetch_all(
        f"""WITH {SCOPE}, {VISIBLE_ACCOUNTS}
            SELECT {SCOPE_COLUMNS}, {_VA_COLUMNS}
            FROM scope s LEFT JOIN visible_accounts va ON true
            ORDER BY va.name, va.id""",  # noqa: S608
        family_params(principal, family_id),
    )
    if not rows:
        return None, []
    return scope_of(rows[0]), [account_of(r) for r in rows if r["id"] is not None]


def list_accounts_with_latest_balance(
    ex: Executor, principal: Principal, family_id: UUID
) -> tuple[Membership | None, list[tuple[Account, Balance | None]]]:
    """Like :func:`list_accounts`, each account with its latest balance (one statement)."""
    rows = ex.fetch_all(
        f"""WITH {SCOPE}, {VISIBLE_ACCOUNTS}
            SELECT {SCOPE_COLUMNS}, {_VA_COLUMNS}, b.as_of AS balance_as_of,
                   b.amount_minor AS balance_minor, b.currency AS balance_currency
            FROM scope s LEFT JOIN visible_accounts va ON true
            LEFT JOIN LATERAL (
                SELECT as_of, amount_minor, currency FROM balances
                WHERE account_id = va.id ORDER BY as_of DESC LIMIT 1) b ON true
            ORDER BY va.name, va.id""",  # noqa: S608
        family_params(principal, family_id),
    )
    if not rows:
        return None, []
    return scope_of(rows[0]), [
        (account_of(r), None if r["balance_as_of"] is None else Balance(
            account_id=r["id"], as_of=r["balance_as_of"],
            amount=Money(int(r["balance_minor"]), r["balance_currency"])))
        for r in rows if r["id"] is not None
    ]


def find_account(ex: Executor, principal: Principal, account_id: UUID) -> ScopedAccount | None:
    """An account the caller may see (in any of their families), or ``None``."""
    row = ex.fetch_one(
        f"""WITH {SCOPE_ANY_FAMILY}, {VISIBLE_ACCOUNTS}
            SELECT {_VA_COLUMNS}, va.scope_membership_id, va.scope_role,
                   va.scope_user_id, va.family_id AS scope_family
            FROM visible_accounts va WHERE va.id = :account_id""",  # noqa: S608
        {**caller_params(principal), "account_id": account_id},
    )
    return None if row is None else ScopedAccount(account_of(row), scope_of(row))


def lock_account(
    ex: Executor, principal: Principal, account_id: UUID
) -> tuple[ScopedAccount, ChainHead] | None:
    """A visible account with the caller's scope, its family locked for a write."""
    row = ex.fetch_one(
        lock_statement(
            columns="a.id, a.family_id, a.holder_user_id, a.connection_id, a.name, "
                    "a.nickname, a.type, a.currency, a.visibility",
            joins="JOIN accounts a ON a.family_id = m.family_id AND a.id = :account_id",
            where="""AND (a.holder_user_id = m.user_id
                         OR (m.role IN ('owner', 'adult') AND a.visibility = 'family'))""",
        ),
        {**caller_params(principal), "account_id": account_id},
    )
    if row is None:
        return None
    return ScopedAccount(account_of(row), scope_of(row)), head_of(row)


def update_account(
    ex: Executor, principal: Principal, scope: Membership, account_id: UUID, *,
    nickname: str | None, set_nickname: bool, visibility: Visibility | None,
    entries: Sequence[SealedEntry],
) -> Account | None:
    """Apply the permitted changes and their audit entries in one statement.

    Visibility only changes for the holder (in SQL too); ``None`` if not visible.
    """
    audit, audit_params = append_ctes(entries)
    row = ex.fetch_one(
        f"""WITH {SCOPE}, {VISIBLE_ACCOUNTS},
            change AS (
                UPDATE accounts a SET
                    nickname = CASE WHEN CAST(:set_nickname AS boolean)
                                    THEN CAST(:nickname AS text) ELSE a.nickname END,
                    visibility = CASE WHEN CAST(:visibility AS text) IS NOT NULL
                                       AND a.holder_user_id = va.scope_user_id
                                      THEN CAST(:visibility AS text) ELSE a.visibility END
                FROM visible_accounts va
                WHERE a.id = va.id AND a.id = :account_id
                RETURNING a.id, a.family_id, a.holder_user_id, a.connection_id, a.name,
                          a.nickname, a.type, a.currency, a.visibility),
            {audit}
            SELECT * FROM change""",  # noqa: S608
        {**family_params(principal, scope.family_id), "account_id": account_id,
         "set_nickname": set_nickname, "nickname": nickname,
         "visibility": None if visibility is None else visibility.value, **audit_params},
    )
    return None if row is None else account_of(row)


def insert_account(
    ex: Executor, *, family_id: UUID, holder_user_id: UUID, connection_id: UUID | None,
    provider_account_id: str, name: str, type_: AccountType, currency: str,
    visibility: Visibility,
) -> Account:
    """Insert an account (ingestion path; the holder must be a member, enforced by FK).

    The live family row is locked ``FOR SHARE`` by the statement itself, so ingestion
    cannot race the family's deletion.

    Raises
    ------
    NotFoundError
        The family is gone (deleted, possibly concurrently).
    """
    row = ex.fetch_one(
        f"""INSERT INTO accounts (family_id, holder_user_id, connection_id, provider_account_id,
                                  name, type, currency, visibility)
            SELECT f.id, :holder, :connection_id, :provider_account_id, :name, :type,
                   :currency, :visibility
            FROM families f WHERE f.id = :family_id AND f.deleted_at IS NULL FOR SHARE OF f
            ON CONFLICT (family_id, provider_account_id) DO UPDATE SET name = EXCLUDED.name
            RETURNING {_COLUMNS}""",  # noqa: S608
        {"family_id": family_id, "holder": holder_user_id, "connection_id": connection_id,
         "provider_account_id": provider_account_id, "name": name, "type": type_.value,
         "currency": currency, "visibility": visibility.value},
    )
    if row is None:
        raise NotFoundError("Family not found.")
    return account_of(row)
