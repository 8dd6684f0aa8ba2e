"""PlatformHttpApi: JWT on every route but the public ones, alias integration, logs."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template

from constructs_lib.acceptance import acceptance_for
from constructs_lib.compliance.packs import new_packs
from constructs_lib.function import ServiceFunction
from constructs_lib.http_api import PlatformHttpApi
from constructs_lib.opt_outs import OptOut, SecureDefaultError

ENV = cdk.Environment(account="111111111111", region="eu-west-2")
POOL_ID = "eu-west-2_AbCdEfGhI"
CLIENT_ID = "4k3j2h5g6f7d8s9a0qwertyuio"
PUBLIC = {
    "GET /health": "Liveness probe; returns no customer data.",
    "POST /v1/webhooks/truelayer": "Provider webhook; the service verifies its signature.",
}


def make(**overrides: Any) -> tuple[cdk.App, cdk.Stack, PlatformHttpApi]:
    app = cdk.App()
    stack = cdk.Stack(app, "Api", env=ENV)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    fn = lambda_.Function(stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_14, handler="a.b",
                          code=lambda_.Code.from_inline("x"))
    alias = lambda_.Alias(stack, "Live", alias_name="live", version=fn.current_version)
    props: dict[str, Any] = {
        "handler": alias,
        "user_pool": cognito.UserPool.from_user_pool_id(stack, "Pool", POOL_ID),
        "user_pool_client": cognito.UserPoolClient.from_user_pool_client_id(
            stack, "Client", CLIENT_ID),
        "log_key": key,
        "throttle_rate_limit": 50,
        "throttle_burst_limit": 100,
        "public_routes": PUBLIC,
    }
    props.update(overrides)
    api = PlatformHttpApi(stack, "Http", **props)
    return app, stack, api


@pytest.fixture(scope="module")
def template() -> Template:
    _, stack, _ = make()
    return Template.from_stack(stack)


def _routes(template: Template) -> dict[str, dict[str, Any]]:
    return {r["Properties"]["RouteKey"]: r["Properties"]
            for r in template.find_resources("AWS::ApiGatewayV2::Route").values()}


def test_jwt_authorizer_trusts_the_user_pool_and_client(template: Template) -> None:
    template.has_resource_properties("AWS::ApiGatewayV2::Authorizer", {
        "AuthorizerType": "JWT",
        "IdentitySource": ["$request.header.Authorization"],
        "JwtConfiguration": {
            "Issuer": f"https://cognito-idp.eu-west-2.amazonaws.com/{POOL_ID}",
            "Audience": [CLIENT_ID],
        },
    })


def test_every_route_is_authorised_except_the_public_ones(template: Template) -> None:
    routes = _routes(template)
    assert set(routes) == {"ANY /", "ANY /{proxy+}", *PUBLIC}
    for key, props in routes.items():
        if key in PUBLIC:
            assert props["AuthorizationType"] == "NONE", key
            assert "AuthorizerId" not in props
        else:
            assert props["AuthorizationType"] == "JWT", key
            assert "AuthorizerId" in props


def test_integration_invokes_the_alias_not_the_function(template: Template) -> None:
    (integration,) = template.find_resources("AWS::ApiGatewayV2::Integration").values()
    props = integration["Properties"]
    assert props["PayloadFormatVersion"] == "2.0"
    alias_ids = list(template.find_resources("AWS::Lambda::Alias"))
    assert props["IntegrationUri"] == {"Ref": alias_ids[0]}
    permissions = template.find_resources("AWS::Lambda::Permission")
    assert permissions
    for perm in permissions.values():
        assert perm["Properties"]["FunctionName"] == {"Ref": alias_ids[0]}
        assert perm["Properties"]["Principal"] == "apigateway.amazonaws.com"


def test_default_stage_throttles_and_logs_json_without_headers(template: Template) -> None:
    template.has_resource_properties("AWS::ApiGatewayV2::Stage", {
        "StageName": "$default",
        "AutoDeploy": True,
        "DefaultRouteSettings": {
            "ThrottlingRateLimit": 50,
            "ThrottlingBurstLimit": 100,
            "DetailedMetricsEnabled": True,
        },
        "AccessLogSettings": {
            "DestinationArn": {"Fn::GetAtt": [Match.string_like_regexp("AccessLogs"), "Arn"]},
            "Format": Match.any_value(),
        },
    })
    (stage,) = template.find_resources("AWS::ApiGatewayV2::Stage").values()
    fmt = json.loads(stage["Properties"]["AccessLogSettings"]["Format"])
    values = set(fmt.values())
    for needed in ("$context.requestId", "$context.identity.sourceIp", "$context.httpMethod",
                   "$context.path", "$context.status", "$context.responseLatency",
                   "$context.integrationErrorMessage", "$context.authorizer.error"):
        assert needed in values
    assert not [v for v in values if "header" in v.lower() or "body" in v.lower()
                or "claims" in v.lower()]
    template.has_resource("AWS::Logs::LogGroup", {
        "Properties": {"KmsKeyId": Match.any_value(), "RetentionInDays": 365},
        "DeletionPolicy": "Retain",
    })


def test_no_cors_and_execute_api_endpoint_kept_for_cloudfront(template: Template) -> None:
    (api,) = template.find_resources("AWS::ApiGatewayV2::Api").values()
    assert "CorsConfiguration" not in api["Properties"]
    assert api["Properties"]["DisableExecuteApiEndpoint"] is False


def test_endpoint_domain_is_the_execute_api_host() -> None:
    _, stack, api = make()
    resolved = stack.resolve(api.endpoint_domain)
    parts = resolved["Fn::Join"][1]
    assert "Ref" in parts[0]
    assert ".execute-api.eu-west-2." in parts[1]
    assert "https" not in json.dumps(resolved)


def test_a_custom_domain_replaces_the_execute_api_endpoint() -> None:
    app = cdk.App()
    certs = cdk.Stack(app, "Certs", env=ENV)
    cert = acm.Certificate.from_certificate_arn(
        certs, "Cert", "arn:aws:acm:eu-west-2:111111111111:certificate/abc")
    _, stack, api = make(custom_domain=("origin.example.com", cert))
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::ApiGatewayV2::Api", {"DisableExecuteApiEndpoint": True})
    template.has_resource_properties("AWS::ApiGatewayV2::DomainName", {
        "DomainName": "origin.example.com",
        "DomainNameConfigurations": [Match.object_like({
            "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"})]})
    template.resource_count_is("AWS::ApiGatewayV2::ApiMapping", 1)
    assert api.endpoint_domain == "origin.example.com"


def test_public_routes_are_throttled_on_their_own(template: Template) -> None:
    (stage,) = template.find_resources("AWS::ApiGatewayV2::Stage").values()
    assert stage["Properties"]["RouteSettings"] == {
        key: {"ThrottlingRateLimit": 10, "ThrottlingBurstLimit": 20} for key in PUBLIC}


def test_a_function_instead_of_an_alias_is_refused() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    fn = lambda_.Function(stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_14, handler="a.b",
                          code=lambda_.Code.from_inline("x"))
    with pytest.raises(TypeError, match="alias"):
        PlatformHttpApi(
            stack, "Http", handler=fn,
            user_pool=cognito.UserPool.from_user_pool_id(stack, "P", POOL_ID),
            user_pool_client=cognito.UserPoolClient.from_user_pool_client_id(stack, "C", CLIENT_ID),
            log_key=kms.Key(stack, "K"), throttle_rate_limit=1, throttle_burst_limit=1,
        )


def test_public_routes_are_accepted_with_their_own_reason() -> None:
    _, _, api = make()
    route = api.http_api.node.find_child("GET--health")
    accepted = acceptance_for(route, "AwsSolutions-APIG4")
    assert accepted is not None
    assert accepted.source == "design"
    assert accepted.reason == f"Public route GET /health: {PUBLIC['GET /health']}"
    authorised = api.http_api.node.find_child("ANY--{proxy+}")
    assert acceptance_for(authorised, "AwsSolutions-APIG4") is None


def test_no_route_is_public_by_default() -> None:
    _, stack, _ = make(public_routes=None)
    assert set(_routes(Template.from_stack(stack))) == {"ANY /", "ANY /{proxy+}"}


def test_a_public_route_without_a_reason_is_refused() -> None:
    with pytest.raises(SecureDefaultError, match="need a reason"):
        make(public_routes={"GET /v1/public-rates": "public"})


def test_malformed_public_route_is_rejected() -> None:
    with pytest.raises(ValueError, match="METHOD /path"):
        make(public_routes={"health": "A reason long enough to pass the length check."})


@pytest.mark.parametrize(
    ("prop", "setting"),
    [
        ({"log_retention": logs.RetentionDays.ONE_WEEK}, "PlatformHttpApi.log_retention"),
        ({"log_removal_policy": cdk.RemovalPolicy.DESTROY}, "PlatformHttpApi.log_removal_policy"),
    ],
)
def test_log_weakening_needs_the_named_opt_out(prop: dict[str, Any], setting: str) -> None:
    with pytest.raises(SecureDefaultError, match=setting.replace(".", r"\.")):
        make(**prop)
    make(**prop, opt_outs=[OptOut(setting, "Short-lived preview environment, no real users.")])


def test_unknown_opt_out_for_this_construct_is_rejected() -> None:
    with pytest.raises(SecureDefaultError, match="Unknown"):
        make(opt_outs=[OptOut("PlatformHttpApi.cors", "We want CORS from everywhere please.")])


def test_every_pack_passes_for_function_plus_api() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    fn = ServiceFunction(
        stack, "Fn", memory_size=512, timeout=cdk.Duration.seconds(29),
        p99_duration_threshold=cdk.Duration.seconds(2),
        deployment_config=codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
        log_key=key, queue_key=key, environment_key=key, reserved_concurrent_executions=5,
        alarm_emails=["oncall@example.org"], alarm_key=key, code=lambda_.Code.from_inline("x"),
        handler="index.handler",
    )
    PlatformHttpApi(
        stack, "Http", handler=fn.alias,
        user_pool=cognito.UserPool.from_user_pool_id(stack, "P", POOL_ID),
        user_pool_client=cognito.UserPoolClient.from_user_pool_client_id(stack, "C", CLIENT_ID),
        log_key=key, throttle_rate_limit=10, throttle_burst_limit=20, public_routes=PUBLIC,
    )
    cdk.Validations.of(app).add_plugins(*new_packs())
    app.synth()  # raises ValidationFailed on any unacknowledged finding


def test_access_logs_never_carry_the_query_string() -> None:
    # Search text and amounts travel in query strings: only the path and route are logged
    # ($context.path is the path alone on an HTTP API).
    from constructs_lib.http_api import ACCESS_LOG_FORMAT  # noqa: PLC0415

    variables = " ".join(ACCESS_LOG_FORMAT.values()).lower()
    for leak in ("querystring", "rawquery", "$context.requestoverride", "$input", "header"):
        assert leak not in variables, leak
    assert ACCESS_LOG_FORMAT["path"] == "$context.path"
