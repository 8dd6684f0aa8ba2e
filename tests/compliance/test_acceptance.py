"""``accept``: the one way to accept a finding; qualified ids, metadata, lookup by ancestry."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from constructs_lib.acceptance import ACCEPTANCE_METADATA_KEY, accept, acceptance_for

REASON = "Accepted in a test with a reason long enough to judge."


def _igw(tmp_path: Path) -> tuple[cdk.Stack, ec2.CfnInternetGateway]:
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path)), "Net")
    return stack, ec2.CfnInternetGateway(stack, "Igw")


def test_ids_are_recorded_qualified_by_their_pack(tmp_path: Path) -> None:
    stack, _ = _igw(tmp_path)
    recorded = accept(stack, ("AwsSolutions-IAM5[Resource::*]", "BankGrade-NoPublicNetwork"),
                      REASON)

    assert recorded == ("AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                        "BankGrade::BankGrade-NoPublicNetwork")
    acknowledged = {key for e in stack.node.metadata if e.type == "aws:cdk:acknowledged-rules"
                    for key in e.data}
    assert acknowledged == set(recorded)
    [ours] = [e.data for e in stack.node.metadata if e.type == ACCEPTANCE_METADATA_KEY]
    assert ours["source"] == "design"


def test_lookup_walks_ancestors_and_reports_where(tmp_path: Path) -> None:
    stack, igw = _igw(tmp_path)
    accept(stack, ("BankGrade-NoPublicNetwork",), REASON, source="opt-out")

    found = acceptance_for(igw, "BankGrade-NoPublicNetwork")
    assert found is not None
    assert (found.rule_id, found.reason, found.source, found.at) == (
        "BankGrade-NoPublicNetwork", REASON, "opt-out", "Net")
    assert acceptance_for(igw, "BankGrade-NoWildcardPermissions") is None


def test_unknown_pack_and_short_reason_are_refused(tmp_path: Path) -> None:
    stack, _ = _igw(tmp_path)
    with pytest.raises(ValueError, match="not a rule id"):
        accept(stack, ("Cfn-Guard-S3",), REASON)
    with pytest.raises(ValueError, match="reason"):
        accept(stack, ("AwsSolutions-L1",), "too short")


def test_no_construct_of_the_library_acknowledges_outside_accept() -> None:
    import constructs_lib  # noqa: PLC0415

    library = Path(constructs_lib.__file__).parent
    offenders = [p.relative_to(library).as_posix() for p in library.rglob("*.py")
                 if ".acknowledge(" in p.read_text() and p.name != "acceptance.py"]
    assert offenders == []
