"""Stacks in a synthesised cloud assembly, read from the manifests on disk."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class StackArtifact:
    """One synthesised stack."""

    path: str
    """Construct path, e.g. ``staging/Data``."""
    stage: str
    region: str | None
    template: Path


def stacks_in(outdir: Path) -> list[StackArtifact]:
    """Every CloudFormation stack in the assembly at ``outdir`` (nested stages included)."""
    manifest_path = outdir / "manifest.json"
    if not manifest_path.exists():
        return []
    manifest = json.loads(manifest_path.read_text())
    found: list[StackArtifact] = []
    for artifact in manifest.get("artifacts", {}).values():
        kind = artifact.get("type")
        props = artifact.get("properties", {})
        if kind == "cdk:cloud-assembly":
            found += stacks_in(outdir / props["directoryName"])
        elif kind == "aws:cloudformation:stack":
            display = str(artifact.get("displayName", ""))
            env = str(artifact.get("environment", ""))
            region = env.rsplit("/", 1)[-1] if env.startswith("aws://") else None
            if region in (None, "unknown-region"):
                region = None
            stage = display.split("/", 1)[0] if "/" in display else ""
            found.append(StackArtifact(display, stage, region, outdir / props["templateFile"]))
    return found
