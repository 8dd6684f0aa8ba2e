"""The caller's own profile (one statement each, no transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from service.db.port import Database
from service.domain.models import FamilySummary, User
from service.domain.principal import Principal
from service.repositories import users


@dataclass(frozen=True, slots=True)
class Me:
    """The caller and the families they belong to."""

    user: User
    families: list[FamilySummary]

    @property
    def id(self) -> UUID:
        """The caller's user id."""
        return self.user.id

    @property
    def email(self) -> str:
        """The caller's (verified) email."""
        return self.user.email

    @property
    def display_name(self) -> str | None:
        """The caller's display name."""
        return self.user.display_name


def get_me(db: Database, principal: Principal) -> Me:
    """Who am I, and in which families (with which role). Creates the user on first sight."""
    user, families = users.me(db, principal)
    return Me(user=user, families=families)


def update_me(db: Database, principal: Principal, *, display_name: str | None) -> Me:
    """Change the caller's display name."""
    user, families = users.me(db, principal, set_display_name=True, display_name=display_name)
    return Me(user=user, families=families)
