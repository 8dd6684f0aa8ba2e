"""Fixtures: a sandbox bank server per test (port 0, so xdist workers never collide)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.banking.sandbox_env import SandboxEnv, make_env


@pytest.fixture
def env() -> Iterator[SandboxEnv]:
    sandbox, server = make_env()
    try:
        yield sandbox
    finally:
        sandbox.client.close()
        server.stop()
