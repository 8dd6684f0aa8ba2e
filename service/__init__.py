"""Family finance platform API (Flask). ``flask --app service`` finds :func:`create_app`."""

# Imports inside functions are deliberate: they keep the Lambda cold start cheap.
# ruff: noqa: PLC0415

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from service.bootstrap import Services
    from service.settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Flask:
    """Build the application (see :func:`service.app.create_app`); imports Flask lazily."""
    from service.app import create_app as _create_app

    return _create_app(settings, services=services)
