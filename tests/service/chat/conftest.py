"""Fixtures of the chat API tests (the rig itself is in ``rig.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.settings import Settings
from tests.service.chat.rig import ChatRig, build_rig


@pytest.fixture
def chat_settings(settings: Settings) -> Settings:
    """Base settings of the chat tests (tests may ``replace`` fields)."""
    return settings


@pytest.fixture(params=["bedrock", "openai"])
def rig(request: pytest.FixtureRequest, chat_settings: Settings,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatRig]:
    """The chat app on the provider of this run."""
    yield from build_rig(request.param, chat_settings, monkeypatch)


@pytest.fixture
def openai_rig(chat_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatRig]:
    """The chat app on the OpenAI-compatible double only (provider-neutral tests)."""
    yield from build_rig("openai", chat_settings, monkeypatch)
