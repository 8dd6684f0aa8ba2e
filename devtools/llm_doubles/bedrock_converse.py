"""A local Bedrock Runtime speaking ``Converse`` (``POST /model/{modelId}/converse``).

Request and response shapes follow botocore's ``bedrock-runtime`` service model
(restJson1): ``messages`` of ``user``/``assistant`` roles with ``text``, ``toolUse`` and
``toolResult`` blocks, ``system``, ``inferenceConfig``, ``toolConfig``,
``guardrailConfig``; the answer has ``output.message``, ``stopReason``, ``usage`` and
``metrics``. It refuses what Bedrock refuses and adapters get wrong: roles that do not
alternate or a conversation not starting with the user, empty or blank text, tool
results that do not answer the previous turn's tool uses one for one, tool blocks
without ``toolConfig``, a missing SigV4 signature, an unexpected model id. Errors are
``x-amzn-ErrorType`` + ``{"message"}`` as the real service sends them.

Point boto3 at it: ``boto3.client("bedrock-runtime", endpoint_url=double.url, ...)``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from itertools import count
from typing import Any
from urllib.parse import unquote

from devtools.llm_doubles.script import ModelBehaviour, Observed
from devtools.llm_doubles.server import ModelDouble, ProtocolError, WireProtocol, WireResponse

_PATH = re.compile(r"^/model/(?P<model>[^/?]+)/converse(?:\?.*)?$")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_STOP = {
    "end_turn": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    "filtered": "guardrail_intervened",
}
_BLOCKS = frozenset({"text", "toolUse", "toolResult", "image", "document", "guardContent"})


def _invalid(message: str) -> ProtocolError:
    return ProtocolError(400, "ValidationException", message)


class ConverseProtocol(WireProtocol):
    """The ``Converse`` wire layer over a scripted model."""

    def __init__(
        self,
        model: ModelBehaviour,
        *,
        model_id: str | None = None,
        guardrail: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(model)
        self.model_id = model_id
        self.guardrail = guardrail
        self._ids = count(1)

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], raw: bytes
    ) -> tuple[Mapping[str, Any], float]:
        """Answer one ``Converse`` call."""
        match = _PATH.match(path)
        if method != "POST" or match is None:
            raise ProtocolError(404, "UnknownOperationException", f"No operation at {path}")
        if not headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 "):
            raise ProtocolError(403, "AccessDeniedException", "Missing SigV4 authentication")
        model_id = unquote(match.group("model"))
        if self.model_id is not None and model_id != self.model_id:
            raise _invalid("The provided model identifier is invalid.")
        try:
            body = json.loads(raw)
        except ValueError as error:
            raise _invalid("The request body is not JSON.") from error
        if not isinstance(body, dict):
            raise _invalid("The request body must be an object.")
        max_tokens = self._check(body)
        reply = self.model.next_reply(
            Observed(
                system=tuple(block.get("text", "") for block in body.get("system", [])),
                tool_names=tuple(
                    tool["toolSpec"]["name"] for tool in body.get("toolConfig", {}).get("tools", [])
                ),
                tool_results=_last_tool_results(body["messages"]),
                max_tokens=max_tokens,
                user_text=" ".join(
                    str(block["text"])
                    for block in body["messages"][-1]["content"]
                    if "text" in block
                ),
            )
        )
        content: list[dict[str, Any]] = []
        if reply.text:
            content.append({"text": reply.text})
        for call in reply.calls:
            # Converse carries tool input as a JSON document; text that is not JSON is
            # sent as a JSON string, the closest a Bedrock model comes to it.
            tool_input = call.raw_arguments if call.raw_arguments is not None else call.arguments
            content.append(
                {
                    "toolUse": {
                        "toolUseId": f"tooluse_double{next(self._ids):06d}",
                        "name": call.name,
                        "input": tool_input,
                    }
                }
            )
        input_tokens = max(1, len(raw) // 4)
        return (
            {
                "output": {"message": {"role": "assistant", "content": content}},
                "stopReason": _STOP[reply.stop],
                "usage": {
                    "inputTokens": input_tokens,
                    "outputTokens": reply.output_tokens,
                    "totalTokens": input_tokens + reply.output_tokens,
                },
                "metrics": {"latencyMs": 1},
            },
            reply.delay,
        )

    def error_response(self, error: ProtocolError) -> WireResponse:
        """``x-amzn-ErrorType`` header and a ``message`` body."""
        return WireResponse(
            error.status, {"message": error.message}, {"x-amzn-ErrorType": error.code}
        )

    def _check(self, body: Mapping[str, Any]) -> int | None:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _invalid("messages must be a non-empty list")
        uses_tools = False
        previous_uses: list[str] = []
        for index, message in enumerate(messages):
            role = message.get("role")
            expected = "user" if index % 2 == 0 else "assistant"
            if role != expected:
                raise _invalid(
                    "A conversation must start with a user message and alternate user and "
                    f"assistant roles (messages.{index}.role is {role!r})."
                )
            blocks = message.get("content")
            if not isinstance(blocks, list) or not blocks:
                raise _invalid(f"messages.{index}.content must be a non-empty list")
            uses: list[str] = []
            results: list[str] = []
            for position, block in enumerate(blocks):
                where = f"messages.{index}.content.{position}"
                if not isinstance(block, dict) or len(block) != 1 or not block.keys() <= _BLOCKS:
                    raise _invalid(f"{where} must be exactly one known content block")
                if "text" in block and not str(block["text"]).strip():
                    raise _invalid(
                        f"The text field in the ContentBlock object at {where} is blank."
                    )
                if "toolUse" in block:
                    if role != "assistant":
                        raise _invalid(f"{where}: toolUse blocks belong to assistant messages")
                    uses.append(_tool_use_id(block["toolUse"], where))
                if "toolResult" in block:
                    if role != "user":
                        raise _invalid(f"{where}: toolResult blocks belong to user messages")
                    results.append(_tool_result_id(block["toolResult"], where))
            uses_tools = uses_tools or bool(uses or results)
            if role == "user" and sorted(results) != sorted(previous_uses):
                raise _invalid(
                    f"messages.{index}: the toolResult blocks must answer each toolUse of the "
                    "previous turn exactly once."
                )
            previous_uses = uses if role == "assistant" else []
        if messages[-1].get("role") != "user":
            raise _invalid("The last message must be a user message.")
        tools = _check_tool_config(body.get("toolConfig"))
        if uses_tools and not tools:
            raise _invalid(
                "The toolConfig field must be defined when using toolUse and toolResult "
                "content blocks."
            )
        self._check_guardrail(body.get("guardrailConfig"))
        return _max_tokens(body.get("inferenceConfig"))

    def _check_guardrail(self, config: Any) -> None:
        if config is None:
            if self.guardrail is not None:
                raise _invalid("This double expects a guardrailConfig on every call.")
            return
        identifier = config.get("guardrailIdentifier")
        version = config.get("guardrailVersion")
        if not identifier or not version:
            raise _invalid("guardrailConfig needs guardrailIdentifier and guardrailVersion")
        if self.guardrail is not None and (identifier, version) != self.guardrail:
            raise ProtocolError(404, "ResourceNotFoundException", "The guardrail was not found.")


def _tool_use_id(use: Mapping[str, Any], where: str) -> str:
    if not isinstance(use.get("toolUseId"), str) or not _TOOL_NAME.match(str(use.get("name"))):
        raise _invalid(f"{where}.toolUse needs a toolUseId and a valid name")
    if "input" not in use:
        raise _invalid(f"{where}.toolUse needs an input")
    return str(use["toolUseId"])


def _tool_result_id(result: Mapping[str, Any], where: str) -> str:
    content = result.get("content")
    if not isinstance(result.get("toolUseId"), str) or not isinstance(content, list):
        raise _invalid(f"{where}.toolResult needs a toolUseId and content")
    if result.get("status", "success") not in ("success", "error"):
        raise _invalid(f"{where}.toolResult.status must be success or error")
    for block in content:
        if not isinstance(block, dict) or len(block) != 1 or not {"json", "text"} >= block.keys():
            raise _invalid(f"{where}.toolResult content blocks must be json or text")
    return str(result["toolUseId"])


def _check_tool_config(config: Any) -> list[str]:
    if config is None:
        return []
    tools = config.get("tools")
    if not isinstance(tools, list) or not tools:
        raise _invalid("toolConfig.tools must be a non-empty list")
    names: list[str] = []
    for index, tool in enumerate(tools):
        spec = tool.get("toolSpec") if isinstance(tool, dict) else None
        if not isinstance(spec, dict) or not _TOOL_NAME.match(str(spec.get("name"))):
            raise _invalid(f"toolConfig.tools.{index}.toolSpec needs a valid name")
        schema = spec.get("inputSchema", {}).get("json")
        if not isinstance(schema, dict):
            raise _invalid(f"toolConfig.tools.{index}.toolSpec.inputSchema.json must be an object")
        names.append(str(spec["name"]))
    if len(set(names)) != len(names):
        raise _invalid("toolConfig.tools has duplicate names")
    return names


def _max_tokens(config: Any) -> int | None:
    if config is None:
        return None
    value = config.get("maxTokens")
    if value is None:
        return None
    if not isinstance(value, int) or value < 1:
        raise _invalid("inferenceConfig.maxTokens must be a positive integer")
    return value


def _last_tool_results(messages: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    texts: list[str] = []
    for block in messages[-1].get("content", []):
        result = block.get("toolResult")
        if result is None:
            continue
        for part in result.get("content", []):
            texts.append(part["text"] if "text" in part else json.dumps(part.get("json")))
    return tuple(texts)


def bedrock_double(
    model: ModelBehaviour,
    *,
    model_id: str | None = None,
    guardrail: tuple[str, str] | None = None,
    port: int = 0,
) -> ModelDouble:
    """A (not yet started) local ``Converse`` endpoint playing ``model``."""
    return ModelDouble(ConverseProtocol(model, model_id=model_id, guardrail=guardrail), port=port)
