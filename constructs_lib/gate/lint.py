"""cfn-lint over every synthesised template, in the stack's own region."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from constructs_lib.gate.findings import StackInfo


@dataclass(frozen=True, slots=True)
class LintMatch:
    """One cfn-lint result."""

    stack: str
    stage: str
    rule: str
    level: str
    message: str
    location: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _level(rule_id: str) -> str:
    return {"E": "error", "W": "warning"}.get(rule_id[:1], "info")


def lint_stack(stack: StackInfo) -> list[LintMatch]:
    """cfn-lint matches for one stack template (library call, no subprocess)."""
    from cfnlint.api import lint  # type: ignore[import-untyped]  # noqa: PLC0415

    matches = lint(json.dumps(stack.template), regions=[stack.region or "us-east-1"])
    return [
        LintMatch(
            stack=stack.path, stage=stack.stage, rule=m.rule.id, level=_level(m.rule.id),
            message=m.message,
            location="/".join(str(p) for p in getattr(m, "path", []) or []) or str(m.linenumber),
        )
        for m in matches
    ]


def lint_stacks(stacks: list[StackInfo]) -> list[LintMatch]:
    """cfn-lint every stack, one after the other.

    A process pool was measured slower here (spawn + cfn-lint import per worker
    on a 2-core machine), so linting stays sequential.
    """
    return [m for stack in stacks for m in lint_stack(stack)]
