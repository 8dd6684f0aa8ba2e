"""Tools the model may call, bound by the server to the caller and the conversation.

A :class:`Tool` is a pydantic input model plus a handler. The handler receives a
:class:`ToolContext` built by the server from the authenticated principal and the
stored conversation, and the validated input; nothing the model sends can change whose
data a tool reads. :class:`ToolRegistry` enforces that at registration: an input model
must forbid unknown fields and may not have a field that names a family, user, member,
account or other tenant id, nor any UUID-typed field (accounts are named by the handles
of :mod:`service.chat.handles`).

Running a call never raises: an unknown tool, input that is not JSON or fails
validation, an unknown handle, a domain error or a crash of the handler all become an
error :class:`~service.chat.messages.ToolResult` fed back to the model.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

from service.chat.exceptions import ToolDefinitionError
from service.chat.handles import HandleTable, UnknownHandleError
from service.chat.messages import ToolCall, ToolResult, ToolSpec
from service.domain.errors import DomainError
from service.domain.principal import Principal

_log = logging.getLogger("service.chat.tools")

TOOL_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,63}$")
_ID_OWNERS = (
    "family",
    "household",
    "user",
    "member",
    "child",
    "parent",
    "owner",
    "account",
    "connection",
    "consent",
    "tenant",
    "principal",
    "subject",
    "person",
    "customer",
)
_FORBIDDEN_EXACT = frozenset(
    {"principal", "subject", "sub", "iss", "issuer", "tenant", "email", "familyid", "userid"}
)
_ID_SUFFIXES = ("id", "ids", "uuid", "uuids", "key", "arn")

InputT = TypeVar("InputT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class ToolContext:
    """What the server binds to every tool call of one conversation.

    Built by the endpoint from the verified principal and the stored conversation,
    never from model output.
    """

    principal: Principal
    family_id: UUID
    conversation_id: UUID
    handles: HandleTable


ToolHandler = Callable[[ToolContext, InputT], "Mapping[str, Any] | BaseModel"]


@dataclass(frozen=True, slots=True)
class Tool(Generic[InputT]):
    """A read-only tool: its name, what it does (for the model) and how it runs."""

    name: str
    description: str
    input_model: type[InputT]
    handler: ToolHandler[InputT]

    def spec(self) -> ToolSpec:
        """The tool as offered to the model."""
        return ToolSpec(self.name, self.description, self.input_model.model_json_schema())


@dataclass(frozen=True, slots=True)
class ToolRun:
    """One executed call: the result for the model and the record for the audit trail.

    ``audit_name`` is the registered tool's name, or ``"unknown"`` when the model asked
    for a tool that does not exist (model text never reaches the trail).
    """

    result: ToolResult
    audit_name: str

    @property
    def ok(self) -> bool:
        """Whether the tool answered (as opposed to an error result)."""
        return not self.result.is_error


def forbidden_fields(schema: Mapping[str, Any]) -> list[str]:
    """Why a tool input schema could let the model choose whose data a tool reads.

    Returns one message per offending property, looking through nested models: names
    of tenant ids (``family_id``, ``userId``, ``account_ids``, ``principal`` ...), any
    ``format: uuid`` value, and objects that accept properties they do not declare.
    """
    problems: list[str] = []

    def visit(node: Any, path: str) -> None:
        if isinstance(node, Mapping):
            if node.get("format") == "uuid":
                problems.append(f"{path or '<root>'}: UUID values are not allowed")
            if "properties" in node and node.get("additionalProperties") is not False:
                problems.append(f"{path or '<root>'}: must forbid undeclared properties")
            for name in node.get("properties", {}):
                if _names_an_id(str(name)):
                    problems.append(f"{path}{name}: a tool may not take tenant ids")
            for key, child in node.items():
                visit(child, f"{path}{key}." if key in ("properties", "$defs") else path)
        elif isinstance(node, list):
            for child in node:
                visit(child, path)

    visit(schema, "")
    return problems


def _names_an_id(name: str) -> bool:
    flat = re.sub(r"[^a-z0-9]", "", name.lower())
    if flat in _FORBIDDEN_EXACT:
        return True
    return any(flat.endswith(owner + suffix) for owner in _ID_OWNERS for suffix in _ID_SUFFIXES)


class ToolRegistry:
    """The tools of the assistant, checked when registered and run by name.

    Parameters
    ----------
    tools
        Tools to register now.
    max_result_chars
        A result whose JSON is longer becomes an error asking for a narrower call, so
        one tool cannot blow the model's context or the message's input budget.
    """

    def __init__(self, tools: Iterable[Tool[Any]] = (), *, max_result_chars: int = 16_000) -> None:
        self._tools: dict[str, Tool[Any]] = {}
        self._specs: tuple[ToolSpec, ...] = ()
        self._max_result_chars = max_result_chars
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool[Any]) -> None:
        """Add ``tool``; :class:`ToolDefinitionError` if its name or input schema is unsafe."""
        if not TOOL_NAME.match(tool.name):
            raise ToolDefinitionError(f"tool name {tool.name!r} must match {TOOL_NAME.pattern}")
        if tool.name in self._tools:
            raise ToolDefinitionError(f"tool {tool.name!r} is already registered")
        if tool.input_model.model_config.get("extra") != "forbid":
            raise ToolDefinitionError(
                f"tool {tool.name!r}: its input model must set extra='forbid'"
            )
        problems = forbidden_fields(tool.input_model.model_json_schema())
        if problems:
            raise ToolDefinitionError(f"tool {tool.name!r}: " + "; ".join(problems))
        self._tools[tool.name] = tool
        self._specs = (*self._specs, tool.spec())

    @property
    def names(self) -> tuple[str, ...]:
        """Registered tool names, in registration order."""
        return tuple(self._tools)

    def specs(self) -> tuple[ToolSpec, ...]:
        """Every tool as offered to the model (schemas built once, at registration)."""
        return self._specs

    def run(self, call: ToolCall, context: ToolContext) -> ToolRun:
        """Run one call; every failure becomes an error result, never an exception."""
        tool = self._tools.get(call.name)
        if tool is None:
            detail = f"There is no tool named {call.name!r}. Tools: {', '.join(self._tools)}."
            return ToolRun(_error(call, "unknown_tool", detail), "unknown")
        return ToolRun(self._run_known(tool, call, context), tool.name)

    def _run_known(self, tool: Tool[Any], call: ToolCall, context: ToolContext) -> ToolResult:
        if not call.arguments_are_json:
            return _error(call, "invalid_input", "The tool input is not valid JSON.")
        if not isinstance(call.arguments, Mapping):
            return _error(call, "invalid_input", "The tool input must be a JSON object.")
        try:
            parsed = tool.input_model.model_validate(call.arguments)
        except ValidationError as error:
            items = [{"loc": list(item["loc"]), "msg": item["msg"]} for item in error.errors()]
            return _error(call, "invalid_input", "The tool input is not valid.", errors=items)
        try:
            output = tool.handler(context, parsed)
        except UnknownHandleError as error:
            return _error(call, "unknown_handle", str(error))
        except DomainError as error:
            return _error(call, type(error).__name__, error.detail)
        except Exception:
            _log.exception("chat tool failed", extra={"tool": tool.name})
            return _error(call, "tool_failed", "The tool failed. Try a different question.")
        content = to_jsonable_python(
            output.model_dump(mode="json") if isinstance(output, BaseModel) else output
        )
        if not isinstance(content, Mapping):
            _log.error("chat tool returned a non-object", extra={"tool": tool.name})
            return _error(call, "tool_failed", "The tool failed. Try a different question.")
        if len(json.dumps(content)) > self._max_result_chars:
            detail = "The result is too large. Narrow the call (dates, filters, a smaller page)."
            return _error(call, "result_too_large", detail)
        return ToolResult(call.call_id, content)


def _error(call: ToolCall, code: str, detail: str, **extra: Any) -> ToolResult:
    return ToolResult(call.call_id, {"error": code, "detail": detail, **extra}, is_error=True)
