"""Errors of the chat foundation.

Two families: :class:`ProviderError` (one call to the model failed; raised by the
adapters) and :class:`AssistantError` (a member's message could not be answered within
its bounds; raised by the assistant loop). Every ``detail`` is safe to show to the
caller: it never carries provider response bodies, prompts or tool data. The API maps
each :class:`AssistantError` to one problem type through ``problem_slug`` and ``status``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.chat.messages import TokenUsage

if TYPE_CHECKING:
    from service.chat.tools import ToolRun


class ChatError(Exception):
    """Base class of the chat errors; ``detail`` is caller-safe."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ProviderError(ChatError):
    """The model provider failed or answered something we cannot use."""

    def __init__(self, detail: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.status = status


class ProviderTimeoutError(ProviderError):
    """The provider did not answer (connect or read) within the adapter's timeout."""


class ProviderUnavailableError(ProviderError):
    """The provider could not be reached, is throttling us or is temporarily down."""


class AssistantError(ChatError):
    """A message could not be answered within its bounds.

    ``usage`` is what the attempt still cost (for quotas and spend) and ``tool_runs`` the
    tools that did run before it failed (they read data: the audit trail records them
    all the same); ``status`` and ``problem_slug`` say how the API answers it.
    """

    status = 503
    problem_slug = "chat-unavailable"

    def __init__(self, detail: str, *, usage: TokenUsage | None = None) -> None:
        super().__init__(detail)
        self.usage = usage or TokenUsage()
        self.tool_runs: tuple[ToolRun, ...] = ()


class AssistantTimeoutError(AssistantError):
    """The whole answer (every model call and tool run) exceeded the message's time budget."""

    status = 504
    problem_slug = "chat-timeout"


class ToolRoundLimitError(AssistantError):
    """The model still asked for tools after the message's last allowed tool round."""

    status = 422
    problem_slug = "chat-tool-round-limit"


class OutputTokenLimitError(AssistantError):
    """The message's output-token budget was spent before the model gave an answer."""

    status = 422
    problem_slug = "chat-output-token-limit"


class ProviderFailedError(AssistantError):
    """The provider failed (unreachable, throttling, invalid answer); the cause is logged."""

    status = 502
    problem_slug = "chat-provider-failed"


class ToolDefinitionError(ChatError):
    """A tool cannot be registered (a programming error, raised at start-up)."""
