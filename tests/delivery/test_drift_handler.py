"""The drift detector's handler (inlined into the template): alerts only on drift.

CloudFormation drift detection is not in moto, so a local stand-in serves the three
calls with the API's shapes; SNS is moto, and the alert is read back from an SQS
subscription.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from constructs_lib.drift.handler import handler

REGION = "eu-west-2"


class LocalDrift:
    """DetectStackDrift and friends for stacks with a fixed drift status."""

    def __init__(self, drift: dict[str, list[dict[str, str]]]) -> None:
        self.drift = drift  # stack -> drifted resources (empty: in sync)
        self.polls = 0

    def detect_stack_drift(self, *, StackName: str) -> dict[str, str]:  # noqa: N803
        return {"StackDriftDetectionId": StackName}

    def describe_stack_drift_detection_status(self, *, StackDriftDetectionId: str,  # noqa: N803
                                              ) -> dict[str, str]:
        self.polls += 1
        drifted = self.drift[StackDriftDetectionId]
        return {"DetectionStatus": "DETECTION_COMPLETE",
                "StackDriftStatus": "DRIFTED" if drifted else "IN_SYNC"}

    def get_paginator(self, operation: str) -> Any:
        assert operation == "describe_stack_resource_drifts"
        outer = self

        class Pages:
            def paginate(self, *, StackName: str, StackResourceDriftStatusFilters: list[str],  # noqa: N803
                         ) -> list[dict[str, Any]]:
                return [{"StackResourceDrifts": outer.drift[StackName]}]
        return Pages()


@pytest.fixture
def topic(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        arn = sns.create_topic(Name="alerts")["TopicArn"]
        queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
        monkeypatch.setenv("TOPIC_ARN", arn)
        monkeypatch.setenv("STAGE", "prod")
        monkeypatch.setenv("STACKS", json.dumps([{"name": "prod-Data", "region": REGION},
                                                 {"name": "prod-Api", "region": REGION}]))
        yield sns, queue


def _messages(queue: str) -> list[str]:
    sqs = boto3.client("sqs", region_name=REGION)
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"])["Message"] for m in got]


def test_in_sync_stacks_alert_nobody(topic: tuple[Any, str]) -> None:
    sns, queue = topic
    result = handler({}, None, clients={REGION: LocalDrift({"prod-Data": [], "prod-Api": []})},
                     sns=sns)
    assert not result["alerted"] and _messages(queue) == []


def test_a_drifted_resource_is_published_with_its_stack(topic: tuple[Any, str]) -> None:
    sns, queue = topic
    drifted = [{"LogicalResourceId": "ApiFunction", "ResourceType": "AWS::Lambda::Function",
                "StackResourceDriftStatus": "MODIFIED"}]
    result = handler({}, None, clients={REGION: LocalDrift({"prod-Data": [],
                                                             "prod-Api": drifted})}, sns=sns)
    assert result["alerted"]
    [message] = _messages(queue)
    assert "prod-Api: DRIFTED" in message and "ApiFunction (AWS::Lambda::Function)" in message
    assert "prod-Data" not in message
