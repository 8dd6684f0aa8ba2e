"""The caller's own profile."""

from __future__ import annotations

from dataclasses import dataclass

from service.db.port import Database
from service.domain.models import FamilySummary, User
from service.domain.principal import Principal
from service.repositories import families, users
from service.use_cases._common import caller


@dataclass(frozen=True, slots=True)
class Me:
    """The caller and the families they belong to."""

    user: User
    families: list[FamilySummary]


def get_me(db: Database, principal: Principal) -> Me:
    """Who am I, and in which families (with which role)."""
    with db.transaction() as tx:
        user = caller(tx, principal)
        return Me(user=user, families=families.families_of(tx, user.id))


def update_me(db: Database, principal: Principal, *, display_name: str | None) -> Me:
    """Change the caller's display name."""
    with db.transaction() as tx:
        user = users.set_display_name(tx, caller(tx, principal).id, display_name)
        return Me(user=user, families=families.families_of(tx, user.id))
