"""Tiny template builders for the rule tests."""

from __future__ import annotations

from typing import Any

from constructs_lib.compliance.model import Compliance, RuleCheck


def template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources}


def res(rtype: str, **props: Any) -> dict[str, Any]:
    return {"Type": rtype, "Properties": props}


def judge(check: RuleCheck, tpl: dict[str, Any], logical_id: str) -> Compliance:
    return check(logical_id, tpl["Resources"][logical_id], tpl)


FN = res("AWS::Lambda::Function", Handler="x.h")
ALIAS = res("AWS::Lambda::Alias", FunctionName={"Ref": "Fn"}, FunctionVersion="1", Name="live")
VERSION = res("AWS::Lambda::Version", FunctionName={"Ref": "Fn"})
KEY = res("AWS::KMS::Key", KeyPolicy={})
