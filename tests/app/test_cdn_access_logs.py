"""The app's CloudFront access logs: standard logging v2 in us-east-1, no query strings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import STAGES, GateRun

pytestmark = pytest.mark.synth


def _of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == type_}


@pytest.mark.parametrize("stage", STAGES)
def test_distribution_has_no_legacy_logging(gate_run: GateRun, stage: str) -> None:
    (dist,) = _of_type(gate_run.template(stage, "Api"), "AWS::CloudFront::Distribution").values()
    assert "Logging" not in dist["Properties"]["DistributionConfig"]


@pytest.mark.parametrize("stage", STAGES)
def test_edge_logs_deliver_the_api_distribution_without_query_or_cookies(
    gate_run: GateRun, stage: str
) -> None:
    logs = gate_run.template(stage, "EdgeLogs")
    (delivery,) = _of_type(logs, "AWS::Logs::Delivery").values()
    fields = delivery["Properties"]["RecordFields"]
    assert "cs-uri-query" not in fields
    assert not [f for f in fields if "cookie" in f.lower()]
    assert {"date", "time", "c-ip", "cs-uri-stem", "sc-status"} <= set(fields)
    (source,) = _of_type(logs, "AWS::Logs::DeliverySource").values()
    assert source["Properties"]["LogType"] == "ACCESS_LOGS"
    # The distribution's id comes from the Api stack (a cross-region reference).
    arn = json.dumps(source["Properties"]["ResourceArn"])
    assert ":cloudfront::" in arn and ":distribution/" in arn
    assert f"{stage}-Api" in arn and "CdnDistribution" in arn


@pytest.mark.parametrize("stage", STAGES)
def test_edge_logs_bucket_is_secure_and_retained(gate_run: GateRun, stage: str) -> None:
    logs = gate_run.template(stage, "EdgeLogs")
    (bucket,) = _of_type(logs, "AWS::S3::Bucket").values()
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] >= 365
    (policy,) = _of_type(logs, "AWS::S3::BucketPolicy").values()
    assert any(s["Effect"] == "Deny" and s.get("Condition") == {
        "Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Properties"]["PolicyDocument"]["Statement"])
