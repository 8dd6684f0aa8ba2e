"""``/v1/me``: the caller."""

from __future__ import annotations

from flask import Blueprint

from service.api.schemas import MeOut, MePatch
from service.http import current_database, current_principal, endpoint
from service.use_cases import me as uc

bp = Blueprint("me", __name__, url_prefix="/v1")


@endpoint(bp, "GET", "/me", response=MeOut, summary="Who am I", tags=["me"])
def get_me() -> uc.Me:
    """The caller's profile and the families they belong to (with their role)."""
    return (uc.get_me(current_database(), current_principal()))


@endpoint(bp, "PATCH", "/me", body=MePatch, response=MeOut, summary="Update my profile",
          tags=["me"])
def patch_me(*, body: MePatch) -> uc.Me:
    """Change the caller's display name."""
    return (uc.update_me(current_database(), current_principal(),
                            display_name=body.display_name))

