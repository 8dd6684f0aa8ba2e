"""The BankGrade validation plugin inside a plain CDK synthesis (no gate)."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from constructs_lib.acceptance import accept
from constructs_lib.compliance.plugin import RulePackPlugin

from .standin import ENV


def _synth(app: cdk.App) -> dict:
    try:
        app.synth()
    except RuntimeError as exc:  # under pytest the CDK raises on violations (in-memory mode)
        assert "Validation failed" in str(exc) or "ValidationFailed" in str(exc)
    return json.loads((Path(app.outdir) / "validation-report.json").read_text())


def _violations(report: dict, plugin: str) -> dict[str, list[str]]:
    return {
        v["ruleName"]: [r["constructPath"] for r in v["violatingConstructs"]]
        for p in report["pluginReports"] if p["pluginName"] == plugin for v in p["violations"]
    }


def _suppressed(report: dict, plugin: str) -> dict[str, list[str]]:
    return {
        v["ruleName"]: [r["constructPath"] for r in v["violatingConstructs"]]
        for p in report["pluginReports"] if p["pluginName"] == plugin
        for v in p.get("suppressedViolations", [])
    }


def test_accepted_findings_are_suppressed_by_the_cdk_with_their_reason(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stage = cdk.Stage(app, "standin", env=ENV)
    stack = cdk.Stack(stage, "Net")
    ec2.CfnInternetGateway(stack, "Flagged")
    accepted = ec2.CfnInternetGateway(stack, "Accepted")
    accept(accepted, ("BankGrade-NoPublicNetwork",), "Accepted for this test only.")
    cdk.Validations.of(stage).add_plugins(RulePackPlugin.bank_grade())

    report = _synth(app)

    assert _violations(report, "BankGrade") == {
        "BankGrade-NoPublicNetwork": ["standin/Net/Flagged"]}
    assert _suppressed(report, "BankGrade") == {
        "BankGrade-NoPublicNetwork": ["standin/Net/Accepted"]}


def test_acceptance_on_an_ancestor_covers_the_resource(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stage = cdk.Stage(app, "standin", env=ENV)
    stack = cdk.Stack(stage, "Net")
    ec2.CfnInternetGateway(stack, "Igw")
    accept(stack, ("BankGrade-NoPublicNetwork",), "Whole stack accepted in this test.")
    cdk.Validations.of(stage).add_plugins(RulePackPlugin.bank_grade())

    assert _violations(_synth(app), "BankGrade") == {}


def test_the_plugin_itself_applies_no_acknowledgement(tmp_path: Path) -> None:
    """Only accept() counts: an unqualified Validations.acknowledge is not a second way in."""
    app = cdk.App(outdir=str(tmp_path))
    stage = cdk.Stage(app, "standin", env=ENV)
    stack = cdk.Stack(stage, "Net")
    ec2.CfnInternetGateway(stack, "Igw")
    cdk.Validations.of(stack).acknowledge(cdk.Acknowledgment(
        id="BankGrade-NoPublicNetwork", reason="Bypassing accept() in this test."))
    cdk.Validations.of(stage).add_plugins(RulePackPlugin.bank_grade())

    assert _violations(_synth(app), "BankGrade") == {
        "BankGrade-NoPublicNetwork": ["standin/Net/Igw"]}


def test_plugin_on_the_app_still_sees_stacks_inside_stages(tmp_path: Path) -> None:
    """Characterisation of aws-cdk-lib 2.275: plugins on the App get every stack.

    The gate relies on this: ``attach_packs`` registers every pack on the App only.
    """
    app = cdk.App(outdir=str(tmp_path))
    stage = cdk.Stage(app, "standin", env=ENV)
    ec2.CfnInternetGateway(cdk.Stack(stage, "Net"), "Igw")
    cdk.Validations.of(app).add_plugins(RulePackPlugin.bank_grade())

    assert _violations(_synth(app), "BankGrade") == {
        "BankGrade-NoPublicNetwork": ["standin/Net/Igw"]}


def test_secret_in_a_stack_output_is_reported_at_the_output(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stage = cdk.Stage(app, "standin", env=ENV)
    stack = cdk.Stack(stage, "Net")
    cdk.CfnOutput(stack, "Leak", value="AKIAIOSFODNN7EXAMPLE")
    cdk.Validations.of(stage).add_plugins(RulePackPlugin.bank_grade())

    assert _violations(_synth(app), "BankGrade") == {
        "BankGrade-NoSecretLiterals": ["standin/Net/Leak"]}
