"""Applying an app's registry: scopes, placeholders, stale scopes (no synthesis needed)."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from cdk_app.acknowledgements import ACKNOWLEDGEMENTS
from constructs_lib.acceptance import acceptance_for
from constructs_lib.gate import AppAcknowledgement, apply_app_acknowledgements

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
    entry = AppAcknowledgement(rule_id="BankGrade-NoPublicNetwork", path="Net/Igw",
                               reason=REASON)
    result = apply_app_acknowledgements(app, (entry,))

    assert [a.construct_path for a in result.applied] == ["standin/Net/Igw"]
    accepted = acceptance_for(stack.node.find_child("Igw"), "BankGrade-NoPublicNetwork")
    assert accepted is not None
    assert (accepted.reason, accepted.source, accepted.at) == (REASON, "app", "standin/Net/Igw")
    assert acceptance_for(stack.node.find_child("Other"), "BankGrade-NoPublicNetwork") is None


def test_type_scope_and_stage_filter(tmp_path: Path) -> None:
    app, _ = _app(tmp_path)
    by_type = AppAcknowledgement(rule_id="BankGrade-NoPublicNetwork",
                                 cfn_type="AWS::EC2::InternetGateway", reason=REASON)
    other_stage = AppAcknowledgement(rule_id="AwsSolutions-L1", path="*", stages=("prod",),
                                     reason=REASON)
    result = apply_app_acknowledgements(app, (by_type, other_stage))

    assert sorted(a.construct_path for a in result.applied) == [
        "standin/Net/Igw", "standin/Net/Other"]
    assert result.unmatched == ()


def test_stacks_directly_under_the_app_are_the_top_level_stage(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Top", env=ENV)
    ec2.CfnInternetGateway(stack, "Igw")
    staged = cdk.Stack(cdk.Stage(app, "standin", env=ENV), "Top")
    ec2.CfnInternetGateway(staged, "Igw")
    entry = AppAcknowledgement(rule_id="BankGrade-NoPublicNetwork", path="Top/Igw", reason=REASON)

    result = apply_app_acknowledgements(app, (entry,))

    assert sorted((a.stage, a.construct_path) for a in result.applied) == [
        ("app", "Top/Igw"), ("standin", "standin/Top/Igw")]


def test_placeholders_take_the_stack_account_and_region(tmp_path: Path) -> None:
    app, _ = _app(tmp_path)
    entry = AppAcknowledgement(
        rule_id="AwsSolutions-IAM5[Resource::arn:aws:logs:{region}:{account}:*]",
        path="Net/Igw", reason=REASON)
    [applied] = apply_app_acknowledgements(app, (entry,)).applied
    assert applied.rule_id == "AwsSolutions-IAM5[Resource::arn:aws:logs:eu-west-2:111111111111:*]"


def test_unmatched_scope_is_reported(tmp_path: Path) -> None:
    app, _ = _app(tmp_path)
    entry = AppAcknowledgement(rule_id="AwsSolutions-L1", path="Api/*", reason=REASON)
    assert apply_app_acknowledgements(app, (entry,)).unmatched == ((entry, "standin"),)


def test_platform_registry_entries_are_scoped_and_reasoned() -> None:
    for entry in ACKNOWLEDGEMENTS:
        assert entry.path or entry.cfn_type or entry.global_why
        assert len(entry.reason) >= 40
