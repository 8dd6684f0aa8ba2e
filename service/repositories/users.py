"""Users, identified by their identity provider's (issuer, subject)."""

from __future__ import annotations

from uuid import UUID

from service.db.port import Executor, Row
from service.domain.models import User
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


def set_display_name(ex: Executor, user_id: UUID, display_name: str | None) -> User:
    """Change the caller's own display name."""
    row = ex.fetch_one(
        f"UPDATE users SET display_name = :name WHERE id = :id RETURNING {_COLUMNS}",  # noqa: S608
        {"name": display_name, "id": user_id},
    )
    assert row is not None
    return _user(row)
