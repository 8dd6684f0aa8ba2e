"""SQL fragments that scope queries to what the caller may see.

Visibility of accounts (and so of their balances and transactions):

* the holder always sees their own accounts;
* owners and adults also see every ``family``-visible account of their family;
* children see only their own accounts;
* ``private`` accounts are seen by their holder only (not even owners).

The caller's role is read from ``memberships`` inside the statement, never trusted
from a parameter, and deleted families are invisible.
"""

from __future__ import annotations

from service.db.port import SqlValue
from service.domain.models import Membership

_VISIBLE = """
    SELECT a.*, m.id AS scope_membership_id, m.role AS scope_role
    FROM accounts a
    JOIN memberships m ON m.family_id = a.family_id AND m.user_id = :scope_user_id
    JOIN families f ON f.id = a.family_id AND f.deleted_at IS NULL
    WHERE (a.holder_user_id = m.user_id
           OR (m.role IN ('owner', 'adult') AND a.visibility = 'family'))
"""

#: ``visible_accounts`` CTE restricted to one family (params: :func:`scope_params`).
VISIBLE_ACCOUNTS = f"visible_accounts AS ({_VISIBLE} AND a.family_id = :scope_family_id)"

#: ``visible_accounts`` CTE over every family of the user (param ``scope_user_id``),
#: for lookups by a globally unique id (``/accounts/{aid}``, ``/transactions/{tid}``).
VISIBLE_ACCOUNTS_ANY_FAMILY = f"visible_accounts AS ({_VISIBLE})"

#: Condition that the caller (``scope_user_id``) is a member of live family ``scope_family_id``.
IS_MEMBER = """EXISTS (
    SELECT 1 FROM memberships sm JOIN families sf ON sf.id = sm.family_id
    WHERE sm.family_id = :scope_family_id AND sm.user_id = :scope_user_id
      AND sf.deleted_at IS NULL)"""

#: Condition that the caller is an *owner* of live family ``scope_family_id``.
IS_OWNER = """EXISTS (
    SELECT 1 FROM memberships sm JOIN families sf ON sf.id = sm.family_id
    WHERE sm.family_id = :scope_family_id AND sm.user_id = :scope_user_id
      AND sm.role = 'owner' AND sf.deleted_at IS NULL)"""


def scope_params(scope: Membership) -> dict[str, SqlValue]:
    """Parameters the fragments above expect."""
    return {"scope_user_id": scope.user_id, "scope_family_id": scope.family_id}
