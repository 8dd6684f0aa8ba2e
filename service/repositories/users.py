"""Users, identified by their identity provider's (issuer, subject)."""

from __future__ import annotations

from service.db.port import Executor, Row, SqlValue
from service.domain.models import FamilySummary, Role, User
from service.domain.principal import Principal

_COLUMNS = "id, issuer, subject, email, display_name, created_at"


def _user(row: Row) -> User:
    return User(
        id=row["id"], issuer=row["issuer"], subject=row["subject"], email=row["email"],
        display_name=row["display_name"], created_at=row["created_at"],
    )


def ensure_user(ex: Executor, principal: Principal) -> User:
    """Return the user for ``principal``, creating it or refreshing its email if needed."""
    row = ex.fetch_one(
        f"SELECT {_COLUMNS} FROM users WHERE issuer = :issuer AND subject = :subject",  # noqa: S608
        {"issuer": principal.issuer, "subject": principal.subject},
    )
    if row is not None and row["email"] == principal.email:
        return _user(row)
    row = ex.fetch_one(
        f"""INSERT INTO users (issuer, subject, email)
            VALUES (:issuer, :subject, :email)
            ON CONFLICT (issuer, subject) DO UPDATE SET email = EXCLUDED.email
            RETURNING {_COLUMNS}""",  # noqa: S608
        {"issuer": principal.issuer, "subject": principal.subject, "email": principal.email},
    )
    assert row is not None
    return _user(row)


_UPSERT = f"""upserted AS (
        INSERT INTO users (issuer, subject, email) VALUES (:issuer, :subject, :email)
        ON CONFLICT (issuer, subject) DO UPDATE SET email = EXCLUDED.email{{display_name}}
        WHERE {{changed}}
        RETURNING {_COLUMNS}),
    me AS (
        SELECT * FROM upserted
        UNION ALL
        SELECT {_COLUMNS} FROM users
        WHERE issuer = :issuer AND subject = :subject
          AND NOT EXISTS (SELECT 1 FROM upserted))"""  # noqa: S608


def caller_ctes(principal: Principal) -> tuple[str, dict[str, SqlValue]]:
    """CTEs ending in ``me``: the caller's user row, created on first sight or its email
    refreshed (rewritten only when it changed), for a statement that needs the caller's
    id before they belong to a family."""
    return (_UPSERT.format(display_name="", changed="users.email IS DISTINCT FROM EXCLUDED.email"),
            {"issuer": principal.issuer, "subject": principal.subject,
             "email": principal.email})


def me(
    ex: Executor, principal: Principal, *, set_display_name: bool = False,
    display_name: str | None = None,
) -> tuple[User, list[FamilySummary]]:
    """The caller (created or refreshed, display name changed if asked) and their live
    families with their role, in ONE statement."""
    # A plain read must not rewrite the row: update only what changed.
    if set_display_name:
        upsert = _UPSERT.format(display_name=", display_name = CAST(:display_name AS text)",
                                changed="true")
    else:
        upsert, _ = caller_ctes(principal)
    rows = ex.fetch_all(
        f"""WITH {upsert}
            SELECT me.*, f.id AS family_id, f.name AS family_name, m.role AS family_role
            FROM me LEFT JOIN memberships m ON m.user_id = me.id
            LEFT JOIN families f ON f.id = m.family_id AND f.deleted_at IS NULL
            ORDER BY f.created_at, f.id""",  # noqa: S608
        {"issuer": principal.issuer, "subject": principal.subject, "email": principal.email,
         "display_name": display_name},
    )
    return _user(rows[0]), [
        FamilySummary(id=r["family_id"], name=r["family_name"], role=Role(r["family_role"]))
        for r in rows if r["family_id"] is not None
    ]
