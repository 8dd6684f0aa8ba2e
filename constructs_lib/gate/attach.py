"""Attach every pack to an app, keeping each pack's report for the gate.

:func:`attach_packs` is the public way to put the library's packs on an app:
``Validations.of(app)`` covers every stack of the app and of each of its stages.
Each pack is wrapped in a :class:`RecordingPlugin`, which hands the CDK the pack's
report unchanged and keeps it, so the gate collects findings from what the packs
returned instead of reading files back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import aws_cdk as cdk
import jsii

from constructs_lib.compliance.packs import new_packs

__all__ = ["AttachedPacks", "RecordingPlugin", "attach_packs"]


@jsii.implements(cdk.IPolicyValidationPlugin)
class RecordingPlugin:
    """A policy validation plugin that delegates to ``inner`` and keeps its reports."""

    def __init__(self, inner: cdk.IPolicyValidationPlugin) -> None:
        self._inner = inner
        self.reports: list[cdk.PolicyValidationPluginReport] = []

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def version(self) -> str | None:
        return self._inner.version

    @property
    def rule_ids(self) -> list[str] | None:
        return self._inner.rule_ids

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        """Run the wrapped pack and remember what it reported."""
        report = self._inner.validate(context)
        self.reports.append(report)
        return report


@dataclass(frozen=True, slots=True)
class AttachedPacks:
    """The recording plugins attached to one app, in pack order."""

    plugins: tuple[RecordingPlugin, ...] = field(default=())


def attach_packs(app: cdk.App) -> AttachedPacks:
    """Attach every pack (cdk-nag's five, then BankGrade) to ``app`` and its stages.

    Call it once, before ``app.synth()``. With the packs attached a plain
    ``cdk synth`` fails on any finding not accepted through
    :func:`constructs_lib.acceptance.accept`; :func:`constructs_lib.gate.run_gate`
    calls it for you and reports instead.
    """
    plugins = tuple(RecordingPlugin(pack) for pack in new_packs())
    cdk.Validations.of(app).add_plugins(*plugins)
    return AttachedPacks(plugins)
