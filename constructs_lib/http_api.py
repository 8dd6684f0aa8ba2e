"""``PlatformHttpApi``: API Gateway v2 HTTP API in front of a Lambda *alias*.

What you get by default
-----------------------
* Routes ``ANY /`` and ``ANY /{proxy+}`` to the given alias (payload format 2.0),
  every one behind a Cognito JWT authorizer (issuer
  ``https://cognito-idp.<region>.amazonaws.com/<pool id>``, audience = the app
  client id).
* Only the explicitly public routes skip the authorizer: ``GET /health``,
  ``GET /openapi.json``, ``GET /docs`` and ``POST /v1/webhooks/{proxy+}`` (webhooks
  prove themselves with a provider signature the service verifies). Making any
  other route public needs the opt-out ``PlatformHttpApi.public_routes``;
  removing defaults from the list is always allowed.
* The ``$default`` stage with stage-wide throttling and JSON access logs to a
  CMK-encrypted log group: request id, source ip, method, path, route, status,
  latency, integration and authorizer errors -- never headers, tokens or bodies.
* No CORS (the API is called by our own apps through CloudFront).

Only the alias is integrated: :class:`TypeError` for a function (``$LATEST``).

Clients must not bypass CloudFront/WAF: the distribution sends the secret header
``X-Origin-Verify``, which the service checks. Set ``disable_execute_api_endpoint``
once the API is reached through a custom domain instead of the execute-api host.

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
from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib._props import MIN_LOG_RETENTION_DAYS, as_retention, retention_days
from constructs_lib.compliance.acknowledgements import acknowledge_design
from constructs_lib.function import allow_cloudwatch_logs
from constructs_lib.opt_outs import OptOut, SecureDefaultError, require_opt_out

__all__ = ["ACCESS_LOG_FORMAT", "DEFAULT_PUBLIC_ROUTES", "PlatformHttpApi", "PublicRoute"]

DEFAULT_PUBLIC_ROUTES: tuple[str, ...] = (
    "GET /health",
    "GET /openapi.json",
    "GET /docs",
    "POST /v1/webhooks/{proxy+}",
)
# Default public routes -> their entry in the acknowledgement registry (the reasons).
_PUBLIC_ROUTE_ACKS = {
    "GET /health": "PlatformHttpApi.public_health",
    "GET /openapi.json": "PlatformHttpApi.public_openapi",
    "GET /docs": "PlatformHttpApi.public_docs",
    "POST /v1/webhooks/{proxy+}": "PlatformHttpApi.public_webhooks",
}

_PREFIX = "PlatformHttpApi."
SETTING_PUBLIC_ROUTES = f"{_PREFIX}public_routes"
SETTING_LOG_RETENTION = f"{_PREFIX}log_retention"
SETTING_LOG_REMOVAL_POLICY = f"{_PREFIX}log_removal_policy"
KNOWN_SETTINGS = (SETTING_PUBLIC_ROUTES, SETTING_LOG_RETENTION, SETTING_LOG_REMOVAL_POLICY)

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
        ``"METHOD /path"`` keys served without the authorizer. Default
        :data:`DEFAULT_PUBLIC_ROUTES`; anything beyond it needs the opt-out
        ``PlatformHttpApi.public_routes``.
    authorization_scopes:
        OAuth scopes every authorised route requires (default none).
    disable_execute_api_endpoint:
        Turn off the ``execute-api`` host (only with a custom domain; the
        CloudFront origin otherwise uses it). Default ``False``.
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
        public_routes: Sequence[str] = DEFAULT_PUBLIC_ROUTES,
        authorization_scopes: Sequence[str] = (),
        disable_execute_api_endpoint: bool = False,
        log_retention: logs.RetentionDays | int = logs.RetentionDays.ONE_YEAR,
        log_removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        api_name: str | None = None,
        opt_outs: Sequence[OptOut] = (),
    ) -> None:
        super().__init__(scope, id_)
        mine = [o for o in opt_outs if o.setting.startswith(_PREFIX)]
        unknown = [o.setting for o in mine if o.setting not in KNOWN_SETTINGS]
        if unknown:
            raise SecureDefaultError(
                f"Unknown opt-out setting(s) {unknown} for PlatformHttpApi; known: "
                f"{list(KNOWN_SETTINGS)}"
            )
        if getattr(handler, "alias_name", None) is None:
            raise TypeError(
                "PlatformHttpApi integrates a Lambda alias (e.g. ServiceFunction.alias), not a "
                "function: $LATEST would bypass CodeDeploy's traffic shifting and rollback."
            )
        if throttle_rate_limit <= 0 or throttle_burst_limit <= 0:
            raise ValueError("throttle limits must be positive")
        log_retention = as_retention(log_retention)
        routes = [PublicRoute.parse(key) for key in dict.fromkeys(public_routes)]
        extra = [k for k in dict.fromkeys(public_routes) if k not in DEFAULT_PUBLIC_ROUTES]
        if retention_days(log_retention) < MIN_LOG_RETENTION_DAYS:
            require_opt_out(self, SETTING_LOG_RETENTION, mine,
                            weakened=f"log_retention={log_retention.name}")
        if log_removal_policy != cdk.RemovalPolicy.RETAIN:
            require_opt_out(self, SETTING_LOG_REMOVAL_POLICY, mine,
                            weakened=f"log_removal_policy={log_removal_policy.name}")
        extra_opt_out = (
            require_opt_out(self, SETTING_PUBLIC_ROUTES, mine,
                            weakened=f"Public routes {extra} (no authorizer)")
            if extra else None
        )

        authorizer = authorizers.HttpUserPoolAuthorizer(
            "CognitoJwt", user_pool, user_pool_clients=[user_pool_client],
        )
        self._http_api = apigwv2.HttpApi(
            self, "HttpApi",
            api_name=api_name,
            create_default_stage=False,
            disable_execute_api_endpoint=disable_execute_api_endpoint,
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
        for route in routes:
            key = f"{route.method.value} {route.path}"
            (created,) = self._http_api.add_routes(
                path=route.path, methods=[route.method], integration=integration,
                authorizer=none,
            )
            if key in _PUBLIC_ROUTE_ACKS:
                acknowledge_design(created, _PUBLIC_ROUTE_ACKS[key])
            elif extra_opt_out is not None:
                cdk.Validations.of(created).acknowledge(cdk.Acknowledgment(
                    id="AwsSolutions-APIG4", reason=f"Public route {key}: {extra_opt_out.reason}"
                ))

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
        stack = cdk.Stack.of(self)
        self._endpoint_domain = (
            f"{self._http_api.api_id}.execute-api.{stack.region}.{stack.url_suffix}"
        )

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
        """``<api id>.execute-api.<region>.<suffix>``: the CloudFront origin host."""
        return self._endpoint_domain

    @property
    def access_log_group(self) -> logs.LogGroup:
        """CMK-encrypted log group of the stage's JSON access logs."""
        return self._access_log_group
