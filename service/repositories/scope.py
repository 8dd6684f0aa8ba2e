"""SQL fragments that scope statements to what the caller may see, and lock for writes.

The caller is named by the token's ``(issuer, subject)`` (:func:`caller_params`) and
resolved to a user, a membership and a live family *inside* each statement, so a read is
one statement (one Data API call) and a forgotten check in a use case cannot leak
another family's rows or a member's private account.

Visibility of accounts (and so of their balances and transactions):

* the holder always sees their own accounts;
* owners and adults also see every ``family``-visible account of their family;
* children see only their own accounts;
* ``private`` accounts are seen by their holder only (not even owners).

Writes start with a *lock statement* (:func:`lock_statement`) that resolves the same
scope and locks the family row ``FOR SHARE`` (deletion takes ``FOR UPDATE``, so a
family is deleted all or nothing, never while a write adds data to it) and the family's
audit head ``FOR UPDATE`` (appends serialise, the chain cannot fork).
"""

from __future__ import annotations

from uuid import UUID

from service.db.port import SqlValue
from service.domain.models import Membership, Role
from service.domain.principal import Principal

#: ``scope`` CTE: the caller's membership of live family ``:scope_family_id``.
SCOPE = """scope AS (
    SELECT m.id AS membership_id, m.user_id, m.family_id, m.role
    FROM users u JOIN memberships m ON m.user_id = u.id
    JOIN families f ON f.id = m.family_id AND f.deleted_at IS NULL
    WHERE u.issuer = :caller_issuer AND u.subject = :caller_subject
      AND m.family_id = :scope_family_id)"""

#: ``scope`` CTE over every live family of the caller (lookups by a global id).
SCOPE_ANY_FAMILY = """scope AS (
    SELECT m.id AS membership_id, m.user_id, m.family_id, m.role
    FROM users u JOIN memberships m ON m.user_id = u.id
    JOIN families f ON f.id = m.family_id AND f.deleted_at IS NULL
    WHERE u.issuer = :caller_issuer AND u.subject = :caller_subject)"""

#: The visibility rule over ``accounts a`` and ``scope s``.
ACCOUNT_VISIBLE = """(a.holder_user_id = s.user_id
       OR (s.role IN ('owner', 'adult') AND a.visibility = 'family'))"""

#: ``visible_accounts`` CTE (after ``scope``): accounts the caller may see.
VISIBLE_ACCOUNTS = f"""visible_accounts AS (
    SELECT a.*, s.membership_id AS scope_membership_id, s.role AS scope_role,
           s.user_id AS scope_user_id
    FROM accounts a JOIN scope s ON s.family_id = a.family_id
    WHERE {ACCOUNT_VISIBLE})"""  # noqa: S608

#: Columns every scoped read returns first, so an empty result means "not a member".
SCOPE_COLUMNS = ("s.membership_id AS scope_membership_id, s.role AS scope_role, "
                 "s.user_id AS scope_user_id, s.family_id AS scope_family")


def caller_params(principal: Principal) -> dict[str, SqlValue]:
    """Parameters naming the caller."""
    return {"caller_issuer": principal.issuer, "caller_subject": principal.subject}


def family_params(principal: Principal, family_id: UUID) -> dict[str, SqlValue]:
    """Parameters of :data:`SCOPE`."""
    return {**caller_params(principal), "scope_family_id": family_id}


def scope_of(row: dict[str, object]) -> Membership:
    """The membership in a row carrying :data:`SCOPE_COLUMNS`."""
    return Membership(id=row["scope_membership_id"], family_id=row["scope_family"],  # type: ignore[arg-type]
                      user_id=row["scope_user_id"], role=Role(row["scope_role"]))  # type: ignore[arg-type]


def lock_statement(
    *, columns: str = "", joins: str = "", where: str = "", exclusive: bool = False
) -> str:
    """A ``SELECT`` that resolves the caller's scope and locks family and audit head.

    Returns :data:`SCOPE_COLUMNS`-style columns plus ``head_index``/``head_hash`` and
    ``columns``; ``joins`` may add tables aliased other than ``u m f h``.
    The family row is locked ``FOR SHARE`` (``FOR UPDATE`` when ``exclusive``).
    """
    family_lock = "FOR UPDATE OF f" if exclusive else "FOR SHARE OF f"
    extra = f", {columns}" if columns else ""
    return f"""SELECT m.id AS scope_membership_id, m.role AS scope_role,
                  m.user_id AS scope_user_id, m.family_id AS scope_family,
                  h.chain_index AS head_index, h.hash AS head_hash{extra}
           FROM users u JOIN memberships m ON m.user_id = u.id
           JOIN families f ON f.id = m.family_id AND f.deleted_at IS NULL
           JOIN audit_heads h ON h.family_id = f.id
           {joins}
           WHERE u.issuer = :caller_issuer AND u.subject = :caller_subject {where}
           {family_lock} FOR UPDATE OF h"""  # noqa: S608


# -- by user id (flows that resolved the caller's membership step by step) ---------------

#: Condition that user ``scope_user_id`` is a member of live family ``scope_family_id``.
IS_MEMBER = """EXISTS (
    SELECT 1 FROM memberships sm JOIN families sf ON sf.id = sm.family_id
    WHERE sm.family_id = :scope_family_id AND sm.user_id = :scope_user_id
      AND sf.deleted_at IS NULL)"""

#: Condition that user ``scope_user_id`` is an *owner* of live family ``scope_family_id``.
IS_OWNER = """EXISTS (
    SELECT 1 FROM memberships sm JOIN families sf ON sf.id = sm.family_id
    WHERE sm.family_id = :scope_family_id AND sm.user_id = :scope_user_id
      AND sm.role = 'owner' AND sf.deleted_at IS NULL)"""


def scope_params(scope: Membership) -> dict[str, SqlValue]:
    """Parameters :data:`IS_MEMBER` and :data:`IS_OWNER` expect."""
    return {"scope_user_id": scope.user_id, "scope_family_id": scope.family_id}
