"""A local OpenAI-compatible server: ``POST /v1/chat/completions`` with tools.

Shapes follow the chat completions API as OpenAI, vLLM, llama.cpp and Ollama serve it:
``messages`` with ``system``/``user``/``assistant``/``tool`` roles, assistant
``tool_calls`` (``function.arguments`` a JSON *string*), ``tool`` messages answering
them by ``tool_call_id``; ``tools`` of ``type: function``. The answer is a
``chat.completion`` with one choice, ``finish_reason`` and ``usage``. It refuses what
those servers refuse: a ``tool`` message that answers no pending call, an assistant
``tool_calls`` message not followed by one ``tool`` message per call, a wrong or
missing API key when one is set. Errors are ``{"error": {message, type, code}}``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from itertools import count
from typing import Any

from devtools.llm_doubles.script import ModelBehaviour, Observed
from devtools.llm_doubles.server import ModelDouble, ProtocolError, WireProtocol, WireResponse

_PATH = re.compile(r"^/v1/chat/completions(?:\?.*)?$")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_FINISH = {
    "end_turn": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "filtered": "content_filter",
}


def _invalid(message: str) -> ProtocolError:
    return ProtocolError(400, "invalid_request_error", message)


class ChatCompletionsProtocol(WireProtocol):
    """The chat completions wire layer over a scripted model."""

    def __init__(
        self, model: ModelBehaviour, *, api_key: str | None = None, model_name: str | None = None
    ) -> None:
        super().__init__(model)
        self.api_key = api_key
        self.model_name = model_name
        self._ids = count(1)

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], raw: bytes
    ) -> tuple[Mapping[str, Any], float]:
        """Answer one chat completion."""
        if method != "POST" or not _PATH.match(path):
            raise ProtocolError(404, "not_found", f"Unknown route {method} {path}")
        if self.api_key is not None and headers.get("Authorization") != f"Bearer {self.api_key}":
            raise ProtocolError(401, "invalid_api_key", "Incorrect API key provided.")
        try:
            body = json.loads(raw)
        except ValueError as error:
            raise _invalid("We could not parse the JSON body of your request.") from error
        if not isinstance(body, dict):
            raise _invalid("The request body must be a JSON object.")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise _invalid("you must provide a model parameter")
        if self.model_name is not None and model != self.model_name:
            raise ProtocolError(404, "model_not_found", f"The model {model!r} does not exist.")
        if body.get("stream"):
            raise _invalid("This double does not stream.")
        messages: list[Mapping[str, Any]] = _check_messages(body.get("messages"))
        tool_names = _check_tools(body.get("tools"))
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            raise _invalid("max_tokens must be a positive integer")
        reply = self.model.next_reply(
            Observed(
                system=tuple(
                    str(m.get("content"))
                    for m in messages
                    if m.get("role") in ("system", "developer")
                ),
                tool_names=tuple(tool_names),
                tool_results=_trailing_tool_results(messages),
                max_tokens=max_tokens,
                user_text=str(messages[-1].get("content") or "")
                if messages[-1].get("role") == "user"
                else "",
            )
        )
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        if reply.calls:
            message["tool_calls"] = [
                {
                    "id": f"call_double{next(self._ids):06d}",
                    "type": "function",
                    "function": {
                        "name": call.name,
                        "arguments": (
                            call.raw_arguments
                            if call.raw_arguments is not None
                            else json.dumps(call.arguments)
                        ),
                    },
                }
                for call in reply.calls
            ]
        prompt_tokens = max(1, len(raw) // 4)
        return (
            {
                "id": f"chatcmpl-double{next(self._ids):06d}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": _FINISH[reply.stop]}],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": reply.output_tokens,
                    "total_tokens": prompt_tokens + reply.output_tokens,
                },
            },
            reply.delay,
        )

    def error_response(self, error: ProtocolError) -> WireResponse:
        """OpenAI's error envelope."""
        kind = "invalid_request_error" if error.status < 500 else "server_error"
        return WireResponse(
            error.status,
            {"error": {"message": error.message, "type": kind, "param": None, "code": error.code}},
            {},
        )


def _check_messages(messages: Any) -> list[Mapping[str, Any]]:
    if not isinstance(messages, list) or not messages:
        raise _invalid("messages must be a non-empty array")
    pending: list[str] = []
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in _ROLES:
            raise _invalid(f"messages[{index}].role must be one of {sorted(_ROLES)}")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in pending:
                raise _invalid(
                    f"messages[{index}]: messages with role 'tool' must be a response to a "
                    "preceding message with 'tool_calls'."
                )
            pending.remove(call_id)
            if not isinstance(message.get("content"), str):
                raise _invalid(f"messages[{index}].content must be a string")
            continue
        if pending:
            raise _invalid(
                "An assistant message with 'tool_calls' must be followed by tool messages "
                f"responding to each 'tool_call_id'. Missing: {pending}"
            )
        if role == "assistant" and message.get("tool_calls"):
            for call in message["tool_calls"]:
                function = call.get("function", {})
                if call.get("type") != "function" or not isinstance(function.get("arguments"), str):
                    raise _invalid(f"messages[{index}].tool_calls: arguments must be a string")
                pending.append(str(call.get("id")))
        elif not isinstance(message.get("content"), str):
            raise _invalid(f"messages[{index}].content must be a string")
    if pending:
        raise _invalid(f"tool_calls without responses: {pending}")
    return messages


def _check_tools(tools: Any) -> list[str]:
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise _invalid("tools must be an array")
    names: list[str] = []
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if tool.get("type") != "function" or not isinstance(function, dict):
            raise _invalid(f"tools[{index}] must be a function tool")
        if not _TOOL_NAME.match(str(function.get("name"))):
            raise _invalid(f"tools[{index}].function.name is invalid")
        if not isinstance(function.get("parameters", {}), dict):
            raise _invalid(f"tools[{index}].function.parameters must be an object")
        names.append(str(function["name"]))
    return names


def _trailing_tool_results(messages: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    texts: list[str] = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        texts.append(str(message.get("content")))
    return tuple(reversed(texts))


def openai_double(
    model: ModelBehaviour,
    *,
    api_key: str | None = None,
    model_name: str | None = None,
    port: int = 0,
) -> ModelDouble:
    """A (not yet started) local chat completions server playing ``model``.

    Its base URL for clients is ``double.url + "/v1"``.
    """
    return ModelDouble(
        ChatCompletionsProtocol(model, api_key=api_key, model_name=model_name), port=port
    )
