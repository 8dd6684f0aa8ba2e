"""``PlatformHttpApi``: API Gateway v2 HTTP API in front of a Lambda *alias*.

What you get by default
-----------------------
* Routes ``ANY /`` and ``ANY /{proxy+}`` to the given alias (payload format 2.0),
  every one behind a Cognito JWT authorizer (issuer
  ``https://cognito-idp.<region>.amazonaws.com/<pool id>``, audience = the app
  client id).
* Only the routes you declare public skip the authorizer, each given with the reason
  it may be public (``{"GET /health": "Liveness probe; returns no data."}``). The
  construct accepts ``AwsSolutions-APIG4`` on exactly those routes with that reason;
  there are no public routes by default.
* The ``$default`` stage with stage-wide throttling and JSON access logs to a
  CMK-encrypted log group: request id, source ip, method, path, route, status,
  latency, integration and authorizer errors -- never headers, tokens or bodies.
* No CORS (the API is called by our own apps through CloudFront).

Only the alias is integrated: :class:`TypeError` for a function (``$LATEST``).

Clients must not bypass CloudFront/WAF: the distribution sends the secret header
``X-Origin-Verify``, which the service checks. With ``custom_domain`` (a regional
domain and its certificate in the API's region) the API is served on that domain, which
becomes :attr:`PlatformHttpApi.endpoint_domain` (CloudFront's origin), and the default
``execute-api`` endpoint is disabled. Public routes are throttled on their own
(``public_route_rate_limit``), well below the stage limit.

Example
-------
::

    api = PlatformHttpApi(
        self, "Api",
        handler=fn.alias,
        user_pool=pool, user_pool_client=client,
        log_key=keys.logs,
        throttle_rate_limit=500, throttle_burst_limit=1000,
    )
    EdgeDistribution(..., api_domain=api.endpoint_domain)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.acceptance import accept
from constructs_lib.log_storage import (
    MIN_LOG_RETENTION_DAYS,
    allow_cloudwatch_logs,
    as_retention,
    retention_days,
)
from constructs_lib.opt_outs import (
    OptOut,
    SecureDefaultError,
    reject_unknown_opt_outs,
    weaken_if,
)

__all__ = ["ACCESS_LOG_FORMAT", "PlatformHttpApi", "PublicRoute"]

_PREFIX = "PlatformHttpApi."
SETTING_LOG_RETENTION = f"{_PREFIX}log_retention"
SETTING_LOG_REMOVAL_POLICY = f"{_PREFIX}log_removal_policy"
KNOWN_SETTINGS = (SETTING_LOG_RETENTION, SETTING_LOG_REMOVAL_POLICY)
MIN_PUBLIC_REASON_LENGTH = 20

# Access log record: who called what, the outcome and where it failed. Deliberately
# no headers, query strings, bodies or claims (tokens and personal data stay out).
ACCESS_LOG_FORMAT: dict[str, str] = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTimeEpoch",
    "ip": "$context.identity.sourceIp",
    "method": "$context.httpMethod",
    "path": "$context.path",
    "routeKey": "$context.routeKey",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "errorMessage": "$context.error.message",
}

_ROUTE = re.compile(r"^(ANY|GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (/[A-Za-z0-9._~{}+/-]*)$")


@dataclass(frozen=True, slots=True)
class PublicRoute:
    """A parsed ``"METHOD /path"`` route key."""

    method: apigwv2.HttpMethod
    path: str

    @classmethod
    def parse(cls, key: str) -> PublicRoute:
        """Parse ``"GET /health"``; raise :class:`ValueError` on anything else."""
        match = _ROUTE.match(key)
        if not match:
            raise ValueError(f"Route {key!r} is not 'METHOD /path'")
        return cls(apigwv2.HttpMethod[match.group(1)], match.group(2))

    @property
    def key(self) -> str:
        """``"METHOD /path"``."""
        return f"{self.method.value} {self.path}"


def _public_routes(routes: Mapping[str, str]) -> dict[PublicRoute, str]:
    """Parse ``{"METHOD /path": reason}``; every route needs a reason a reviewer can judge."""
    short = [key for key, reason in routes.items()
             if len(reason.strip()) < MIN_PUBLIC_REASON_LENGTH]
    if short:
        raise SecureDefaultError(
            f"Public routes {short} need a reason each (at least {MIN_PUBLIC_REASON_LENGTH} "
            "characters): why may they be called without a token?")
    return {PublicRoute.parse(key): reason for key, reason in routes.items()}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """``IAccessLogSettings`` is a jsii interface (not a struct) in Python."""

    def __init__(
        self, destination: apigwv2.IAccessLogDestination, fmt: apigw.AccessLogFormat
    ) -> None:
        self._destination = destination
        self._format = fmt

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


class PlatformHttpApi(Construct):
    """HTTP API with a Cognito JWT authorizer on every route but the public ones.

    Parameters
    ----------
    scope, id_:
        Construct scope and id.
    handler:
        The Lambda alias to integrate (e.g. ``ServiceFunction.alias``); never a
        function's ``$LATEST``.
    user_pool, user_pool_client:
        Issuer and audience of the JWT authorizer.
    log_key:
        CMK for the access log group (policy must allow CloudWatch Logs; added
        here when it is a ``kms.Key`` in this stack).
    throttle_rate_limit, throttle_burst_limit:
        Stage-wide steady-state requests per second and burst.
    public_routes:
        ``{"METHOD /path": reason}``: routes served without the authorizer, each with
        why that is safe (at least 20 characters; it becomes the accepted finding's
        reason). Default none.
    authorization_scopes:
        OAuth scopes every authorised route requires (default none).
    custom_domain:
        ``(domain name, regional ACM certificate)`` to serve the API on; the
        ``execute-api`` endpoint is then disabled. Default none (the origin is the
        ``execute-api`` host, guarded by the origin-verify header).
    public_route_rate_limit, public_route_burst_limit:
        Per-route throttle of every public route (default 10 requests/s, burst 20).
    log_retention, log_removal_policy:
        Access-log retention (``RetentionDays`` or days; default one year; under 365 days needs
        ``PlatformHttpApi.log_retention``) and removal (default ``RETAIN``;
        otherwise ``PlatformHttpApi.log_removal_policy``).
    api_name:
        Name of the API; default the construct id.
    opt_outs:
        Explicit, recorded opt-outs; those for other constructs are ignored.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        handler: lambda_.IFunction,
        user_pool: cognito.IUserPool,
        user_pool_client: cognito.IUserPoolClient,
        log_key: kms.IKey,
        throttle_rate_limit: float,
        throttle_burst_limit: int,
        public_routes: Mapping[str, str] | None = None,
        authorization_scopes: Sequence[str] = (),
        custom_domain: tuple[str, acm.ICertificate] | None = None,
        public_route_rate_limit: float = 10,
        public_route_burst_limit: int = 20,
        log_retention: logs.RetentionDays | int = logs.RetentionDays.ONE_YEAR,
        log_removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        api_name: str | None = None,
        opt_outs: Sequence[OptOut] = (),
    ) -> None:
        super().__init__(scope, id_)
        mine = reject_unknown_opt_outs(opt_outs, KNOWN_SETTINGS)
        if getattr(handler, "alias_name", None) is None:
            raise TypeError(
                "PlatformHttpApi integrates a Lambda alias (e.g. ServiceFunction.alias), not a "
                "function: $LATEST would bypass CodeDeploy's traffic shifting and rollback."
            )
        if throttle_rate_limit <= 0 or throttle_burst_limit <= 0:
            raise ValueError("throttle limits must be positive")
        log_retention = as_retention(log_retention)
        routes = _public_routes(public_routes or {})
        weaken_if(self, retention_days(log_retention) < MIN_LOG_RETENTION_DAYS,
                  setting=SETTING_LOG_RETENTION, opt_outs=mine,
                  weakened=f"log_retention={log_retention.name}")
        weaken_if(self, log_removal_policy != cdk.RemovalPolicy.RETAIN,
                  setting=SETTING_LOG_REMOVAL_POLICY, opt_outs=mine,
                  weakened=f"log_removal_policy={log_removal_policy.name}")
        authorizer = authorizers.HttpUserPoolAuthorizer(
            "CognitoJwt", user_pool, user_pool_clients=[user_pool_client],
        )
        self._http_api = apigwv2.HttpApi(
            self, "HttpApi",
            api_name=api_name,
            create_default_stage=False,
            disable_execute_api_endpoint=custom_domain is not None,
            default_authorizer=authorizer,
            default_authorization_scopes=list(authorization_scopes) or None,
        )
        integration = integrations.HttpLambdaIntegration(
            "Service", handler,
            payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
        )
        for path in ("/", "/{proxy+}"):
            self._http_api.add_routes(path=path, methods=[apigwv2.HttpMethod.ANY],
                                      integration=integration)
        none = apigwv2.HttpNoneAuthorizer()
        for route, reason in routes.items():
            (created,) = self._http_api.add_routes(
                path=route.path, methods=[route.method], integration=integration,
                authorizer=none,
            )
            accept(created, ("AwsSolutions-APIG4",), f"Public route {route.key}: {reason}")

        allow_cloudwatch_logs(log_key, self)
        self._access_log_group = logs.LogGroup(
            self, "AccessLogs",
            encryption_key=log_key,
            retention=log_retention,
            removal_policy=log_removal_policy,
        )
        self._stage = apigwv2.HttpStage(
            self, "DefaultStage",
            http_api=self._http_api,
            stage_name="$default",
            auto_deploy=True,
            detailed_metrics_enabled=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=throttle_rate_limit, burst_limit=throttle_burst_limit,
            ),
            access_log_settings=_AccessLogSettings(
                apigwv2.LogGroupLogDestination(self._access_log_group),
                apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT)),
            ),
        )
        self._throttle_public_routes(routes, public_route_rate_limit, public_route_burst_limit)
        stack = cdk.Stack.of(self)
        self._domain: apigwv2.DomainName | None = None
        self._endpoint_domain = (
            f"{self._http_api.api_id}.execute-api.{stack.region}.{stack.url_suffix}"
        )
        if custom_domain is not None:
            self._endpoint_domain = self._serve_on(*custom_domain)

    def _throttle_public_routes(self, routes: Mapping[PublicRoute, str], rate: float,
                                burst: int) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("public route throttle limits must be positive")
        cfn = self._stage.node.default_child
        assert isinstance(cfn, apigwv2.CfnStage)
        cfn.route_settings = {
            route.key: {"ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst}
            for route in routes
        }

    def _serve_on(self, domain_name: str, certificate: acm.ICertificate) -> str:
        """Serve the stage on a regional custom domain; return the domain name."""
        self._domain = apigwv2.DomainName(
            self, "Domain", domain_name=domain_name, certificate=certificate,
            security_policy=apigwv2.SecurityPolicy.TLS_1_2,
            endpoint_type=apigwv2.EndpointType.REGIONAL,
        )
        apigwv2.ApiMapping(self, "Mapping", api=self._http_api, domain_name=self._domain,
                           stage=self._stage)
        return domain_name

    @property
    def http_api(self) -> apigwv2.HttpApi:
        """The HTTP API."""
        return self._http_api

    @property
    def stage(self) -> apigwv2.HttpStage:
        """The ``$default`` stage (throttling, access logs)."""
        return self._stage

    @property
    def endpoint_domain(self) -> str:
        """The CloudFront origin host: the custom domain, else the ``execute-api`` host."""
        return self._endpoint_domain

    @property
    def domain(self) -> apigwv2.DomainName | None:
        """The regional custom domain (point its DNS at ``regional_domain_name``)."""
        return self._domain

    @property
    def access_log_group(self) -> logs.LogGroup:
        """CMK-encrypted log group of the stage's JSON access logs."""
        return self._access_log_group
