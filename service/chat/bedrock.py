"""Adapter: Amazon Bedrock Runtime ``Converse`` with tool use.

The client is a plain boto3 ``bedrock-runtime`` client (see
:func:`bedrock_runtime_client`), so the standard ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``
override and every other botocore setting work as usual; tests pass a client pointed
at the local double with ``endpoint_url=``.

Mapping: the system prompt is the only ``system`` block; member messages are ``text``
blocks of ``user`` messages; tool results are ``toolResult`` blocks (``json`` content,
``status: error`` for error results) of ``user`` messages, so data never becomes a
system instruction. When a guardrail is configured it applies to every call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

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

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

_STOP_REASONS = {
    "end_turn": StopReason.END_TURN,
    "stop_sequence": StopReason.END_TURN,
    "tool_use": StopReason.TOOL_USE,
    "max_tokens": StopReason.MAX_TOKENS,
    "model_context_window_exceeded": StopReason.MAX_TOKENS,
    "guardrail_intervened": StopReason.CONTENT_FILTERED,
    "content_filtered": StopReason.CONTENT_FILTERED,
}
_UNAVAILABLE = frozenset(
    {
        "ThrottlingException",
        "ServiceUnavailableException",
        "ModelNotReadyException",
        "InternalServerException",
        "ServiceQuotaExceededException",
    }
)


@dataclass(frozen=True, slots=True)
class Guardrail:
    """A Bedrock guardrail applied to every call: its id (or ARN) and version."""

    identifier: str
    version: str


def bedrock_runtime_client(
    *,
    region_name: str | None = None,
    connect_timeout: float = 3.0,
    read_timeout: float = 20.0,
    max_attempts: int = 2,
    endpoint_url: str | None = None,
    session: boto3.session.Session | None = None,
) -> BedrockRuntimeClient:
    """A ``bedrock-runtime`` client with explicit timeouts and bounded retries.

    Built the ordinary boto3 way, so ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` and the
    region/credential chain apply. ``max_attempts`` counts every attempt (first call
    included; botocore's standard mode retries throttling, 5xx and timeouts).
    ``read_timeout`` bounds one attempt; keep ``read_timeout * max_attempts`` within the
    assistant's per-message timeout, since botocore has no per-call deadline.
    """
    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        # total_max_attempts counts the first call too (botocore's max_attempts does not).
        retries={"total_max_attempts": max_attempts, "mode": "standard"},
    )
    factory = session or boto3.session.Session()
    return factory.client(
        "bedrock-runtime", region_name=region_name, endpoint_url=endpoint_url, config=config
    )


class BedrockConverseModel:
    """The provider port over Bedrock ``Converse``.

    Parameters
    ----------
    client
        A ``bedrock-runtime`` client (:func:`bedrock_runtime_client`).
    model_id
        A foundation model id, inference profile id or ARN.
    guardrail
        Applied to every call when given.
    temperature
        Sampling temperature; low, since answers quote tool figures.
    """

    def __init__(
        self,
        *,
        client: BedrockRuntimeClient,
        model_id: str,
        guardrail: Guardrail | None = None,
        temperature: float = 0.2,
    ) -> None:
        self._client = client
        self._model_id = model_id
        self._guardrail = guardrail
        self._temperature = temperature

    def complete(self, request: ModelRequest, *, timeout: float) -> ModelTurn:
        """Send one ``Converse`` call (``timeout`` is bounded by the client's own timeouts)."""
        try:
            response = self._client.converse(**self.converse_arguments(request))
        except (ReadTimeoutError, ConnectTimeoutError) as error:
            raise ProviderTimeoutError("Bedrock did not answer in time.") from error
        except EndpointConnectionError as error:
            raise ProviderUnavailableError("Bedrock could not be reached.") from error
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", "ClientError"))
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            kind: type[ProviderError] = ProviderError
            if code in _UNAVAILABLE:
                kind = ProviderUnavailableError
            elif code == "ModelTimeoutException":
                kind = ProviderTimeoutError
            raise kind(f"Bedrock refused the call ({code}).", code=code, status=status) from error
        except BotoCoreError as error:
            raise ProviderError(f"Bedrock call failed ({type(error).__name__}).") from error
        return parse_converse_response(cast("Mapping[str, Any]", response))

    def converse_arguments(self, request: ModelRequest) -> dict[str, Any]:
        """The keyword arguments of ``client.converse`` for ``request``."""
        arguments: dict[str, Any] = {
            "modelId": self._model_id,
            "system": [{"text": request.system}],
            "messages": _alternating([_message(message) for message in request.messages]),
            "inferenceConfig": {
                "maxTokens": request.max_output_tokens,
                "temperature": self._temperature,
            },
        }
        if request.tools:
            arguments["toolConfig"] = {
                "tools": [
                    {
                        "toolSpec": {
                            "name": tool.name,
                            "description": tool.description,
                            "inputSchema": {"json": dict(tool.input_schema)},
                        }
                    }
                    for tool in request.tools
                ],
                "toolChoice": {"auto": {}},
            }
        if self._guardrail is not None:
            arguments["guardrailConfig"] = {
                "guardrailIdentifier": self._guardrail.identifier,
                "guardrailVersion": self._guardrail.version,
                "trace": "disabled",
            }
        return arguments


def _alternating(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge neighbours of the same role, as Converse requires the roles to alternate."""
    # A stored history may end with a member's message that got no answer.
    merged: list[dict[str, Any]] = []
    for message in messages:
        if merged and merged[-1]["role"] == message["role"]:
            merged[-1] = {**merged[-1], "content": [*merged[-1]["content"], *message["content"]]}
        else:
            merged.append(message)
    return merged


def _message(message: Message) -> dict[str, Any]:
    if isinstance(message, UserMessage):
        return {"role": "user", "content": [{"text": message.text}]}
    if isinstance(message, ToolResultsMessage):
        return {
            "role": "user",
            "content": [
                {
                    "toolResult": {
                        "toolUseId": result.call_id,
                        "content": [{"json": dict(result.content)}],
                        "status": "error" if result.is_error else "success",
                    }
                }
                for result in message.results
            ],
        }
    return {"role": "assistant", "content": _assistant_content(message)}


def _assistant_content(message: AssistantMessage) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    if message.text:
        content.append({"text": message.text})
    for call in message.tool_calls:
        # Converse needs a JSON document here; a model's undecodable input goes back
        # as an empty object (its tool result already said the input was invalid).
        arguments = call.arguments if isinstance(call.arguments, Mapping) else {}
        content.append(
            {"toolUse": {"toolUseId": call.call_id, "name": call.name, "input": arguments}}
        )
    if not content:
        content.append({"text": "(no answer)"})
    return content


def parse_converse_response(response: Mapping[str, Any]) -> ModelTurn:
    """A :class:`ModelTurn` from a ``Converse`` response."""
    try:
        blocks = response["output"]["message"]["content"]
        texts: list[str] = []
        calls: list[ToolCall] = []
        for block in blocks:
            if "text" in block:
                texts.append(str(block["text"]))
            elif "toolUse" in block:
                use = block["toolUse"]
                calls.append(ToolCall(str(use["toolUseId"]), str(use["name"]), use.get("input")))
        usage = response.get("usage", {})
        return ModelTurn(
            text="".join(texts),
            tool_calls=tuple(calls),
            stop_reason=_STOP_REASONS.get(str(response.get("stopReason")), StopReason.OTHER),
            usage=TokenUsage(
                input_tokens=int(usage.get("inputTokens", 0)),
                output_tokens=int(usage.get("outputTokens", 0)),
            ),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ProviderError("Bedrock's answer has an unexpected shape.") from error
