"""EdgeProtection (WAF) and EdgeDistribution (CloudFront): security settings and opt-outs."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from constructs_lib.acceptance import accept, acceptance_for
from constructs_lib.edge import (
    MANAGED_RULE_GROUPS,
    ORIGIN_REQUEST_POLICY_ID,
    ORIGIN_VERIFY_HEADER,
    VIEWER_ADDRESS_HEADER,
    EdgeDistribution,
    EdgeProtection,
)
from constructs_lib.edge_access_logs import EdgeAccessLogs
from constructs_lib.opt_outs import OPT_OUT_METADATA_KEY, OptOut, SecureDefaultError

ACCOUNT = "111111111111"
US_EAST_1 = cdk.Environment(account=ACCOUNT, region="us-east-1")
LONDON = cdk.Environment(account=ACCOUNT, region="eu-west-2")
CERT_ARN = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/00000000-0000-4000-8000-000000000000"
API_DOMAIN = "abc123.execute-api.eu-west-2.amazonaws.com"


# --- EdgeProtection ----------------------------------------------------------------------


def make_waf(env: cdk.Environment = US_EAST_1, **overrides: Any) -> tuple[cdk.App, cdk.Stack,
                                                                           EdgeProtection]:
    app = cdk.App()
    stack = cdk.Stack(app, "Edge", env=env)
    props: dict[str, Any] = {
        "log_key": kms.Key(stack, "Key", enable_key_rotation=True),
        "rate_limit": 2000,
        "anonymous_ip_exempt_path_prefixes": ("/v1/webhooks/",),
    }
    props.update(overrides)
    return app, stack, EdgeProtection(stack, "Waf", **props)


@pytest.fixture(scope="module")
def waf_template() -> Template:
    _, stack, _ = make_waf()
    return Template.from_stack(stack)


def _rules(template: Template) -> dict[str, dict[str, Any]]:
    (acl,) = template.find_resources("AWS::WAFv2::WebACL").values()
    return {r["Name"]: r for r in acl["Properties"]["Rules"]}


def test_web_acl_is_cloudfront_scoped_allow_by_default_with_metrics(waf_template: Template) -> None:
    waf_template.has_resource_properties("AWS::WAFv2::WebACL", {
        "Scope": "CLOUDFRONT",
        "DefaultAction": {"Allow": {}},
        "VisibilityConfig": {"CloudWatchMetricsEnabled": True, "SampledRequestsEnabled": True,
                             "MetricName": Match.any_value()},
    })
    for rule in _rules(waf_template).values():
        assert rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] is True
        assert rule["VisibilityConfig"]["SampledRequestsEnabled"] is True


def test_managed_rule_groups_and_rate_limit(waf_template: Template) -> None:
    rules = _rules(waf_template)
    assert set(rules) == {"RateLimitPerIp", *MANAGED_RULE_GROUPS}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
            "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesAmazonIpReputationList",
            "AWSManagedRulesAnonymousIpList"} <= set(rules)
    rate = rules["RateLimitPerIp"]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"] == {
        "Limit": 2000, "AggregateKeyType": "IP", "EvaluationWindowSec": 300}
    assert rate["Priority"] == 0
    for group in MANAGED_RULE_GROUPS:
        stmt = rules[group]["Statement"]["ManagedRuleGroupStatement"]
        assert stmt["VendorName"] == "AWS" and stmt["Name"] == group
        assert rules[group]["OverrideAction"] == {"None": {}}  # the group's own block actions
        assert "RuleActionOverrides" not in stmt
    assert len({r["Priority"] for r in rules.values()}) == len(rules)


def test_no_path_is_exempt_from_the_anonymous_ip_list_by_default() -> None:
    _, stack, _ = make_waf(anonymous_ip_exempt_path_prefixes=())
    statement = _rules(Template.from_stack(stack))["AWSManagedRulesAnonymousIpList"]["Statement"]
    assert "ScopeDownStatement" not in statement["ManagedRuleGroupStatement"]


def test_webhooks_are_exempt_only_from_the_anonymous_ip_list(waf_template: Template) -> None:
    rules = _rules(waf_template)
    scope_down = rules["AWSManagedRulesAnonymousIpList"]["Statement"][
        "ManagedRuleGroupStatement"]["ScopeDownStatement"]
    byte_match = scope_down["NotStatement"]["Statement"]["ByteMatchStatement"]
    assert byte_match["SearchString"] == "/v1/webhooks/"
    assert byte_match["PositionalConstraint"] == "STARTS_WITH"
    others = [g for g in MANAGED_RULE_GROUPS if g != "AWSManagedRulesAnonymousIpList"]
    for group in others:
        assert "ScopeDownStatement" not in rules[group]["Statement"]["ManagedRuleGroupStatement"]


def test_waf_logs_to_cmk_encrypted_group_with_redaction(waf_template: Template) -> None:
    waf_template.has_resource("AWS::Logs::LogGroup", {
        "Properties": {
            "LogGroupName": Match.string_like_regexp("^aws-waf-logs-"),
            "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("Key"), "Arn"]},
            "RetentionInDays": 365,
        },
        "DeletionPolicy": "Retain",
    })
    (logging,) = waf_template.find_resources("AWS::WAFv2::LoggingConfiguration").values()
    props = logging["Properties"]
    acl_id = next(iter(waf_template.find_resources("AWS::WAFv2::WebACL")))
    assert props["ResourceArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    redacted = props["RedactedFields"]
    assert {f["SingleHeader"]["Name"] for f in redacted if "SingleHeader" in f} == {
        "authorization", "cookie"}
    assert {"QueryString": {}} in redacted  # search text and amounts stay out of WAF logs
    destination = json.dumps(props["LogDestinationConfigs"])
    assert ":logs:us-east-1:111111111111:log-group:" in destination
    assert ":*" not in destination


def test_waf_outside_us_east_1_is_refused() -> None:
    with pytest.raises(ValueError, match="us-east-1"):
        make_waf(env=LONDON)


def test_waf_log_key_from_another_region_is_refused() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Edge", env=US_EAST_1)
    key = kms.Key.from_key_arn(
        stack, "K", f"arn:aws:kms:eu-west-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    with pytest.raises(ValueError, match="log_key"):
        EdgeProtection(stack, "Waf", log_key=key, rate_limit=100)


def test_counting_a_managed_rule_needs_the_opt_out() -> None:
    overrides = {"AWSManagedRulesCommonRuleSet": ["SizeRestrictions_BODY"]}
    with pytest.raises(SecureDefaultError, match=r"EdgeProtection\.rule_action_overrides"):
        make_waf(rule_action_overrides=overrides)
    opt_out = OptOut("EdgeProtection.rule_action_overrides",
                     "Statement uploads exceed 8 KB; bodies are size-checked by the service.")
    _, stack, waf = make_waf(rule_action_overrides=overrides, opt_outs=[opt_out])
    stmt = _rules(Template.from_stack(stack))["AWSManagedRulesCommonRuleSet"]["Statement"][
        "ManagedRuleGroupStatement"]
    assert stmt["RuleActionOverrides"] == [
        {"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]
    assert [m.data["setting"] for m in waf.node.metadata if m.type == OPT_OUT_METADATA_KEY] == [
        opt_out.setting]


def test_waf_log_retention_accepts_a_day_count() -> None:
    _, stack, _ = make_waf(log_retention=400)
    Template.from_stack(stack).has_resource_properties("AWS::Logs::LogGroup",
                                                       {"RetentionInDays": 400})
    with pytest.raises(ValueError, match="not a CloudWatch Logs retention"):
        make_waf(log_retention=100)


def test_waf_short_log_retention_needs_the_opt_out() -> None:
    with pytest.raises(SecureDefaultError, match=r"EdgeProtection\.log_retention"):
        make_waf(log_retention=logs.RetentionDays.ONE_WEEK)
    make_waf(log_retention=logs.RetentionDays.ONE_WEEK,
             opt_outs=[OptOut("EdgeProtection.log_retention", "Preview stack, no real traffic.")])


# --- EdgeDistribution --------------------------------------------------------------------


def make_cdn(**overrides: Any) -> tuple[cdk.App, cdk.Stack, EdgeDistribution]:
    app = cdk.App()
    stack = cdk.Stack(app, "Cdn", env=LONDON)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    props: dict[str, Any] = {
        "api_domain": API_DOMAIN,
        "origin_verify_secret": secretsmanager.Secret(stack, "OriginVerify", encryption_key=key),
        "web_acl_id": f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/edge/abc",
        "domain_names": ["api.example.com"],
        "certificate": acm.Certificate.from_certificate_arn(stack, "Cert", CERT_ARN),
    }
    props.update(overrides)
    return app, stack, EdgeDistribution(stack, "Cdn", **props)


@pytest.fixture(scope="module")
def cdn_template() -> Template:
    _, stack, _ = make_cdn()
    return Template.from_stack(stack)


def _config(template: Template) -> dict[str, Any]:
    (dist,) = template.find_resources("AWS::CloudFront::Distribution").values()
    config: dict[str, Any] = dist["Properties"]["DistributionConfig"]
    return config


def test_https_only_tls12_custom_domain_http3_waf(cdn_template: Template) -> None:
    config = _config(cdn_template)
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    assert set(behavior["AllowedMethods"]) == {
        "GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    assert behavior["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    # AllViewerExceptHostHeader (managed): forwards Authorization and the CloudFront headers
    # (CloudFront-Viewer-Address: the user's IP), not Host; no custom policy narrows it.
    assert behavior["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    assert behavior["OriginRequestPolicyId"] == ORIGIN_REQUEST_POLICY_ID
    assert VIEWER_ADDRESS_HEADER == "CloudFront-Viewer-Address"
    assert not cdn_template.find_resources("AWS::CloudFront::OriginRequestPolicy")
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": CERT_ARN,
        "MinimumProtocolVersion": "TLSv1.2_2021",
        "SslSupportMethod": "sni-only",
    }
    assert config["Aliases"] == ["api.example.com"]
    assert config["HttpVersion"] == "http2and3"
    assert config["WebACLId"].startswith("arn:aws:wafv2:us-east-1:")
    assert config["PriceClass"] == "PriceClass_100"
    assert "Restrictions" not in config


def test_origin_is_https_tls12_with_secret_header_as_dynamic_reference(
    cdn_template: Template,
) -> None:
    (origin,) = _config(cdn_template)["Origins"]
    assert origin["DomainName"] == API_DOMAIN
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
    (header,) = origin["OriginCustomHeaders"]
    assert header["HeaderName"] == ORIGIN_VERIFY_HEADER
    joined = header["HeaderValue"]["Fn::Join"][1]
    assert joined[0] == "{{resolve:secretsmanager:"
    secret_id = next(iter(cdn_template.find_resources("AWS::SecretsManager::Secret")))
    assert joined[1] == {"Ref": secret_id}
    assert joined[2] == ":SecretString:::}}"
    # Nothing in the template is a literal secret: the only mention is the reference.
    text = json.dumps(cdn_template.to_json())
    assert text.count("{{resolve:secretsmanager:") == 1


def test_security_response_headers(cdn_template: Template) -> None:
    cdn_template.has_resource_properties("AWS::CloudFront::ResponseHeadersPolicy", {
        "ResponseHeadersPolicyConfig": {"SecurityHeadersConfig": {
            "StrictTransportSecurity": {"AccessControlMaxAgeSec": 63072000,
                                        "IncludeSubdomains": True, "Preload": True,
                                        "Override": True},
            "ContentTypeOptions": {"Override": True},
            "FrameOptions": {"FrameOption": "DENY", "Override": True},
            "ReferrerPolicy": {"ReferrerPolicy": Match.string_like_regexp(
                "^(no-referrer|strict-origin-when-cross-origin)$"), "Override": True},
            "XSSProtection": Match.object_like({"Override": True}),
        }},
    })
    behavior = _config(cdn_template)["DefaultCacheBehavior"]
    assert "Ref" in behavior["ResponseHeadersPolicyId"]


def test_no_legacy_access_logging_it_would_write_query_strings(cdn_template: Template) -> None:
    # Legacy logging always writes cs-uri-query; access logs come from EdgeAccessLogs (v2).
    assert "Logging" not in _config(cdn_template)
    assert not cdn_template.find_resources("AWS::S3::Bucket")


def test_legacy_logging_finding_is_accepted_for_v2_logs() -> None:
    _, _, cdn = make_cdn()
    accepted = acceptance_for(cdn.distribution.node.default_child, "AwsSolutions-CFR3")
    assert accepted is not None
    assert "standard logging v2 (EdgeAccessLogs)" in accepted.reason
    assert acceptance_for(cdn.distribution, "AwsSolutions-CFR2") is None


def test_geo_allow_list_and_price_class() -> None:
    _, stack, _ = make_cdn(geo_allow_list=["GB"],
                           price_class=cloudfront.PriceClass.PRICE_CLASS_ALL)
    config = _config(Template.from_stack(stack))
    assert config["Restrictions"] == {"GeoRestriction": {"Locations": ["GB"],
                                                         "RestrictionType": "whitelist"}}
    assert config["PriceClass"] == "PriceClass_All"


def test_no_custom_domain_needs_the_opt_out() -> None:
    with pytest.raises(SecureDefaultError, match=r"EdgeDistribution\.custom_domain"):
        make_cdn(domain_names=(), certificate=None)
    opt_out = OptOut("EdgeDistribution.custom_domain",
                     "Staging has no public domain; testers use the cloudfront.net host.")
    _, stack, cdn = make_cdn(domain_names=(), certificate=None, opt_outs=[opt_out])
    config = _config(Template.from_stack(stack))
    assert "Aliases" not in config
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "https-only"
    assert [m.data["setting"] for m in cdn.node.metadata if m.type == OPT_OUT_METADATA_KEY] == [
        opt_out.setting]


def test_weak_viewer_tls_needs_the_opt_out() -> None:
    weak = cloudfront.SecurityPolicyProtocol.TLS_V1_2_2019
    with pytest.raises(SecureDefaultError, match=r"EdgeDistribution\.minimum_protocol_version"):
        make_cdn(minimum_protocol_version=weak)
    _, stack, _ = make_cdn(minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_3_2025)
    assert _config(Template.from_stack(stack))["ViewerCertificate"][
        "MinimumProtocolVersion"] == "TLSv1.3_2025"


def test_missing_web_acl_needs_the_opt_out() -> None:
    with pytest.raises(SecureDefaultError, match=r"EdgeDistribution\.web_acl"):
        make_cdn(web_acl_id=None)
    make_cdn(web_acl_id=None, opt_outs=[OptOut("EdgeDistribution.web_acl",
                                               "Local synth-only sandbox, never deployed.")])


def test_certificate_must_be_in_us_east_1() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=LONDON)
    cert = acm.Certificate.from_certificate_arn(
        stack, "C", f"arn:aws:acm:eu-west-2:{ACCOUNT}:certificate/abc")
    with pytest.raises(ValueError, match="us-east-1"):
        EdgeDistribution(stack, "Cdn", api_domain=API_DOMAIN,
                         origin_verify_secret=secretsmanager.Secret(stack, "S"),
                         web_acl_id="arn:aws:wafv2:us-east-1:1:global/webacl/x/y",
                         domain_names=["a.example.com"],
                         certificate=cert)


def test_origin_secret_from_another_region_is_refused() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=LONDON)
    secret = secretsmanager.Secret.from_secret_complete_arn(
        stack, "OV", f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:ov-AbCdEf")
    with pytest.raises(ValueError, match="origin_verify_secret"):
        EdgeDistribution(stack, "Cdn", api_domain=API_DOMAIN, origin_verify_secret=secret,
                         web_acl_id="arn:aws:wafv2:us-east-1:1:global/webacl/x/y",
                         domain_names=["a.example.com"],
                         certificate=acm.Certificate.from_certificate_arn(stack, "C", CERT_ARN))


def test_unknown_opt_out_for_this_construct_is_rejected() -> None:
    with pytest.raises(SecureDefaultError, match="Unknown"):
        make_cdn(opt_outs=[OptOut("EdgeDistribution.http", "Plain HTTP for old devices please.")])


# --- rule packs --------------------------------------------------------------------------


def test_rule_packs_pass_for_waf_and_distribution_across_regions() -> None:
    app = cdk.App()
    edge = cdk.Stack(app, "Edge", env=US_EAST_1, cross_region_references=True)
    waf = EdgeProtection(edge, "Waf", log_key=kms.Key(edge, "Key", enable_key_rotation=True),
                         rate_limit=2000)
    api = cdk.Stack(app, "Api", env=LONDON, cross_region_references=True)
    key = kms.Key(api, "Key", enable_key_rotation=True)
    secret = secretsmanager.Secret(api, "OriginVerify", encryption_key=key)
    accept(secret, ("AwsSolutions-SMG4",),
           "Test fixture: the secret's owner configures rotation.")
    cdn = EdgeDistribution(
        api, "Cdn", api_domain=API_DOMAIN, origin_verify_secret=secret,
        web_acl_id=waf.web_acl_arn, domain_names=["api.example.com"],
        certificate=acm.Certificate.from_certificate_arn(api, "Cert", CERT_ARN),
    )
    edge_logs = cdk.Stack(app, "EdgeLogs", env=US_EAST_1, cross_region_references=True)
    EdgeAccessLogs(edge_logs, "CdnLogs", distribution_id=cdn.distribution.distribution_id,
                   log_key=kms.Key(edge_logs, "Key", enable_key_rotation=True))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    app.synth()  # raises ValidationFailed on any unacknowledged finding
