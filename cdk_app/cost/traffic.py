"""Marginal cost of one million API requests through the stage's synthesised request path.

The path is read from the templates: CloudFront distributions, WAF web ACLs, HTTP
APIs and the Lambda function behind their integrations (memory and architecture from
the template), Aurora clusters with the Data API enabled. What one request does
beyond that (duration, Data API calls, bytes returned and logged) comes from the
usage model. Free tiers are not deducted: this is the cost of the next million.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdk_app.cost.assembly import StackTemplate, Stage
from cdk_app.cost.model import Finding, LineItem, Unpriced
from cdk_app.cost.prices import MissingPriceError, PriceTable, UsageModel

MILLION = 1_000_000
GIB = 1024**3


@dataclass(frozen=True)
class _At:
    """Prices lines of one resource of one stack."""

    prices: PriceTable
    stack: StackTemplate
    logical_id: str

    def line(self, category: str, quantity: float, key: str, basis: str) -> Finding:
        try:
            price = self.prices.price(key, self.stack.region)
        except MissingPriceError as error:
            return Unpriced(self.stack.name, self.logical_id, category, str(error))
        return LineItem(self.stack.name, self.logical_id, category, quantity, price, basis)


def _target(stack: StackTemplate, value: Any) -> tuple[str, dict[str, Any]] | None:
    if isinstance(value, dict):
        name = value.get("Ref") or (value.get("Fn::GetAtt") or [None])[0]
        if isinstance(name, str) and name in stack.resources:
            return name, stack.resources[name]
    return None


def _function_behind(stack: StackTemplate, uri: Any) -> tuple[str, dict[str, Any]] | None:
    """The Lambda function an integration URI names, directly or through an alias/version."""
    target = _target(stack, uri)
    while target is not None and target[1].get("Type") in {
        "AWS::Lambda::Alias", "AWS::Lambda::Version"
    }:
        target = _target(stack, target[1].get("Properties", {}).get("FunctionName"))
    if target is None or target[1].get("Type") != "AWS::Lambda::Function":
        return None
    return target


def _logs(prices: PriceTable, stack: StackTemplate, logical_id: str, source: str,
          size: float) -> Finding:
    return _At(prices, stack, logical_id).line("CloudWatch log ingestion", size * MILLION / GIB,
                 "cloudwatch.logs_ingestion_gb", f"{size:g} B of {source} log per request")


def _edge(stage: Stage, prices: PriceTable, usage: UsageModel) -> list[Finding]:
    per = usage.per_request
    found: list[Finding] = []
    for stack, logical_id, _ in stage.of_type("AWS::CloudFront::Distribution"):
        found.append(_At(prices, stack, logical_id).line("CloudFront requests", MILLION / 10_000,
                           "cloudfront.https_requests_per_10k_europe", "HTTPS, Europe"))
        found.append(_At(prices, stack, logical_id).line("CloudFront data transfer",
                           per.response_kb * 1024 * MILLION / GIB,
                           "cloudfront.data_transfer_out_gb_europe",
                           f"{per.response_kb:g} KB per response"))
    logged = {
        str((_target(stack, r.get("Properties", {}).get("ResourceArn")) or ("",))[0])
        for stack, _, r in stage.of_type("AWS::WAFv2::LoggingConfiguration")
    }
    for stack, logical_id, _ in stage.of_type("AWS::WAFv2::WebACL"):
        found.append(_At(prices, stack, logical_id).line("WAF requests", 1,
                           "waf.requests_per_million", "every request is inspected"))
        if logical_id in logged:
            found.append(_logs(prices, stack, logical_id, "WAF", per.waf_log_bytes))
    return found


def _api(stage: Stage, prices: PriceTable, usage: UsageModel) -> list[Finding]:
    per = usage.per_request
    found: list[Finding] = []
    for stack, logical_id, api in stage.of_type("AWS::ApiGatewayV2::Api"):
        if api.get("Properties", {}).get("ProtocolType") != "HTTP":
            found.append(Unpriced(stack.name, logical_id, "AWS::ApiGatewayV2::Api",
                                  "only HTTP APIs are priced per request"))
            continue
        found.append(_At(prices, stack, logical_id).line("API Gateway HTTP API", 1,
                           "http_api.requests_per_million", "one request each"))
    for stack, logical_id, api_stage in stage.of_type("AWS::ApiGatewayV2::Stage"):
        if api_stage.get("Properties", {}).get("AccessLogSettings"):
            found.append(_logs(prices, stack, logical_id, "API access", per.api_access_log_bytes))
    return found


def _function(stage: Stage, prices: PriceTable, usage: UsageModel) -> list[Finding]:
    per = usage.per_request
    candidates: list[list[Finding]] = []
    for stack, logical_id, integration in stage.of_type("AWS::ApiGatewayV2::Integration"):
        behind = _function_behind(stack, integration.get("Properties", {}).get("IntegrationUri"))
        if behind is None:
            candidates.append([Unpriced(stack.name, logical_id, "AWS::ApiGatewayV2::Integration",
                                        "the integration's Lambda function is not resolvable")])
            continue
        name, function = behind
        props = function.get("Properties", {})
        memory_gb = float(props.get("MemorySize", 128)) / 1024
        arch = (props.get("Architectures") or ["x86_64"])[0]
        seconds = per.lambda_duration_ms / 1000
        candidates.append([
            _At(prices, stack, name).line("Lambda requests", 1, "lambda.requests_per_million",
                  "one invocation each"),
            _At(prices, stack, name).line("Lambda duration", memory_gb * seconds * MILLION,
                  f"lambda.gb_second_{arch}",
                  f"{props.get('MemorySize', 128)} MB {arch} x {per.lambda_duration_ms:g} ms"),
            _logs(prices, stack, name, "function", per.lambda_log_bytes),
        ])
    if not candidates:
        return []

    def total(lines: list[Finding]) -> float:
        return sum(line.usd for line in lines if isinstance(line, LineItem))

    # A request reaches one integration: count the dearest, not the sum.
    return max(candidates, key=total)


def _database(stage: Stage, prices: PriceTable, usage: UsageModel) -> list[Finding]:
    per = usage.per_request
    found: list[Finding] = []
    for stack, logical_id, cluster in stage.of_type("AWS::RDS::DBCluster"):
        props = cluster.get("Properties", {})
        if props.get("EnableHttpEndpoint") is True:
            found.append(_At(prices, stack, logical_id).line("RDS Data API",
                               per.data_api_calls, "aurora.data_api_per_million",
                               f"{per.data_api_calls:g} calls per request ({per.data_api_note})"))
        if props.get("ServerlessV2ScalingConfiguration"):
            found.append(_At(prices, stack, logical_id).line("Aurora compute",
                               per.aurora_acu_seconds * MILLION / 3600,
                               "aurora.serverless_v2_acu_hour",
                               f"{per.aurora_acu_seconds:g} ACU-s per request "
                               f"({per.aurora_note})"))
    return found


def per_million_findings(stage: Stage, prices: PriceTable, usage: UsageModel) -> list[Finding]:
    """The lines of one million requests through the stage, in request order."""
    return [
        *_edge(stage, prices, usage),
        *_api(stage, prices, usage),
        *_function(stage, prices, usage),
        *_database(stage, prices, usage),
    ]
