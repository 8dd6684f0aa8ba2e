"""Running a pack's rules over a template."""

from __future__ import annotations

from constructs_lib.compliance.engine import evaluate
from constructs_lib.compliance.model import Compliance, Resource, Rule, Template
from constructs_lib.compliance.packs import bank_grade


def _broken(logical_id: str, resource: Resource, template: Template) -> Compliance:
    raise KeyError("Properties")


def test_a_rule_that_raises_counts_against_the_resource() -> None:
    rule = Rule(id="BankGrade-Broken", check=_broken, info="i", explanation="e")
    [result] = evaluate([rule], {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}})
    assert result.compliance is Compliance.NON_COMPLIANT
    assert result.error is not None and "KeyError" in result.error


def test_every_resource_meets_every_rule() -> None:
    template = {"Resources": {"A": {"Type": "AWS::SQS::Queue"},
                              "B": {"Type": "AWS::EC2::NatGateway"}}}
    results = evaluate(bank_grade.RULES, template)
    assert len(results) == 2 * len(bank_grade.RULES)
    failing = {(r.rule.id, r.logical_id) for r in results
               if r.compliance is Compliance.NON_COMPLIANT}
    assert failing == {("BankGrade-CustomerManagedKey", "A"), ("BankGrade-NoPublicNetwork", "B")}


def test_pack_rule_ids_are_unique_and_documented() -> None:
    ids = [rule.id for rule in bank_grade.RULES]
    assert len(ids) == len(set(ids)) == 6
    assert all(i.startswith("BankGrade-") for i in ids)
    assert all(len(rule.info) > 20 and len(rule.explanation) > 60 for rule in bank_grade.RULES)
