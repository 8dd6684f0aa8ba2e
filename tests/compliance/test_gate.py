"""The gate on a stand-in app: fails on unacknowledged findings, passes when acknowledged."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest

from constructs_lib.gate import AppAcknowledgement, run_gate
from constructs_lib.opt_outs import OptOut

from .standin import builder

IGW_ACK = AppAcknowledgement(
    rule_id="BankGrade-NoPublicNetwork", path="Net/Igw",
    reason="Stand-in: this gateway models an accepted exception for the test.",
)


def test_unacknowledged_finding_fails_the_gate_with_a_readable_list(tmp_path: Path) -> None:
    result = run_gate(builder(tmp_path), acknowledgements=(), lint=False)

    assert not result.passed
    assert result.errors == ()  # cdk-nag's interrupted synthesis became a report
    stage = result.stage("standin")
    [failure] = stage.failures
    assert (failure.pack, failure.rule_id, failure.resource_path, failure.stack) == (
        "BankGrade", "BankGrade-NoPublicNetwork", "standin/Net/Igw", "standin/Net")
    text = result.text()
    assert "BankGrade-NoPublicNetwork  standin/Net/Igw" in text
    assert 'AppAcknowledgement(rule_id="BankGrade-NoPublicNetwork", path="Net/Igw"' in text
    written = json.loads((tmp_path / "compliance-standin.json").read_text())
    assert written["passed"] is False
    assert written["failed"][0]["rule_id"] == "BankGrade-NoPublicNetwork"
    assert written["packs"]["BankGrade"]["rules_failed"] == 1


def test_acknowledged_finding_passes_and_keeps_its_reason(tmp_path: Path) -> None:
    result = run_gate(builder(tmp_path), acknowledgements=(IGW_ACK,), lint=True)

    assert result.passed, result.text()
    stage = result.stage("standin")
    [acked] = [f for f in stage.findings if f.acknowledged]
    assert acked.rule_id == "BankGrade-NoPublicNetwork"
    assert acked.reason == IGW_ACK.reason
    assert acked.acknowledged_at == "standin/Net/Igw"
    assert acked.acknowledged_by == "app"
    written = json.loads((tmp_path / "compliance-standin.json").read_text())
    assert written["packs"]["BankGrade"]["rules_acknowledged"] == 1
    assert written["acknowledgement_reasons"][0]["reason"] == IGW_ACK.reason
    assert written["cfn_lint"]["errors"] == []
    assert written["stale_acknowledgements"] == []


def test_packs_reach_stacks_inside_every_stage(tmp_path: Path) -> None:
    build = builder(tmp_path, stages=("alpha", "beta"), gateway=False, topic=True)
    result = run_gate(build, acknowledgements=(), lint=False)

    flagging = {"AwsSolutions", "NIST.800.53.R5", "PCI.DSS.321", "HIPAA.Security"}
    for name in ("alpha", "beta"):
        findings = result.stage(name).findings
        assert {f.pack for f in findings} >= flagging
        assert all(f.stack == f"{name}/Net" for f in findings)
        assert any(f.resource_path.startswith(f"{name}/Net/Topic") for f in findings)


def test_opt_out_acknowledgements_are_reported_with_their_reason(tmp_path: Path) -> None:
    finding_ids = ("AwsSolutions-SNS3", "NIST.800.53.R5-SNSEncryptedKMS",
                   "PCI.DSS.321-SNSEncryptedKMS", "HIPAA.Security-SNSEncryptedKMS",
                   "BankGrade-CustomerManagedKey")
    opt_out = OptOut(setting="Topic.encryption",
                     reason="Stand-in: the topic only carries public status events.",
                     finding_ids=finding_ids)
    build = builder(tmp_path, gateway=False, topic=True, topic_opt_out=opt_out)
    result = run_gate(build, acknowledgements=(), lint=False)

    assert result.passed, result.text()
    acked = {f.rule_id: f for f in result.stage("standin").findings if f.acknowledged}
    assert set(acked) == set(finding_ids)
    assert {f.reason for f in acked.values()} == {opt_out.reason}
    assert {f.acknowledged_at for f in acked.values()} == {"standin/Net/Topic"}
    assert {f.acknowledged_by for f in acked.values()} == {"opt-out"}


def test_stale_acknowledgements_are_reported(tmp_path: Path) -> None:
    nothing_there = AppAcknowledgement(rule_id="AwsSolutions-L1", path="Api/Function/*",
                             reason="Stand-in: a scope that matches no construct at all.")
    nothing_found = AppAcknowledgement(rule_id="AwsSolutions-SQS3", path="Net/Igw",
                             reason="Stand-in: matches a construct, acknowledges nothing.")
    result = run_gate(builder(tmp_path), acknowledgements=(IGW_ACK, nothing_there,
                                                           nothing_found), lint=False)

    stale = {s.rule_id: s.detail for s in result.stage("standin").stale}
    assert stale.keys() == {"AwsSolutions-L1", "AwsSolutions-SQS3"}
    assert "matches no construct" in stale["AwsSolutions-L1"]
    assert "no finding was acknowledged" in stale["AwsSolutions-SQS3"]
    assert result.passed  # stale entries warn; they do not hide anything
    assert "stale acknowledgement" in result.text()


def test_a_failing_build_is_reported_not_raised(tmp_path: Path) -> None:
    def build() -> cdk.App:
        raise ValueError("config file missing")

    result = run_gate(build, acknowledgements=(), lint=False)
    assert not result.passed
    assert "config file missing" in result.errors[0]


@pytest.mark.parametrize("kwargs", [
    {"rule_id": "AwsSolutions-L1", "reason": "too short", "path": "Api/*"},
    {"rule_id": "AwsSolutions-L1", "reason": "A long enough reason but no scope is given here."},
])
def test_registry_entries_need_a_reason_and_a_scope(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        AppAcknowledgement(**kwargs)


def test_an_error_annotation_fails_the_gate_and_a_warning_does_not(tmp_path: Path) -> None:
    inner = builder(tmp_path, gateway=False)

    def build() -> cdk.App:
        app = inner()
        stack = app.node.find_child("standin").node.find_child("Net")
        cdk.Annotations.of(stack).add_error("Stand-in: a construct refused its props.")
        cdk.Annotations.of(stack).add_warning_v2("standin:note", "Stand-in: just a note.")
        return app

    stage = run_gate(build, acknowledgements=(), lint=False).stage("standin")
    annotations = {f.level: f for f in stage.findings if f.pack == "Construct Annotations"}
    assert annotations.keys() == {"error", "warning"}
    assert annotations["error"].resource_path == "standin/Net"
    assert [f.level for f in stage.failures] == ["error"]
    assert not stage.passed


def test_stacks_directly_under_the_app_report_as_stage_app(tmp_path: Path) -> None:
    from aws_cdk import aws_ec2 as ec2  # noqa: PLC0415

    def build() -> cdk.App:
        app = cdk.App(outdir=str(tmp_path))
        ec2.CfnInternetGateway(cdk.Stack(app, "Top"), "Igw")
        return app

    result = run_gate(build, acknowledgements=(), lint=False)
    [failure] = result.stage("app").failures
    assert (failure.rule_id, failure.resource_path) == ("BankGrade-NoPublicNetwork", "Top/Igw")
    assert (tmp_path / "compliance-app.json").exists()
