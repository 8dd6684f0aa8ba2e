"""Edge: a CloudFront-scoped WAF (``EdgeProtection``) and the distribution in front
of the HTTP API (``EdgeDistribution``).

Bypass prevention
-----------------
Clients must not reach the API without passing CloudFront and its WAF:

* CloudFront adds the header ``X-Origin-Verify`` to every origin request. Its value
  comes from Secrets Manager at deploy time (a ``{{resolve:secretsmanager:...}}``
  dynamic reference in the template, never the value) and the service rejects
  requests whose header does not match the secret it reads at cold start. Rotate
  by redeploying this stack; the service should accept the current and the
  previous secret version during the switch.
* Once a custom domain fronts the API Gateway itself, turn off its execute-api
  endpoint (``PlatformHttpApi(disable_execute_api_endpoint=True)``).

The viewer's address
--------------------
The origin request policy is the managed ``AllViewerExceptHostHeader``: every viewer header
(``Authorization`` included) except ``Host`` (API Gateway must see its own host) plus the
CloudFront headers, among them ``CloudFront-Viewer-Address`` (``ip:port`` of the client as
CloudFront saw it), which the app uses as the user's IP. A custom policy cannot do better:
``allExcept`` cannot add CloudFront headers, ``allViewerAndWhitelistCloudFront`` forwards
``Host``, and a whitelist cannot carry ``Authorization`` under a caching-disabled cache policy.
``X-Forwarded-For`` is client-controlled at its start and must never be trusted for this.

Access logging decision (documented choice)
-------------------------------------------
Standard logging *legacy* (the distribution's ``Logging`` property) always writes
``cs-uri-query``, and this API's query strings carry search text and amounts, so
``EdgeDistribution`` does not enable it. Access logs are delivered by CloudFront
standard logging *v2* instead: ``EdgeAccessLogs`` (:mod:`constructs_lib.edge_access_logs`)
with an explicit record-field list that leaves out the query string, cookies and the
referer. Its delivery source can only be created in us-east-1, so it sits in a
us-east-1 stack deployed after the distribution's stack, which hands it the
distribution id (a cross-region reference). ``AwsSolutions-CFR3`` only looks at legacy
logging; the distribution accepts it with that reason.

Example
-------
::

    # us-east-1 stack
    waf = EdgeProtection(edge_stack, "Waf", log_key=edge_key, rate_limit=2000)
    # home-region stack (cross_region_references=True)
    cdn = EdgeDistribution(
        api_stack, "Cdn",
        api_domain=api.endpoint_domain,
        origin_verify_secret=secrets.origin_verify,
        web_acl_id=waf.web_acl_arn,
        domain_names=["api.example.com"], certificate=cert,  # us-east-1 ACM cert
    )
    # us-east-1 stack deployed after api_stack (cross_region_references=True)
    EdgeAccessLogs(logs_stack, "CdnLogs", distribution_id=cdn.distribution.distribution_id,
                   log_key=logs_key)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from constructs_lib.acceptance import accept
from constructs_lib.log_storage import (
    MIN_LOG_RETENTION_DAYS,
    allow_cloudwatch_logs,
    as_retention,
    retention_days,
)
from constructs_lib.opt_outs import OptOut, reject_unknown_opt_outs, require_opt_out

__all__ = [
    "EDGE_REGION",
    "MANAGED_RULE_GROUPS",
    "ORIGIN_REQUEST_POLICY_ID",
    "ORIGIN_VERIFY_HEADER",
    "VIEWER_ADDRESS_HEADER",
    "EdgeDistribution",
    "EdgeProtection",
]

EDGE_REGION = "us-east-1"
ORIGIN_VERIFY_HEADER = "X-Origin-Verify"
HSTS_MAX_AGE = cdk.Duration.seconds(63_072_000)  # two years, the preload-list minimum is one

# Evaluated in this order after the per-IP rate limit.
MANAGED_RULE_GROUPS: tuple[str, ...] = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)
_REDACTED_HEADERS = ("authorization", "cookie")

_WAF = "EdgeProtection."
WAF_LOG_RETENTION = f"{_WAF}log_retention"
WAF_LOG_REMOVAL_POLICY = f"{_WAF}log_removal_policy"
WAF_RULE_ACTION_OVERRIDES = f"{_WAF}rule_action_overrides"
WAF_KNOWN = (WAF_LOG_RETENTION, WAF_LOG_REMOVAL_POLICY, WAF_RULE_ACTION_OVERRIDES)

_CDN = "EdgeDistribution."
CDN_CUSTOM_DOMAIN = f"{_CDN}custom_domain"
CDN_MIN_PROTOCOL = f"{_CDN}minimum_protocol_version"
CDN_WEB_ACL = f"{_CDN}web_acl"
CDN_KNOWN = (CDN_CUSTOM_DOMAIN, CDN_MIN_PROTOCOL, CDN_WEB_ACL)

# Weakest acceptable viewer TLS policy first; anything not listed is weaker.
_STRONG_TLS = (
    cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
    cloudfront.SecurityPolicyProtocol.TLS_V1_2_2025,
    cloudfront.SecurityPolicyProtocol.TLS_V1_3_2025,
)


class EdgeProtection(Construct):
    """A CloudFront-scoped WAFv2 web ACL with managed rules, rate limit and logging.

    Must be created in a us-east-1 stack (CloudFront web ACLs live there).

    Parameters
    ----------
    scope, id_:
        Construct scope and id (stack region must be us-east-1).
    log_key:
        A us-east-1 CMK for the ``aws-waf-logs-*`` log group (policy must allow
        CloudWatch Logs; added when it is a ``kms.Key`` in this stack).
    rate_limit:
        Requests per client IP per 5-minute window before blocking (>= 10).
    anonymous_ip_exempt_path_prefixes:
        Path prefixes the anonymous-IP list does not apply to, e.g. the app's webhook
        paths: providers call webhooks from cloud hosting ranges, which that list
        blocks, and the service verifies their signatures instead. Default none.
        The IP reputation list, rate limit and all other rules still apply.
    rule_action_overrides:
        ``{rule group: [rule names]}`` to *count* instead of block (false
        positives). Needs the opt-out ``EdgeProtection.rule_action_overrides``.
    log_retention, log_removal_policy:
        Default one year (``RetentionDays`` or days) / ``RETAIN``; under 365 days
        or not retained needs the matching opt-out.
    opt_outs:
        Explicit, recorded opt-outs; those for other constructs are ignored.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        log_key: kms.IKey,
        rate_limit: int,
        anonymous_ip_exempt_path_prefixes: Sequence[str] = (),
        rule_action_overrides: Mapping[str, Sequence[str]] | None = None,
        log_retention: logs.RetentionDays | int = logs.RetentionDays.ONE_YEAR,
        log_removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        opt_outs: Sequence[OptOut] = (),
    ) -> None:
        super().__init__(scope, id_)
        mine = reject_unknown_opt_outs(opt_outs, WAF_KNOWN)
        log_retention = as_retention(log_retention)
        stack = cdk.Stack.of(self)
        _require_region(stack.region, "EdgeProtection (a CLOUDFRONT-scoped web ACL)")
        _require_region(_key_region(log_key), "EdgeProtection's log_key")
        if rate_limit < 10:
            raise ValueError("rate_limit must be at least 10 requests per 5 minutes (WAF minimum)")
        overrides = {g: list(r) for g, r in (rule_action_overrides or {}).items() if r}
        unknown_groups = sorted(set(overrides) - set(MANAGED_RULE_GROUPS))
        if unknown_groups:
            raise ValueError(f"rule_action_overrides names unknown rule groups {unknown_groups}")
        if overrides:
            require_opt_out(self, WAF_RULE_ACTION_OVERRIDES, mine,
                            weakened=f"Counting instead of blocking {overrides}")
        _check_log_settings(self, mine, retention=log_retention, removal=log_removal_policy,
                            retention_setting=WAF_LOG_RETENTION,
                            removal_setting=WAF_LOG_REMOVAL_POLICY)

        metric_prefix = re.sub(r"[^A-Za-z0-9]", "", cdk.Names.unique_id(self))[-100:]
        rules: list[Any] = [
            wafv2.CfnWebACL.RuleProperty(
                name="RateLimitPerIp",
                priority=0,
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=rate_limit,
                        aggregate_key_type="IP",
                        evaluation_window_sec=300,
                    )
                ),
                visibility_config=_visibility(f"{metric_prefix}RateLimitPerIp"),
            )
        ]
        for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1):
            scope_down = (
                _not_path_prefixes(anonymous_ip_exempt_path_prefixes)
                if group == "AWSManagedRulesAnonymousIpList" and anonymous_ip_exempt_path_prefixes
                else None
            )
            rules.append(wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS",
                        name=group,
                        scope_down_statement=scope_down,
                        rule_action_overrides=[
                            wafv2.CfnWebACL.RuleActionOverrideProperty(
                                name=rule_name,
                                action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={}),
                            )
                            for rule_name in overrides.get(group, [])
                        ] or None,
                    )
                ),
                visibility_config=_visibility(f"{metric_prefix}{group}"),
            ))

        self._web_acl = wafv2.CfnWebACL(
            self, "WebAcl",
            scope="CLOUDFRONT",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(f"{metric_prefix}WebAcl"),
            rules=rules,
            description="Edge protection for the platform API - managed rules, per-IP rate limit",
        )

        log_group_name = "aws-waf-logs-" + cdk.Names.unique_resource_name(
            self, max_length=200, separator="-").lower()
        allow_cloudwatch_logs(log_key, self, log_group_name=log_group_name)
        self._log_group = logs.LogGroup(
            self, "Logs",
            log_group_name=log_group_name,
            encryption_key=log_key,
            retention=log_retention,
            removal_policy=log_removal_policy,
        )
        # WAF wants the bare log-group ARN (no ":*" suffix, unlike LogGroup.log_group_arn).
        destination = stack.format_arn(
            service="logs", resource="log-group",
            resource_name=self._log_group.log_group_name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        self._logging = wafv2.CfnLoggingConfiguration(
            self, "Logging",
            resource_arn=self._web_acl.attr_arn,
            log_destination_configs=[destination],
            # Credentials in headers, and the query string: it carries search text and
            # amounts (and must never carry a token), none of which belongs in WAF logs.
            redacted_fields=[
                *(wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": h})
                  for h in _REDACTED_HEADERS),
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(query_string={}),
            ],
        )

    @property
    def web_acl(self) -> wafv2.CfnWebACL:
        """The web ACL (scope ``CLOUDFRONT``)."""
        return self._web_acl

    @property
    def web_acl_arn(self) -> str:
        """ARN to pass as ``EdgeDistribution(web_acl_id=...)``."""
        return self._web_acl.attr_arn

    @property
    def log_group(self) -> logs.LogGroup:
        """The CMK-encrypted ``aws-waf-logs-*`` log group."""
        return self._log_group


VIEWER_ADDRESS_HEADER = "CloudFront-Viewer-Address"
"""The header carrying the client's ``ip:port`` to the origin (never ``X-Forwarded-For``)."""
ORIGIN_REQUEST_POLICY = cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER
ORIGIN_REQUEST_POLICY_ID = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
"""``Managed-AllViewerExceptHostHeader``: viewer headers but ``Host``, and CloudFront's headers
(``CloudFront-Viewer-Address`` among them)."""


class EdgeDistribution(Construct):
    """CloudFront in front of the HTTP API: TLS, WAF, security headers, no caching.

    No legacy access logging (it writes query strings): pair it with
    :class:`~constructs_lib.edge_access_logs.EdgeAccessLogs` in us-east-1.

    Parameters
    ----------
    scope, id_:
        Construct scope and id.
    api_domain:
        The origin host, e.g. ``PlatformHttpApi.endpoint_domain``.
    origin_verify_secret:
        Secret whose value CloudFront sends as ``X-Origin-Verify``; it must be in
        this stack's region (dynamic references resolve there). Use a value
        without punctuation (header-safe).
    origin_verify_secret_field:
        JSON key inside the secret, if the secret is a JSON document.
    web_acl_id:
        ARN of the CLOUDFRONT web ACL (``EdgeProtection.web_acl_arn``). ``None``
        needs the opt-out ``EdgeDistribution.web_acl``.
    domain_names, certificate:
        Custom domain(s) and their us-east-1 ACM certificate. Without them the
        default ``*.cloudfront.net`` certificate allows TLS 1.0 viewers, so that
        needs the opt-out ``EdgeDistribution.custom_domain``.
    minimum_protocol_version:
        Viewer TLS policy with a custom domain; default ``TLSv1.2_2021``; older
        needs ``EdgeDistribution.minimum_protocol_version``.
    price_class:
        Default ``PRICE_CLASS_100`` (Europe + North America edges).
    geo_allow_list:
        ISO country codes allowed (e.g. ``["GB"]``); default no restriction.
    comment:
        Distribution comment.
    opt_outs:
        Explicit, recorded opt-outs; those for other constructs are ignored.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        api_domain: str,
        origin_verify_secret: secretsmanager.ISecret,
        web_acl_id: str | None,
        origin_verify_secret_field: str | None = None,
        domain_names: Sequence[str] = (),
        certificate: acm.ICertificate | None = None,
        minimum_protocol_version: cloudfront.SecurityPolicyProtocol = (
            cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021
        ),
        price_class: cloudfront.PriceClass = cloudfront.PriceClass.PRICE_CLASS_100,
        geo_allow_list: Sequence[str] = (),
        comment: str | None = None,
        opt_outs: Sequence[OptOut] = (),
    ) -> None:
        super().__init__(scope, id_)
        mine = reject_unknown_opt_outs(opt_outs, CDN_KNOWN)
        stack = cdk.Stack.of(self)
        if bool(domain_names) != (certificate is not None):
            raise ValueError("domain_names and certificate must be given together")
        if certificate is not None:
            _require_region(_arn_region(certificate.certificate_arn),
                            "EdgeDistribution's certificate (CloudFront uses us-east-1 ACM)")
        _require_same_region(stack, _secret_region(origin_verify_secret),
                             "origin_verify_secret (its dynamic reference resolves here)")
        if any(not re.fullmatch(r"[A-Z]{2}", c) for c in geo_allow_list):
            raise ValueError("geo_allow_list takes ISO 3166-1 alpha-2 codes such as 'GB'")

        if not domain_names:
            opt = require_opt_out(self, CDN_CUSTOM_DOMAIN, mine,
                                  weakened="No custom domain (default certificate, TLS 1.0+)")
            _acknowledge(self, opt, "AwsSolutions-CFR4")
        elif minimum_protocol_version not in _STRONG_TLS:
            require_opt_out(self, CDN_MIN_PROTOCOL, mine,
                            weakened=f"minimum_protocol_version={minimum_protocol_version.value}")
        if web_acl_id is None:
            opt = require_opt_out(self, CDN_WEB_ACL, mine, weakened="No WAF web ACL")
            _acknowledge(self, opt, "AwsSolutions-CFR2")

        secret_value = (
            origin_verify_secret.secret_value_from_json(origin_verify_secret_field)
            if origin_verify_secret_field
            else origin_verify_secret.secret_value
        )
        origin = origins.HttpOrigin(
            api_domain,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            # A dynamic reference: CloudFormation resolves it at deploy time.
            custom_headers={ORIGIN_VERIFY_HEADER: secret_value.unsafe_unwrap()},
            read_timeout=cdk.Duration.seconds(30),
        )

        self._response_headers = self._create_response_headers_policy()
        self._distribution = cloudfront.Distribution(
            self, "Distribution",
            comment=comment,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                # Every viewer header (Authorization included) except Host, which API Gateway
                # needs to be its own host, plus CloudFront-Viewer-Address (module doc).
                origin_request_policy=ORIGIN_REQUEST_POLICY,
                response_headers_policy=self._response_headers,
                compress=True,
            ),
            domain_names=list(domain_names) or None,
            certificate=certificate,
            minimum_protocol_version=minimum_protocol_version if domain_names else None,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_ipv6=True,
            price_class=price_class,
            geo_restriction=(cloudfront.GeoRestriction.allowlist(*geo_allow_list)
                             if geo_allow_list else None),
            web_acl_id=web_acl_id,
            enable_logging=False,
        )
        accept(self._distribution, ("AwsSolutions-CFR3",),
               "access logs are delivered by CloudFront standard logging v2 (EdgeAccessLogs) "
               "without the query string")
        if not geo_allow_list:
            accept(self._distribution, ("AwsSolutions-CFR1",),
                   "No geo restriction configured: customers travel and use the app abroad; WAF "
                   "IP reputation/anonymous-IP lists and rate limits apply.")

    # --- pieces --------------------------------------------------------------------------

    def _create_response_headers_policy(self) -> cloudfront.ResponseHeadersPolicy:
        return cloudfront.ResponseHeadersPolicy(
            self, "SecurityHeaders",
            comment="Security headers for the platform API",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=HSTS_MAX_AGE,
                    include_subdomains=True,
                    preload=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True,
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True,
                ),
                # "0" disables the legacy XSS auditor, which itself enabled leaks (OWASP).
                xss_protection=cloudfront.ResponseHeadersXSSProtection(
                    protection=False, override=True,
                ),
                # An API serves JSON: nothing may load or frame it. Not overriding lets the
                # /docs page send its own, looser policy.
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy="default-src 'none'; frame-ancestors 'none'",
                    override=False,
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[cloudfront.ResponseCustomHeader(
                    header="Cache-Control", value="no-store", override=False,
                )],
            ),
            remove_headers=["Server", "X-Powered-By"],
        )

    # --- read-only resources -------------------------------------------------------------

    @property
    def distribution(self) -> cloudfront.Distribution:
        """The CloudFront distribution."""
        return self._distribution

    @property
    def domain_name(self) -> str:
        """The distribution's ``*.cloudfront.net`` domain (alias target for DNS)."""
        return self._distribution.distribution_domain_name

    @property
    def response_headers_policy(self) -> cloudfront.ResponseHeadersPolicy:
        """The security response headers policy."""
        return self._response_headers


# --- helpers -----------------------------------------------------------------------------


def _check_log_settings(
    scope: Construct,
    opt_outs: Sequence[OptOut],
    *,
    retention: logs.RetentionDays,
    removal: cdk.RemovalPolicy,
    retention_setting: str,
    removal_setting: str,
) -> None:
    if retention_days(retention) < MIN_LOG_RETENTION_DAYS:
        require_opt_out(scope, retention_setting, opt_outs,
                        weakened=f"log_retention={retention.name}")
    if removal != cdk.RemovalPolicy.RETAIN:
        require_opt_out(scope, removal_setting, opt_outs,
                        weakened=f"log_removal_policy={removal.name}")


def _acknowledge(scope: Construct, opt_out: OptOut, *finding_ids: str) -> None:
    """Acknowledge the findings a weakening is known to cause, with its reason."""
    missing = [f for f in finding_ids if f not in opt_out.finding_ids]
    accept(scope, missing, opt_out.reason, source="opt-out")


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True,
        sampled_requests_enabled=True,
        metric_name=metric_name[-128:],
    )


def _not_path_prefixes(prefixes: Sequence[str]) -> wafv2.CfnWebACL.StatementProperty:
    matches = [
        wafv2.CfnWebACL.StatementProperty(
            byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
                positional_constraint="STARTS_WITH",
                search_string=prefix,
                text_transformations=[
                    wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE"),
                ],
            )
        )
        for prefix in prefixes
    ]
    inner = (matches[0] if len(matches) == 1 else wafv2.CfnWebACL.StatementProperty(
        or_statement=wafv2.CfnWebACL.OrStatementProperty(statements=matches)))
    return wafv2.CfnWebACL.StatementProperty(
        not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=inner)
    )


def _arn_region(arn: str) -> str | None:
    if cdk.Token.is_unresolved(arn):
        return None
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else None


def _key_region(key: kms.IKey) -> str | None:
    if isinstance(key, kms.Key):
        region = cdk.Stack.of(key).region
        return None if cdk.Token.is_unresolved(region) else region
    return _arn_region(key.key_arn)


def _secret_region(secret: secretsmanager.ISecret) -> str | None:
    if isinstance(secret, secretsmanager.Secret):
        region = cdk.Stack.of(secret).region
        return None if cdk.Token.is_unresolved(region) else region
    return _arn_region(secret.secret_arn)


def _require_region(region: str | None, what: str) -> None:
    if region is not None and not cdk.Token.is_unresolved(region) and region != EDGE_REGION:
        raise ValueError(f"{what} must be in {EDGE_REGION}, not {region}")


def _require_same_region(stack: cdk.Stack, region: str | None, what: str) -> None:
    here = stack.region
    if region is None or cdk.Token.is_unresolved(here) or region == here:
        return
    raise ValueError(f"{what} must be in this stack's region {here}, not {region}")
