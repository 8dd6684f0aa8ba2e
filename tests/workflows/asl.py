"""Run a synthesised bank-sync state machine definition in this process, as Step Functions would.

Only what ``StepWorkflow`` emits is understood -- ``Task`` (``lambda:invoke`` with a
``Payload`` of ``$.`` and ``$$.`` paths, ``ResultSelector``, ``Retry``, ``Catch`` with
``ResultPath``), ``Choice`` on ``BooleanEquals``, ``Succeed`` and ``Fail`` -- and anything else
raises, so a change to the construct cannot pass unnoticed. Errors match ``ErrorEquals`` by the
exception's own class name, as the Lambda integration reports it (no base classes), or
``States.ALL``; ``$$.State.RetryCount`` counts every retry of the state. Waits are not slept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Invoke = Callable[[dict[str, Any]], Mapping[str, Any]]


class StatesRuntimeError(Exception):
    """``States.Runtime``: a path that does not exist (fails the execution; no Catch takes it)."""


@dataclass
class Execution:
    """What one execution did: its end state, and each invocation's (state, retry count)."""

    status: str = "RUNNING"
    end_state: str | None = None
    invocations: list[tuple[str, int]] = field(default_factory=list)
    output: Any = None

    def attempts(self, state: str) -> int:
        """How often the task ``state`` invoked the worker."""
        return sum(1 for name, _ in self.invocations if name == state)


def _path(path: str, data: Any, context: Mapping[str, Any]) -> Any:
    if path.startswith("$$."):
        node: Any = context
        parts = path[3:].split(".")
    elif path == "$":
        return data
    elif path.startswith("$."):
        node, parts = data, path[2:].split(".")
    else:
        raise NotImplementedError(f"path {path!r}")
    for part in parts:
        if not isinstance(node, Mapping) or part not in node:
            raise StatesRuntimeError(f"{path} not found")
        node = node[part]
    return node


def _resolve(template: Any, data: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(template, Mapping):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = _path(str(value), data, context)
            else:
                out[key] = _resolve(value, data, context)
        return out
    if isinstance(template, list):
        return [_resolve(v, data, context) for v in template]
    return template


def _set(data: Any, result_path: str | None, value: Any) -> Any:
    if result_path is None or result_path == "$":
        return value
    if not result_path.startswith("$.") or "." in result_path[2:]:
        raise NotImplementedError(f"ResultPath {result_path!r}")
    return {**data, result_path[2:]: value}


def _matches(error_equals: list[str], name: str) -> bool:
    return "States.ALL" in error_equals or name in error_equals


def run(definition: Mapping[str, Any], execution_input: Mapping[str, Any], *,
        invoke: Invoke, execution_name: str) -> Execution:
    """Execute ``definition`` on ``execution_input``; every task calls ``invoke(payload)``."""
    states: Mapping[str, Any] = definition["States"]
    execution = Execution()
    data: Any = dict(execution_input)
    name: str = definition["StartAt"]
    for _ in range(10_000):
        state = states[name]
        kind = state["Type"]
        if kind == "Succeed":
            execution.status, execution.end_state, execution.output = "SUCCEEDED", name, data
            return execution
        if kind == "Fail":
            execution.status, execution.end_state = "FAILED", name
            return execution
        if kind == "Choice":
            name = _choose(state, data)
            continue
        if kind != "Task" or not state["Resource"].endswith(":states:::lambda:invoke"):
            raise NotImplementedError(f"state {name!r} of type {kind}")
        try:
            data, following = _task(name, state, data, invoke, execution_name, execution)
        except StatesRuntimeError:
            execution.status, execution.end_state = "FAILED", "States.Runtime"
            return execution
        if following is None:
            execution.status, execution.end_state = "FAILED", name
            return execution
        name = following
    raise AssertionError("the execution did not end")


def _choose(state: Mapping[str, Any], data: Any) -> str:
    for rule in state["Choices"]:
        if set(rule) != {"Variable", "BooleanEquals", "Next"}:
            raise NotImplementedError(f"choice rule {rule}")
        if _path(rule["Variable"], data, {}) is rule["BooleanEquals"]:
            return str(rule["Next"])
    return str(state["Default"])


def _task(name: str, state: Mapping[str, Any], data: Any, invoke: Invoke,
          execution_name: str, execution: Execution) -> tuple[Any, str | None]:
    """One task state with its retries; (output, next state), next ``None`` if uncaught."""
    retriers = list(state.get("Retry", []))
    used = [0] * len(retriers)
    retry_count = 0
    while True:
        context = {"State": {"Name": name, "RetryCount": retry_count},
                   "Execution": {"Name": execution_name}}
        params = _resolve(state["Parameters"], data, context)
        execution.invocations.append((name, retry_count))
        try:
            answer = invoke(dict(params["Payload"]))
        except Exception as error:  # the worker's error, as Lambda reports its type
            error_name = type(error).__name__
        else:
            result: Any = {"Payload": dict(answer), "StatusCode": 200}
            if "ResultSelector" in state:
                result = _resolve(state["ResultSelector"], result, context)
            return _set(data, state.get("ResultPath"), result), state.get("Next")
        matching = [i for i, r in enumerate(retriers) if _matches(r["ErrorEquals"], error_name)]
        if not matching or used[matching[0]] >= retriers[matching[0]].get("MaxAttempts", 3):
            return _catch(state, data, error_name)  # the first matching retrier decides
        used[matching[0]] += 1
        retry_count += 1


def _catch(state: Mapping[str, Any], data: Any, error_name: str) -> tuple[Any, str | None]:
    for catcher in state.get("Catch", []):
        if _matches(catcher["ErrorEquals"], error_name):
            caught = {"Error": error_name, "Cause": "(not kept)"}
            return _set(data, catcher.get("ResultPath"), caught), catcher["Next"]
    return data, None
