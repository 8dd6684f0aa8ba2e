"""The provider port: one model turn in, assistant text and/or tool calls out.

Adapters: :class:`service.chat.bedrock.BedrockConverseModel` (Bedrock Runtime
Converse) and :class:`service.chat.openai_compat.OpenAICompatibleModel` (any
OpenAI-compatible chat completions server). Both take their client or connection pool
injected, so tests point a real client at a local double instead of patching.
"""

from __future__ import annotations

from typing import Protocol

from service.chat.messages import ModelRequest, ModelTurn


class ChatModel(Protocol):
    """A model that answers one request with one turn."""

    def complete(self, request: ModelRequest, *, timeout: float) -> ModelTurn:
        """Send ``request`` and return the model's turn.

        Parameters
        ----------
        request
            The redacted request; adapters send it as it is.
        timeout
            Seconds left in the caller's budget; an adapter never waits longer than the
            smaller of this and its own configured timeouts where its client allows a
            per-call bound (the Bedrock client's timeouts are fixed when it is built).

        Raises
        ------
        ProviderTimeoutError
            No answer in time.
        ProviderUnavailableError
            The provider could not be reached or is throttling.
        ProviderError
            Any other failure, including an answer we cannot parse.
        """
        ...
