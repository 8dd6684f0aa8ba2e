"""Which model the assistant uses and within which bounds, from settings or SSM.

Precedence (one place): in AWS the AI-settings parameter's JSON (``provider``,
``model``, ``base_url``, ``max_output_tokens``, ``max_tool_rounds``, ``timeout_seconds``)
over the environment's ``CHAT_*`` settings over the defaults below. Chat is off when no
provider results; the API then answers 503 with :data:`CHAT_OFF_DETAIL`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.settings import CHAT_PROVIDERS, Settings, SettingsError

CHAT_OFF_DETAIL = (
    "The money assistant is turned off on this server. To turn it on, set CHAT_PROVIDER="
    "openai with CHAT_BASE_URL (an OpenAI-compatible server, e.g. "
    "http://127.0.0.1:8089/v1 from `python -m devtools.llm_doubles openai`) and "
    "CHAT_MODEL, or CHAT_PROVIDER=bedrock with CHAT_MODEL, and restart; in AWS set "
    "\"provider\" in the AI-settings parameter. See the README, 'Money assistant'."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatConfig:
    """The resolved chat configuration (``provider`` ``None``: chat off)."""

    provider: str | None
    model: str | None = None
    base_url: str | None = None
    api_key_secret_arn: str | None = None
    guardrail_id: str | None = None
    guardrail_version: str | None = None
    max_output_tokens: int = 1024
    max_tool_rounds: int = 4
    timeout_seconds: float = 20.0
    retention_days: int = 30
    daily_messages: int = 50

    @property
    def enabled(self) -> bool:
        """Whether a provider is configured."""
        return self.provider is not None


def chat_config(settings: Settings, ai_settings: str | None = None) -> ChatConfig:
    """Resolve the configuration; ``ai_settings`` is the parameter's JSON text (AWS).

    Raises
    ------
    SettingsError
        The parameter is not a JSON object or names an unknown provider, or the
        OpenAI-compatible provider lacks a base URL or model.
    """
    document: Mapping[str, Any] = {}
    if ai_settings:
        try:
            document = json.loads(ai_settings)
        except ValueError as error:
            raise SettingsError("The AI-settings parameter is not JSON.") from error
        if not isinstance(document, Mapping):
            raise SettingsError("The AI-settings parameter must be a JSON object.")
    provider = str(document.get("provider") or settings.chat_provider or "").lower() or None
    if provider not in (None, *CHAT_PROVIDERS):
        raise SettingsError(f"Unknown chat provider {provider!r}.")
    config = ChatConfig(
        provider=provider,
        model=str(document.get("model") or settings.chat_model or "") or None,
        base_url=str(document.get("base_url") or settings.chat_base_url or "") or None,
        api_key_secret_arn=settings.chat_api_key_secret_arn,
        guardrail_id=settings.chat_guardrail_id,
        guardrail_version=settings.chat_guardrail_version,
        max_output_tokens=int(document.get("max_output_tokens", 1024)),
        max_tool_rounds=int(document.get("max_tool_rounds", 4)),
        timeout_seconds=float(document.get("timeout_seconds", settings.chat_timeout_seconds)),
        retention_days=settings.chat_retention_days,
        daily_messages=settings.chat_daily_messages,
    )
    if config.enabled and not config.model:
        raise SettingsError("The chat provider needs a model (CHAT_MODEL or \"model\").")
    if config.provider == "openai" and not config.base_url:
        raise SettingsError("CHAT_PROVIDER=openai needs CHAT_BASE_URL (or \"base_url\").")
    return config
