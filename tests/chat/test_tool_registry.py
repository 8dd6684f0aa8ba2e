"""Tool registration refuses tenant-id inputs; running a call never raises."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from pydantic import BaseModel, ConfigDict, Field

from service.chat import (
    AccountHandle,
    HandleTable,
    Tool,
    ToolCall,
    ToolContext,
    ToolDefinitionError,
    ToolRegistry,
    UnknownHandleError,
)
from service.domain.errors import NotFoundError
from tests.chat.conftest import alice_context


def echo(_: ToolContext, parsed: BaseModel) -> dict[str, Any]:
    return parsed.model_dump(mode="json")


def tool_with(model: type[BaseModel], name: str = "test_tool") -> Tool[Any]:
    return Tool(name, "TEST TOOL", model, echo)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FamilyId(Strict):
    family_id: str


class CamelUser(Strict):
    userId: str  # noqa: N815


class AccountIds(Strict):
    account_ids: list[str]


class AnyUuid(Strict):
    parent: UUID


class Nested(Strict):
    member_id: str


class Outer(Strict):
    filters: Nested


class Principal(Strict):
    principal: str


class Loose(BaseModel):
    text: str


class LooseNested(BaseModel):
    text: str


class OuterLoose(Strict):
    inner: LooseNested


@pytest.mark.parametrize(
    "model", [FamilyId, CamelUser, AccountIds, AnyUuid, Outer, Principal, OuterLoose]
)
def test_inputs_that_could_name_another_tenant_are_refused(model: type[BaseModel]) -> None:
    with pytest.raises(ToolDefinitionError):
        ToolRegistry([tool_with(model)])


def test_a_model_that_accepts_unknown_fields_is_refused() -> None:
    with pytest.raises(ToolDefinitionError, match="extra='forbid'"):
        ToolRegistry([tool_with(Loose)])


class Good(Strict):
    text: str | None = Field(default=None, max_length=50)
    account: AccountHandle | None = None
    limit: int = Field(default=10, ge=1, le=50)


def test_handles_and_filters_are_fine_and_names_are_checked() -> None:
    registry = ToolRegistry([tool_with(Good, "test_search")])
    assert registry.names == ("test_search",)
    [spec] = registry.specs()
    assert spec.input_schema["additionalProperties"] is False
    with pytest.raises(ToolDefinitionError, match="already registered"):
        registry.register(tool_with(Good, "test_search"))
    with pytest.raises(ToolDefinitionError, match="must match"):
        registry.register(tool_with(Good, "bad name!"))


def run(registry: ToolRegistry, arguments: Any, **call: Any) -> dict[str, Any]:
    outcome = registry.run(
        ToolCall("call-1", call.get("name", "test_search"), arguments, call.get("raw")),
        alice_context(),
    )
    return dict(outcome.result.content)


def test_validation_errors_name_fields_but_do_not_echo_values() -> None:
    registry = ToolRegistry([tool_with(Good, "test_search")])
    content = run(registry, {"limit": 500, "account": "3f2c1b5e-0000-4000-8000-000000000001"})
    assert content["error"] == "invalid_input"
    assert {tuple(item["loc"]) for item in content["errors"]} == {("limit",), ("account",)}
    assert "3f2c1b5e" not in repr(content)


def test_handler_failures_become_error_results() -> None:
    def not_found(_: ToolContext, __: BaseModel) -> dict[str, Any]:
        raise NotFoundError("No such account.")

    def unknown_handle(_: ToolContext, __: BaseModel) -> dict[str, Any]:
        raise UnknownHandleError("acct-9")

    def crash(_: ToolContext, __: BaseModel) -> dict[str, Any]:
        raise RuntimeError("secret internals")

    def huge(_: ToolContext, __: BaseModel) -> dict[str, Any]:
        return {"rows": ["x" * 100] * 100}

    registry = ToolRegistry(
        [
            Tool("test_nf", "TEST", Good, not_found),
            Tool("test_uh", "TEST", Good, unknown_handle),
            Tool("test_crash", "TEST", Good, crash),
            Tool("test_huge", "TEST", Good, huge),
        ],
        max_result_chars=2_000,
    )
    assert run(registry, {}, name="test_nf") == {
        "error": "NotFoundError",
        "detail": "No such account.",
    }
    assert run(registry, {}, name="test_uh")["error"] == "unknown_handle"
    crashed = run(registry, {}, name="test_crash")
    assert crashed["error"] == "tool_failed" and "secret" not in crashed["detail"]
    assert run(registry, {}, name="test_huge")["error"] == "result_too_large"


def test_handle_table() -> None:
    table = HandleTable()
    first = table.issue("acct", "id-1")
    assert first == "acct-1"
    assert table.issue("acct", "id-2") == "acct-2"
    assert table.issue("acct", "id-1") == "acct-1"  # stable
    assert table.issue("conn", "id-1") == "conn-1"
    assert table.resolve("acct", "acct-2") == "id-2"
    with pytest.raises(UnknownHandleError):
        table.resolve("conn", "acct-2")  # right handle, wrong kind
    with pytest.raises(UnknownHandleError):
        table.resolve("acct", "acct-3")
    restored = HandleTable.from_dict(table.to_dict())
    assert restored.resolve("acct", "acct-1") == "id-1"
    assert restored.issue("acct", "id-3") == "acct-3"
    with pytest.raises(ValueError):
        HandleTable({"not a handle": "x"})
