"""Reads a synthesised cloud assembly (``cdk.out``): stages, their stacks, templates, regions.

Only the files the CDK writes are read (``manifest.json`` of the app and of each
nested stage assembly, and the templates they name); nothing is synthesised here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOP_LEVEL = "(app)"


class AssemblyError(ValueError):
    """The folder is not a cloud assembly, or a stack's environment is unresolved."""


@dataclass(frozen=True)
class StackTemplate:
    """One synthesised stack."""

    name: str
    region: str
    resources: dict[str, dict[str, Any]]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """The stack's resources of one CloudFormation type, by logical id."""
        return {k: r for k, r in self.resources.items() if r.get("Type") == resource_type}


@dataclass(frozen=True)
class Stage:
    """The stacks of one stage (a nested assembly), or of the app itself."""

    name: str
    stacks: tuple[StackTemplate, ...]

    def of_type(self, resource_type: str) -> list[tuple[StackTemplate, str, dict[str, Any]]]:
        """``(stack, logical id, resource)`` for every resource of a type in the stage."""
        return [
            (stack, logical_id, resource)
            for stack in self.stacks
            for logical_id, resource in stack.of_type(resource_type).items()
        ]


def _region(environment: str, stack: str) -> str:
    # "aws://123456789012/eu-west-2"; unresolved ones read "aws://unknown-account/unknown-region".
    parts = environment.removeprefix("aws://").split("/")
    if len(parts) != 2 or parts[1].startswith("unknown"):
        raise AssemblyError(f"stack {stack} has no concrete region ({environment})")
    return parts[1]


def _stacks(folder: Path, manifest: dict[str, Any]) -> list[StackTemplate]:
    stacks: list[StackTemplate] = []
    for name, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template_file = artifact["properties"]["templateFile"]
        template = json.loads((folder / template_file).read_text(encoding="utf-8"))
        stacks.append(StackTemplate(
            name=artifact.get("displayName", name).replace("/", "-"),
            region=_region(artifact.get("environment", ""), name),
            resources=dict(template.get("Resources", {})),
        ))
    return stacks


def _manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        raise AssemblyError(f"{folder} is not a cloud assembly (no manifest.json)")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def read_assembly(cdk_out: Path) -> list[Stage]:
    """Every stage of the assembly in name order; top-level stacks form the stage ``(app)``."""
    manifest = _manifest(cdk_out)
    stages: list[Stage] = []
    top = _stacks(cdk_out, manifest)
    if top:
        stages.append(Stage(TOP_LEVEL, tuple(top)))
    for name, artifact in sorted(manifest.get("artifacts", {}).items()):
        if artifact.get("type") != "cdk:cloud-assembly":
            continue
        nested = cdk_out / artifact["properties"]["directoryName"]
        stage_name = artifact.get("displayName") or name.removeprefix("assembly-")
        stages.append(Stage(stage_name, tuple(_stacks(nested, _manifest(nested)))))
    return stages
