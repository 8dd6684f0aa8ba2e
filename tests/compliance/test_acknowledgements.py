"""Applying the registry: scopes, qualified ids, placeholders (no synthesis needed)."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from constructs_lib.compliance.acknowledged import acknowledgements_on
from constructs_lib.compliance.acknowledgements import (
    ACKNOWLEDGEMENTS,
    AckEntry,
    apply_acknowledgements,
)

from .standin import ENV

REASON = "A reason long enough for a reviewer to judge it in a test."


def _app(tmp_path: Path) -> tuple[cdk.App, cdk.Stack]:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(cdk.Stage(app, "standin", env=ENV), "Net")
    ec2.CfnInternetGateway(stack, "Igw")
    ec2.CfnInternetGateway(stack, "Other")
    return app, stack


def test_path_scope_acknowledges_only_matching_constructs(tmp_path: Path) -> None:
    app, stack = _app(tmp_path)
    entry = AckEntry(rule_id="BankGrade-NoPublicNetwork", path="Net/Igw", reason=REASON)
    result = apply_acknowledgements(app, (entry,))

    assert [a.construct_path for a in result.applied] == ["standin/Net/Igw"]
    assert acknowledgements_on(stack.node.find_child("Igw")) == {
        "BankGrade::BankGrade-NoPublicNetwork": REASON}
    assert acknowledgements_on(stack.node.find_child("Other")) == {}


def test_type_scope_and_stage_filter(tmp_path: Path) -> None:
    app, _ = _app(tmp_path)
    by_type = AckEntry(rule_id="BankGrade-NoPublicNetwork", cfn_type="AWS::EC2::InternetGateway",
                       reason=REASON)
    other_stage = AckEntry(rule_id="AwsSolutions-L1", path="*", stages=("prod",), reason=REASON)
    result = apply_acknowledgements(app, (by_type, other_stage))

    assert sorted(a.construct_path for a in result.applied) == [
        "standin/Net/Igw", "standin/Net/Other"]
    assert result.unmatched == ()


def test_placeholders_take_the_stack_account_and_region(tmp_path: Path) -> None:
    app, _ = _app(tmp_path)
    entry = AckEntry(rule_id="AwsSolutions-IAM5[Resource::arn:aws:logs:{region}:{account}:*]",
                     path="Net/Igw", reason=REASON)
    [applied] = apply_acknowledgements(app, (entry,)).applied
    assert applied.qualified_id == (
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:logs:eu-west-2:111111111111:*]")


def test_unmatched_scope_is_reported(tmp_path: Path) -> None:
    app, _ = _app(tmp_path)
    entry = AckEntry(rule_id="AwsSolutions-L1", path="Api/*", reason=REASON)
    assert apply_acknowledgements(app, (entry,)).unmatched == ((entry, "standin"),)


def test_project_registry_entries_are_scoped_and_reasoned() -> None:
    for entry in ACKNOWLEDGEMENTS:
        assert entry.path or entry.cfn_type or entry.global_why
        assert len(entry.reason) >= 40
