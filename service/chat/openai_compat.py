"""Adapter: OpenAI-compatible chat completions with tools, over HTTP.

Works with any server of that protocol (Ollama, llama.cpp's server, vLLM, hosted
endpoints): ``POST {base_url}/chat/completions`` where ``base_url`` ends where the
OpenAI SDK's does (``http://127.0.0.1:11434/v1``). The HTTP client is urllib3 (already
in the Lambda runtime under botocore), given a connection pool that may be injected,
explicit connect/read timeouts capped by the caller's remaining budget, and retries of
connection failures only (a POST that reached the server is never sent twice).

Mapping: the system prompt is the only ``system`` message; member messages are
``user`` messages; tool results are ``tool`` messages (JSON text) answering the
assistant's ``tool_calls`` by id. ``max_tokens`` is used for the output bound, as the
local servers read it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import urllib3
from urllib3.exceptions import HTTPError, MaxRetryError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError

from service.chat.exceptions import ProviderError, ProviderTimeoutError, ProviderUnavailableError
from service.chat.messages import (
    AssistantMessage,
    Message,
    ModelRequest,
    ModelTurn,
    StopReason,
    TokenUsage,
    ToolCall,
    ToolResultsMessage,
    UserMessage,
)

_FINISH_REASONS = {
    "stop": StopReason.END_TURN,
    "tool_calls": StopReason.TOOL_USE,
    "function_call": StopReason.TOOL_USE,
    "length": StopReason.MAX_TOKENS,
    "content_filter": StopReason.CONTENT_FILTERED,
}
_UNAVAILABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
_MAX_RESPONSE_BYTES = 4 * 1024 * 1024


class OpenAICompatibleModel:
    """The provider port over OpenAI-compatible chat completions.

    Parameters
    ----------
    base_url
        Up to and including the API version segment, e.g. ``http://127.0.0.1:8080/v1``.
    model
        The model name the server knows.
    api_key
        Sent as ``Authorization: Bearer``; ``None`` for local servers without one.
    pool
        Connection pool; a fresh :class:`urllib3.PoolManager` unless given.
    connect_timeout, read_timeout
        Seconds; the read timeout is further capped by each call's ``timeout``.
    connect_retries
        Retries of a connection that could not be opened (the request was not sent).
    temperature
        Sampling temperature; low, since answers quote tool figures.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        pool: urllib3.PoolManager | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 20.0,
        connect_retries: int = 2,
        temperature: float = 0.2,
    ) -> None:
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        self._api_key = api_key
        self._pool = pool or urllib3.PoolManager()
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._retries = urllib3.Retry(
            total=connect_retries,
            connect=connect_retries,
            read=0,
            status=0,
            other=0,
            redirect=0,
            backoff_factor=0.2,
            raise_on_status=False,
        )
        self._temperature = temperature

    def __repr__(self) -> str:
        return f"OpenAICompatibleModel(url={self._url!r}, model={self._model!r})"

    def complete(self, request: ModelRequest, *, timeout: float) -> ModelTurn:
        """Send one chat completion, waiting at most ``timeout`` seconds for the answer."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        budget = max(0.001, min(timeout, self._read_timeout))
        try:
            response = self._pool.request(
                "POST",
                self._url,
                body=json.dumps(self.request_body(request)).encode(),
                headers=headers,
                timeout=urllib3.Timeout(
                    connect=min(self._connect_timeout, budget), read=budget, total=budget
                ),
                retries=self._retries,
                redirect=False,
                preload_content=False,
            )
            try:
                payload = response.read(_MAX_RESPONSE_BYTES + 1)
                if len(payload) > _MAX_RESPONSE_BYTES:
                    response.close()  # never reuse a connection with an unread body
            finally:
                response.release_conn()
        except MaxRetryError as error:
            # NewConnectionError subclasses urllib3's TimeoutError: test for it first.
            if isinstance(error.reason, Urllib3TimeoutError) and not isinstance(
                error.reason, NewConnectionError
            ):
                raise ProviderTimeoutError("The model server did not answer in time.") from error
            raise ProviderUnavailableError("The model server could not be reached.") from error
        except NewConnectionError as error:
            raise ProviderUnavailableError("The model server could not be reached.") from error
        except Urllib3TimeoutError as error:
            raise ProviderTimeoutError("The model server did not answer in time.") from error
        except HTTPError as error:
            raise ProviderError(f"The model call failed ({type(error).__name__}).") from error
        status = response.status
        if status >= 400:
            kind = ProviderUnavailableError if status in _UNAVAILABLE_STATUSES else ProviderError
            raise kind(f"The model server answered HTTP {status}.", status=status)
        if len(payload) > _MAX_RESPONSE_BYTES:
            raise ProviderError("The model server's answer is too large.", status=status)
        try:
            document = json.loads(payload)
        except ValueError as error:
            raise ProviderError("The model server's answer is not JSON.") from error
        return parse_chat_completion(document)

    def request_body(self, request: ModelRequest) -> dict[str, Any]:
        """The JSON body of the chat completion call for ``request``."""
        messages: list[dict[str, Any]] = [{"role": "system", "content": request.system}]
        for message in request.messages:
            messages.extend(_messages(message))
        body: dict[str, Any] = {
            "model": self._model,
            "messages": messages,
            "max_tokens": request.max_output_tokens,
            "temperature": self._temperature,
            "stream": False,
        }
        if request.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": dict(tool.input_schema),
                    },
                }
                for tool in request.tools
            ]
            body["tool_choice"] = "auto"
        return body


def _messages(message: Message) -> list[dict[str, Any]]:
    if isinstance(message, UserMessage):
        return [{"role": "user", "content": message.text}]
    if isinstance(message, ToolResultsMessage):
        return [
            {"role": "tool", "tool_call_id": result.call_id, "content": json.dumps(result.content)}
            for result in message.results
        ]
    return [_assistant(message)]


def _assistant(message: AssistantMessage) -> dict[str, Any]:
    # content may be null only beside tool calls; some servers refuse it otherwise
    content = message.text or (None if message.tool_calls else "")
    out: dict[str, Any] = {"role": "assistant", "content": content}
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": call.call_id,
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
            for call in message.tool_calls
        ]
    return out


def parse_chat_completion(document: Any) -> ModelTurn:
    """A :class:`ModelTurn` from a chat completion response body."""
    try:
        choice = document["choices"][0]
        message = choice["message"]
        calls = tuple(
            _tool_call(raw, index) for index, raw in enumerate(message.get("tool_calls") or ())
        )
        usage = document.get("usage") or {}
        return ModelTurn(
            text=str(message.get("content") or ""),
            tool_calls=calls,
            stop_reason=_FINISH_REASONS.get(str(choice.get("finish_reason")), StopReason.OTHER),
            usage=TokenUsage(
                input_tokens=int(usage.get("prompt_tokens") or 0),
                output_tokens=int(usage.get("completion_tokens") or 0),
            ),
        )
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
        raise ProviderError("The model server's answer has an unexpected shape.") from error


def _tool_call(raw: Mapping[str, Any], index: int) -> ToolCall:
    function = raw["function"]
    arguments = function.get("arguments")
    # Some servers omit the id; the tool message must still answer the call by one.
    call_id = str(raw.get("id") or f"call_{index}")
    name = str(function["name"])
    if isinstance(arguments, str):
        try:
            return ToolCall(call_id, name, json.loads(arguments) if arguments.strip() else {})
        except ValueError:
            return ToolCall(call_id, name, None, raw_arguments=arguments)
    # Some servers send the arguments as an object rather than a JSON string.
    return ToolCall(call_id, name, arguments if arguments is not None else {})
