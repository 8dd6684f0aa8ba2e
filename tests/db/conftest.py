"""Fixtures of the database tests (the plugin may also be registered at the root)."""

from __future__ import annotations

from tests.fixtures.postgres import *  # noqa: F403
