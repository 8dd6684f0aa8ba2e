from __future__ import annotations

import pytest

from constructs_lib.compliance.model import Compliance
from constructs_lib.compliance.rules.awslambda.invoked_via_alias import check

from .helpers import ALIAS, FN, VERSION, judge, res, template


def _with(invoker: dict) -> dict:
    return template(Fn=FN, Alias=ALIAS, Version=VERSION, Invoker=invoker)


COMPLIANT = {
    "permission on alias": res("AWS::Lambda::Permission", FunctionName={"Ref": "Alias"},
                               Principal="apigateway.amazonaws.com"),
    "permission on version": res("AWS::Lambda::Permission", FunctionName={"Ref": "Version"}),
    "permission on qualified name": res("AWS::Lambda::Permission", FunctionName="my-fn:live"),
    "event source on alias": res("AWS::Lambda::EventSourceMapping",
                                 FunctionName={"Ref": "Alias"}),
    "http api integration on alias": res(
        "AWS::ApiGatewayV2::Integration", IntegrationType="AWS_PROXY",
        IntegrationUri={"Ref": "Alias"}),
    "function arn joined with qualifier": res(
        "AWS::ApiGatewayV2::Integration",
        IntegrationUri={"Fn::Join": ["", [{"Fn::GetAtt": ["Fn", "Arn"]}, ":live"]]}),
    "rest api uri with qualified literal arn": res(
        "AWS::ApiGateway::Method", Integration={"Uri": (
            "arn:aws:apigateway:eu-west-2:lambda:path/2015-03-31/functions/"
            "arn:aws:lambda:eu-west-2:111111111111:function:api:live/invocations")}),
    "state machine calling alias": res(
        "AWS::StepFunctions::StateMachine",
        DefinitionString={"Fn::Join": ["", ['{"Resource":"', {"Ref": "Alias"}, '"}']]}),
    "event invoke config with qualifier": res(
        "AWS::Lambda::EventInvokeConfig", FunctionName={"Ref": "Fn"}, Qualifier="live"),
    "event invoke config on the alias (as CDK renders it)": res(
        "AWS::Lambda::EventInvokeConfig", FunctionName={"Ref": "Fn"},
        Qualifier={"Fn::Select": [7, {"Fn::Split": [":", {"Ref": "Alias"}]}]}),
    "iam grant on alias": res("AWS::IAM::Policy", PolicyDocument={"Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": {"Ref": "Alias"}}]}),
}

NON_COMPLIANT = {
    "permission on function": res("AWS::Lambda::Permission", FunctionName={"Fn::GetAtt": [
        "Fn", "Arn"]}),
    "permission on function name": res("AWS::Lambda::Permission", FunctionName={"Ref": "Fn"}),
    "permission on $LATEST": res("AWS::Lambda::Permission", FunctionName="my-fn:$LATEST"),
    "permission on bare literal name": res("AWS::Lambda::Permission", FunctionName="my-fn"),
    "permission on imported function": res("AWS::Lambda::Permission",
                                           FunctionName={"Fn::ImportValue": "FnArn"}),
    "event source on function": res("AWS::Lambda::EventSourceMapping",
                                    FunctionName={"Fn::GetAtt": ["Fn", "Arn"]}),
    "http api integration on function": res(
        "AWS::ApiGatewayV2::Integration", IntegrationUri={"Fn::GetAtt": ["Fn", "Arn"]}),
    "rest api uri with unqualified function": res(
        "AWS::ApiGateway::Method", Integration={"Uri": {"Fn::Join": ["", [
            "arn:aws:apigateway:eu-west-2:lambda:path/2015-03-31/functions/",
            {"Fn::GetAtt": ["Fn", "Arn"]}, "/invocations"]]}}),
    "state machine calling function": res(
        "AWS::StepFunctions::StateMachine",
        DefinitionString={"Fn::Join": ["", ['{"Resource":"', {"Fn::GetAtt": ["Fn", "Arn"]},
                                            '"}']]}),
    "state machine literal $LATEST": res(
        "AWS::StepFunctions::StateMachine",
        DefinitionString='{"Resource":"arn:aws:lambda:eu-west-2:1:function:f:$LATEST"}'),
    "event rule target function": res("AWS::Events::Rule", Targets=[
        {"Id": "t", "Arn": {"Fn::GetAtt": ["Fn", "Arn"]}}]),
    "custom resource provider": res("Custom::Thing", ServiceToken={"Fn::GetAtt": ["Fn", "Arn"]}),
    "iam grant on function": res("AWS::IAM::Policy", PolicyDocument={"Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction",
         "Resource": [{"Fn::GetAtt": ["Fn", "Arn"]}]}]}),
    "event invoke config on $LATEST": res(
        "AWS::Lambda::EventInvokeConfig", FunctionName={"Ref": "Fn"}, Qualifier="$LATEST"),
    "event invoke config qualifier from the function arn": res(
        "AWS::Lambda::EventInvokeConfig", FunctionName={"Ref": "Fn"},
        Qualifier={"Fn::Select": [7, {"Fn::Split": [":", {"Fn::GetAtt": ["Fn", "Arn"]}]}]}),
}


@pytest.mark.parametrize("name", COMPLIANT)
def test_invocation_through_alias_or_version_is_compliant(name: str) -> None:
    assert judge(check, _with(COMPLIANT[name]), "Invoker") is Compliance.COMPLIANT


@pytest.mark.parametrize("name", NON_COMPLIANT)
def test_direct_invocation_is_non_compliant(name: str) -> None:
    assert judge(check, _with(NON_COMPLIANT[name]), "Invoker") is Compliance.NON_COMPLIANT


def test_codedeploy_hook_on_unqualified_function_is_non_compliant() -> None:
    alias = dict(ALIAS, UpdatePolicy={"CodeDeployLambdaAliasUpdate": {
        "ApplicationName": "a", "DeploymentGroupName": "g",
        "BeforeAllowTrafficHook": {"Ref": "Fn"}}})
    assert judge(check, template(Fn=FN, Alias=alias), "Alias") is Compliance.NON_COMPLIANT
    assert judge(check, template(Fn=FN, Alias=ALIAS), "Alias") is Compliance.NOT_APPLICABLE


def test_unrelated_resources_are_not_applicable() -> None:
    tpl = template(Fn=FN, Topic=res("AWS::SNS::Topic"), Rule=res(
        "AWS::Events::Rule", Targets=[{"Id": "t", "Arn": {"Ref": "Topic"}}]))
    assert judge(check, tpl, "Topic") is Compliance.NOT_APPLICABLE
    assert judge(check, tpl, "Rule") is Compliance.NOT_APPLICABLE
