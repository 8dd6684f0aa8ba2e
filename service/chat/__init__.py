"""The chat foundation: provider port and adapters, the bounded assistant loop, tools.

Wiring (done by the API, not here): build a :class:`ChatModel` adapter from settings,
a :class:`ToolRegistry` of the read-only tools, an :class:`Assistant` with the
configured :class:`AssistantLimits`; per message, a :class:`ToolContext` from the
verified principal and the stored conversation, then :meth:`Assistant.reply`.
"""

from service.chat.assistant import SYSTEM_PROMPT, Assistant, AssistantLimits, AssistantReply
from service.chat.exceptions import (
    AssistantError,
    AssistantTimeoutError,
    ChatError,
    OutputTokenLimitError,
    ProviderError,
    ProviderFailedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    ToolDefinitionError,
    ToolRoundLimitError,
)
from service.chat.handles import AccountHandle, HandleTable, UnknownHandleError
from service.chat.messages import (
    AssistantMessage,
    Message,
    ModelRequest,
    ModelTurn,
    StopReason,
    TokenUsage,
    ToolCall,
    ToolResult,
    ToolResultsMessage,
    ToolSpec,
    UserMessage,
)
from service.chat.port import ChatModel
from service.chat.redaction import Redactor
from service.chat.tools import Tool, ToolContext, ToolRegistry, ToolRun

__all__ = [
    "SYSTEM_PROMPT",
    "AccountHandle",
    "Assistant",
    "AssistantError",
    "AssistantLimits",
    "AssistantMessage",
    "AssistantReply",
    "AssistantTimeoutError",
    "ChatError",
    "ChatModel",
    "HandleTable",
    "Message",
    "ModelRequest",
    "ModelTurn",
    "OutputTokenLimitError",
    "ProviderError",
    "ProviderFailedError",
    "ProviderTimeoutError",
    "ProviderUnavailableError",
    "Redactor",
    "StopReason",
    "TokenUsage",
    "Tool",
    "ToolCall",
    "ToolContext",
    "ToolDefinitionError",
    "ToolRegistry",
    "ToolResult",
    "ToolResultsMessage",
    "ToolRoundLimitError",
    "ToolRun",
    "ToolSpec",
    "UnknownHandleError",
    "UserMessage",
]
