"""The /v1 resources of the platform API (engineer E2's blueprints).

:func:`register_blueprints` is called by :func:`service.app.create_app`; ``health`` is
registered separately by the platform.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Register every /v1 blueprint on ``app``."""
    # Imported here so importing ``service.api`` stays cheap (Lambda cold start).
    # ruff: noqa: PLC0415
    from service.api.accounts import bp as accounts
    from service.api.audit import bp as audit
    from service.api.connections import bp as connections
    from service.api.families import bp as families
    from service.api.insights import bp as insights
    from service.api.invitations import bp as invitations
    from service.api.me import bp as me
    from service.api.members import bp as members
    from service.api.transactions import bp as transactions
    from service.api.webhooks import bp as webhooks

    for blueprint in (me, families, invitations, members, accounts, transactions, audit,
                      connections, insights, webhooks):
        app.register_blueprint(blueprint)
