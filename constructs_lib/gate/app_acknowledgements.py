"""An app's own acknowledgements: one registry, scoped by construct path or type.

The library's constructs accept their own design findings (see
:mod:`constructs_lib.acceptance`); what remains is the app's to decide. An app keeps
its accepted findings in one tuple of :class:`AppAcknowledgement` and hands it to
:func:`constructs_lib.gate.run_gate` (or :func:`apply_app_acknowledgements` for a plain
``cdk synth``). Every entry is applied through :func:`~constructs_lib.acceptance.accept`
with source ``"app"``; the gate reports entries that acknowledged nothing as stale.

Scopes: ``path`` is an ``fnmatch`` pattern on the construct path relative to the
stage (``*`` also matches ``/``), ``cfn_type`` restricts to L1 resources of that
CloudFormation type; both may be combined. An entry with neither must say in
``global_why`` why it holds for every construct of a stage.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from constructs import IConstruct

from constructs_lib.acceptance import accept

__all__ = [
    "TOP_LEVEL_STAGE",
    "AppAcknowledgement",
    "AppliedAcknowledgement",
    "AppliedAcknowledgements",
    "apply_app_acknowledgements",
]


TOP_LEVEL_STAGE = "app"
"""Stage name reported for stacks created directly under the app (no ``cdk.Stage``)."""


@dataclass(frozen=True, slots=True)
class AppAcknowledgement:
    """One finding the app accepts.

    Parameters
    ----------
    rule_id:
        The finding's rule id exactly as reported, e.g. ``"AwsSolutions-L1"`` or
        ``"AwsSolutions-IAM5[Resource::*]"``. ``{account}`` and ``{region}`` are
        replaced by those of the acknowledged construct's stack, for finding ids
        that embed an ARN.
    reason:
        Why the app accepts it (at least 40 characters).
    path:
        ``fnmatch`` pattern on the construct path relative to the stage.
    cfn_type:
        Only L1 resources of this CloudFormation type.
    stages:
        Stage names it applies to; empty means every stage.
    global_why:
        Required when neither ``path`` nor ``cfn_type`` narrows the scope.
    """

    rule_id: str
    reason: str
    path: str | None = None
    cfn_type: str | None = None
    stages: tuple[str, ...] = ()
    global_why: str | None = None

    def __post_init__(self) -> None:
        if len(self.reason.strip()) < 40:
            raise ValueError(f"Acknowledgement {self.rule_id}: the reason is too short to judge.")
        if self.path is None and self.cfn_type is None and not self.global_why:
            raise ValueError(
                f"Acknowledgement {self.rule_id} has no scope; give path/cfn_type, or "
                "global_why explaining why it holds stage-wide."
            )

    @property
    def scope(self) -> str:
        """Human-readable scope."""
        parts = [f"path={self.path}"] if self.path else []
        parts += [f"type={self.cfn_type}"] if self.cfn_type else []
        return ", ".join(parts) or "stage-wide"


@dataclass(frozen=True, slots=True)
class AppliedAcknowledgement:
    """An entry applied to one construct."""

    entry: AppAcknowledgement
    stage: str
    construct_path: str
    rule_id: str
    """The rule id as applied (placeholders expanded, unqualified)."""


@dataclass(frozen=True, slots=True)
class AppliedAcknowledgements:
    """What :func:`apply_app_acknowledgements` did."""

    applied: tuple[AppliedAcknowledgement, ...] = ()
    unmatched: tuple[tuple[AppAcknowledgement, str], ...] = ()
    """``(entry, stage)`` pairs where the entry's scope matched no construct (stale)."""


def _stages(scope: IConstruct) -> list[IConstruct]:
    """The stages whose paths entries are relative to (the app itself for its own stacks)."""
    if cdk.Stage.is_stage(scope) and not cdk.App.is_app(scope):
        return [scope]
    stages: list[IConstruct] = [c for c in scope.node.children if cdk.Stage.is_stage(c)]
    if any(cdk.Stack.is_stack(c) for c in scope.node.children):
        stages.append(scope)
    return stages


def _matches(entry: AppAcknowledgement, relative_path: str, construct: IConstruct) -> bool:
    if entry.path is not None and not fnmatch.fnmatchcase(relative_path, entry.path):
        return False
    if entry.cfn_type is not None:
        return bool(cdk.CfnResource.is_cfn_resource(construct)) and (
            construct.cfn_resource_type == entry.cfn_type  # type: ignore[attr-defined]
        )
    return True


def _expand(rule_id: str, target: IConstruct) -> str:
    if "{account}" not in rule_id and "{region}" not in rule_id:
        return rule_id
    stack = cdk.Stack.of(target)
    return rule_id.replace("{account}", stack.account).replace("{region}", stack.region)


def apply_app_acknowledgements(
    stage_or_app: IConstruct, entries: Sequence[AppAcknowledgement],
) -> AppliedAcknowledgements:
    """Accept ``entries`` on the constructs they scope, in every stage (source ``"app"``).

    Stacks directly under the app count as the stage :data:`TOP_LEVEL_STAGE`.
    """
    applied: list[AppliedAcknowledgement] = []
    unmatched: list[tuple[AppAcknowledgement, str]] = []
    for stage in _stages(stage_or_app):
        stage_name = stage.node.id or TOP_LEVEL_STAGE
        prefix = stage.node.path + "/" if stage.node.path else ""
        relevant = [e for e in entries if not e.stages or stage_name in e.stages]
        if not relevant:
            continue
        nested = tuple(c.node.path + "/" for c in stage.node.children if cdk.Stage.is_stage(c))
        constructs = [(path.removeprefix(prefix), c) for c in stage.node.find_all()
                      if (path := c.node.path).startswith(prefix)
                      and not path.startswith(nested)]
        for entry in relevant:
            targets = ([c for rel, c in constructs if _matches(entry, rel, c)]
                       if entry.path is not None or entry.cfn_type is not None else [stage])
            if not targets:
                unmatched.append((entry, stage_name))
            for target in targets:
                rule_id = _expand(entry.rule_id, target)
                accept(target, (rule_id,), entry.reason, source="app")
                applied.append(AppliedAcknowledgement(entry, stage_name, target.node.path,
                                                      rule_id))
    return AppliedAcknowledgements(tuple(applied), tuple(unmatched))
