"""Detect drift on every configured stack; publish one message when any drifted."""
import json
import os
import time
from typing import Any

import boto3


def _detect(cfn: Any, stack: str) -> tuple[str, str, list[str]]:
    detection = cfn.detect_stack_drift(StackName=stack)["StackDriftDetectionId"]
    while True:
        status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
        if status["DetectionStatus"] != "DETECTION_IN_PROGRESS":
            break
        time.sleep(5)
    drifted = []
    if status.get("StackDriftStatus") == "DRIFTED":
        pages = cfn.get_paginator("describe_stack_resource_drifts").paginate(
            StackName=stack, StackResourceDriftStatusFilters=["MODIFIED", "DELETED"])
        drifted = [f"{r['LogicalResourceId']} ({r['ResourceType']}): "
                   f"{r['StackResourceDriftStatus']}"
                   for page in pages for r in page["StackResourceDrifts"]]
    return status["DetectionStatus"], status.get("StackDriftStatus", "UNKNOWN"), drifted


def handler(event: Any, context: Any, *, clients: Any = None, sns: Any = None) -> Any:
    stacks = json.loads(os.environ["STACKS"])  # [{"region": ..., "name": ...}]
    clients = clients or {}
    report = []
    for stack in stacks:
        cfn = clients.get(stack["region"]) or boto3.client(
            "cloudformation", region_name=stack["region"])
        detection, drift, drifted = _detect(cfn, stack["name"])
        report.append({**stack, "detection": detection, "drift": drift, "resources": drifted})
    alert = [r for r in report if r["drift"] != "IN_SYNC" or r["detection"] != "DETECTION_COMPLETE"]
    if alert:
        lines = [f"{r['region']}/{r['name']}: {r['drift']} ({r['detection']})"
                 + "".join(f"\n  - {d}" for d in r["resources"]) for r in alert]
        (sns or boto3.client("sns")).publish(
            TopicArn=os.environ["TOPIC_ARN"],
            Subject=f"Drift detected: {os.environ.get('STAGE', '')}"[:100],
            Message="Changed outside CloudFormation (see docs/operations.md, drift):\n"
                    + "\n".join(lines))
    return {"stacks": report, "alerted": bool(alert)}
