"""Key policies of the deployed app: log keys serve only this stage's log groups."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import STAGES, GateRun

pytestmark = pytest.mark.synth

_STACKS = ("Data", "Api", "Edge", "EdgeLogs")


def _key_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Key"
            for s in r["Properties"]["KeyPolicy"]["Statement"]]


def _patterns(statement: dict[str, Any]) -> list[str]:
    """The ``aws:logs:arn`` patterns of a statement, each flattened to its text."""
    found = statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    return [json.dumps(p) for p in (found if isinstance(found, list) else [found])]


@pytest.mark.parametrize("stack", _STACKS)
@pytest.mark.parametrize("stage", STAGES)
def test_cloudwatch_logs_may_use_keys_only_for_this_stages_log_groups(
    gate_run: GateRun, stage: str, stack: str
) -> None:
    statements = [s for s in _key_statements(gate_run.template(stage, stack))
                  if str(s.get("Principal", {}).get("Service", "")).startswith("logs.")]
    if stack == "Data":  # the stage's log key (Api's log groups use it too)
        assert statements
    for statement in statements:
        for pattern in _patterns(statement):
            assert not pattern.rstrip('"]}').endswith("log-group:*"), pattern  # not account-wide
            name = pattern.split("log-group:", 1)[1]
            assert (name.startswith(f"{stage}-") or name.startswith("/aws/rds/cluster/")
                    or name.startswith("aws-waf-logs-")), pattern


@pytest.mark.parametrize("stage", STAGES)
def test_cloudfront_log_delivery_is_bound_to_this_account_and_its_delivery_sources(
    gate_run: GateRun, stage: str
) -> None:
    [delivery] = [s for s in _key_statements(gate_run.template(stage, "EdgeLogs"))
                  if s.get("Principal") == {"Service": "delivery.logs.amazonaws.com"}]
    conditions = delivery["Condition"]
    assert conditions["StringEquals"]["aws:SourceAccount"]
    source_arn = json.dumps(conditions["ArnLike"]["aws:SourceArn"])
    assert ":logs:us-east-1:" in source_arn and ":delivery-source:*" in source_arn
