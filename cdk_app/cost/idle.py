"""Monthly cost of each synthesised resource while nobody uses the service.

One rule per CloudFormation type that costs money while idle; :data:`FREE` lists the
types that cost nothing until traffic arrives, each with the reason. A type in
neither is reported as *unpriced*, so a new kind of resource is never silently
counted as free. Rules read only the template (and the usage model for data at rest).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cdk_app.cost.assembly import StackTemplate, Stage
from cdk_app.cost.model import Finding, Free, LineItem, Unpriced
from cdk_app.cost.prices import MissingPriceError, PriceTable, UsageModel

# WAF managed rule groups with subscription and request fees of their own.
PREMIUM_RULE_GROUPS = frozenset({
    "AWSManagedRulesBotControlRuleSet",
    "AWSManagedRulesATPRuleSet",
    "AWSManagedRulesACFPRuleSet",
    "AWSManagedRulesAntiDDoSRuleSet",
})

_PER_REQUEST = "billed per request only"
FREE: dict[str, str] = {
    "AWS::ApiGatewayV2::Api": "HTTP API is " + _PER_REQUEST,
    "AWS::ApiGatewayV2::Authorizer": "part of the HTTP API",
    "AWS::ApiGatewayV2::Integration": "part of the HTTP API",
    "AWS::ApiGatewayV2::Route": "part of the HTTP API",
    "AWS::ApiGatewayV2::Stage": "part of the HTTP API",
    "AWS::Backup::BackupSelection": "the plan's backups are priced on the plan",
    "AWS::Backup::BackupVault": "a vault is free; its backups are priced on the plan",
    "AWS::CDK::Metadata": "not an AWS resource",
    "AWS::CloudFormation::CustomResource": "runs only at deploy time",
    "AWS::CloudFront::CachePolicy": "configuration",
    "AWS::CloudFront::Distribution": "no monthly fee; billed per request and GB delivered",
    "AWS::CloudFront::Function": "billed per invocation",
    "AWS::CloudFront::OriginAccessControl": "configuration",
    "AWS::CloudFront::OriginRequestPolicy": "configuration",
    "AWS::CloudFront::ResponseHeadersPolicy": "configuration",
    "AWS::CodeBuild::Project": "billed per build minute",
    "AWS::CodeDeploy::Application": "free for Lambda deployments",
    "AWS::CodeDeploy::DeploymentConfig": "free for Lambda deployments",
    "AWS::CodeDeploy::DeploymentGroup": "free for Lambda deployments",
    "AWS::CodeStarConnections::Connection": "free",
    "AWS::Cognito::UserPool": "billed per monthly active user (none while idle)",
    "AWS::Cognito::UserPoolClient": "part of the user pool",
    "AWS::Cognito::UserPoolDomain": "part of the user pool",
    "AWS::EC2::FlowLog": "billed as log ingestion of traffic records (none without traffic)",
    "AWS::EC2::InternetGateway": "free (data transfer is billed where it happens)",
    "AWS::EC2::NetworkAcl": "free",
    "AWS::EC2::NetworkAclEntry": "free",
    "AWS::EC2::RouteTable": "free",
    "AWS::EC2::Route": "free",
    "AWS::EC2::SecurityGroup": "free",
    "AWS::EC2::SecurityGroupEgress": "free",
    "AWS::EC2::SecurityGroupIngress": "free",
    "AWS::EC2::Subnet": "free",
    "AWS::EC2::SubnetNetworkAclAssociation": "free",
    "AWS::EC2::SubnetRouteTableAssociation": "free",
    "AWS::EC2::VPC": "free",
    "AWS::EC2::VPCGatewayAttachment": "free",
    "AWS::Events::Rule": "free for schedules and AWS events",
    "AWS::IAM::ManagedPolicy": "IAM is free",
    "AWS::IAM::Policy": "IAM is free",
    "AWS::IAM::Role": "IAM is free",
    "AWS::KMS::Alias": "free",
    "AWS::Lambda::EventInvokeConfig": "configuration",
    "AWS::Lambda::Function": "billed per request and GB-second only",
    "AWS::Lambda::Permission": "configuration",
    "AWS::Lambda::Version": "billed per request and GB-second only",
    "AWS::Logs::ResourcePolicy": "configuration",
    "AWS::RDS::DBClusterParameterGroup": "configuration",
    "AWS::RDS::DBParameterGroup": "configuration",
    "AWS::RDS::DBSubnetGroup": "configuration",
    "AWS::S3::BucketPolicy": "configuration",
    "AWS::Scheduler::Schedule": ("billed per invocation (the first 14 million a month are free); "
                                 "the daily sync it starts is billed per state transition"),
    "AWS::SNS::Subscription": "billed per notification",
    "AWS::SNS::Topic": "billed per message",
    "AWS::SNS::TopicPolicy": "configuration",
    "AWS::SQS::Queue": "billed per request",
    "AWS::SQS::QueuePolicy": "configuration",
    "AWS::SecretsManager::ResourcePolicy": "configuration",
    "AWS::SecretsManager::RotationSchedule": "rotation is free; its function is billed per run",
    "AWS::SecretsManager::SecretTargetAttachment": "configuration",
    "AWS::StepFunctions::StateMachine": "billed per state transition",
    "AWS::WAFv2::IPSet": "configuration",
    "AWS::WAFv2::LoggingConfiguration": "billed as log ingestion of inspected requests",
    "AWS::WAFv2::RegexPatternSet": "configuration",
}


@dataclass(frozen=True)
class IdleContext:
    """One resource being priced, with what a rule may need to look at."""

    stage: Stage
    stack: StackTemplate
    logical_id: str
    resource: dict[str, Any]
    prices: PriceTable
    usage: UsageModel

    @property
    def properties(self) -> dict[str, Any]:
        """The resource's ``Properties``."""
        props: dict[str, Any] = self.resource.get("Properties", {})
        return props

    @property
    def hours(self) -> float:
        """Hours in the table's month."""
        return self.prices.hours_per_month

    def line(self, category: str, quantity: float, key: str, basis: str) -> LineItem | Unpriced:
        """A priced line, or an unpriced one when the table lacks the price."""
        try:
            price = self.prices.price(key, self.stack.region)
        except MissingPriceError as error:
            return self.unpriced(str(error))
        return LineItem(self.stack.name, self.logical_id, category, quantity, price, basis)

    def free(self, reason: str) -> Free:
        """A free line for this resource."""
        return Free(self.stack.name, self.logical_id, self.resource["Type"], reason)

    def unpriced(self, reason: str) -> Unpriced:
        """An unpriced line for this resource."""
        return Unpriced(self.stack.name, self.logical_id, self.resource["Type"], reason)

    def referenced(self, value: Any) -> dict[str, Any] | None:
        """The resource of this stack that ``{"Ref": id}`` or ``Fn::GetAtt`` names."""
        if isinstance(value, dict):
            target = value.get("Ref") or (value.get("Fn::GetAtt") or [None])[0]
            if isinstance(target, str):
                return self.stack.resources.get(target)
        return None


Rule = Callable[[IdleContext], list[Finding]]


def kms_key(ctx: IdleContext) -> list[Finding]:
    rotation = ctx.properties.get("EnableKeyRotation") is True
    days = ctx.properties.get("RotationPeriodInDays", 365)
    basis = f"rotating every {days} days (+$1/month per rotation, first two)" if rotation else (
        "no rotation")
    return [ctx.line("KMS keys", 1, "kms.key_month", basis)]


def secret(ctx: IdleContext) -> list[Finding]:
    return [ctx.line("Secrets Manager secrets", 1, "secrets_manager.secret_month", "stored")]


def ssm_parameter(ctx: IdleContext) -> list[Finding]:
    if ctx.properties.get("Tier") in {"Advanced", "Intelligent-Tiering"}:
        return [ctx.line("SSM advanced parameters", 1, "ssm.advanced_parameter_month", "advanced")]
    return [ctx.free("standard tier is free")]


def db_cluster(ctx: IdleContext) -> list[Finding]:
    props = ctx.properties
    if not str(props.get("Engine", "")).startswith("aurora"):
        return [ctx.unpriced(f"engine {props.get('Engine')!r} is not Aurora")]
    idle = ctx.usage.idle
    optimized = props.get("StorageType") == "aurora-iopt1"
    key = "aurora.io_optimized_storage_gb_month" if optimized else "aurora.storage_gb_month"
    found: list[Finding] = [ctx.line(
        "Aurora storage", idle.aurora_storage_gb, key,
        f"{idle.aurora_storage_gb:g} GB assumed ({idle.aurora_storage_note})",
    )]
    if props.get("ManageMasterUserPassword") is True:
        found.append(ctx.line(
            "Secrets Manager secrets", 1, "secrets_manager.secret_month",
            "RDS-managed master user secret",
        ))
    return found


def db_instance(ctx: IdleContext) -> list[Finding]:
    props = ctx.properties
    found: list[Finding] = []
    if props.get("DBInstanceClass") != "db.serverless":
        return [ctx.unpriced(f"instance class {props.get('DBInstanceClass')!r} is not priced")]
    cluster = ctx.referenced(props.get("DBClusterIdentifier"))
    if cluster is None:
        return [ctx.unpriced("its cluster is not in the same stack")]
    scaling = cluster.get("Properties", {}).get("ServerlessV2ScalingConfiguration", {})
    minimum = float(scaling.get("MinCapacity", 0.5))
    pause = scaling.get("SecondsUntilAutoPause")
    if minimum == 0:
        basis = f"0 ACU: pauses after {int(pause or 300) // 60} idle minutes"
        found.append(ctx.line("Aurora compute", 0, "aurora.serverless_v2_acu_hour", basis))
    else:
        found.append(ctx.line(
            "Aurora compute", minimum * ctx.hours, "aurora.serverless_v2_acu_hour",
            f"{minimum:g} ACU minimum x {ctx.hours:g} h",
        ))
    if minimum > 0 and int(props.get("MonitoringInterval", 0) or 0) > 0:
        found.append(ctx.unpriced(
            f"Enhanced Monitoring every {props['MonitoringInterval']} s is ingested into"
            " CloudWatch Logs (RDSOSMetrics); its volume is not modelled"
        ))
    if int(props.get("PerformanceInsightsRetentionPeriod", 7) or 7) > 7:
        found.append(ctx.unpriced("Performance Insights retention beyond the free 7 days"))
    if cluster.get("Properties", {}).get("DatabaseInsightsMode") == "advanced":
        found.append(ctx.unpriced("Database Insights advanced mode"))
    return found


def web_acl(ctx: IdleContext) -> list[Finding]:
    rules = ctx.properties.get("Rules", [])
    found: list[Finding] = [
        ctx.line("WAF web ACLs", 1, "waf.web_acl_month", f"scope {ctx.properties.get('Scope')}"),
        ctx.line("WAF rules", len(rules), "waf.rule_month",
                 "each rule or rule group counts once"),
    ]
    for rule in rules:
        group = rule.get("Statement", {}).get("ManagedRuleGroupStatement", {}).get("Name")
        if group in PREMIUM_RULE_GROUPS:
            found.append(ctx.unpriced(f"premium managed rule group {group}"))
    return found


def alarm(ctx: IdleContext) -> list[Finding]:
    props = ctx.properties
    metrics = [m for m in props.get("Metrics", []) if "MetricStat" in m]
    count = len(metrics) if metrics else 1
    periods = [props.get("Period", 60)] + [m["MetricStat"].get("Period", 60) for m in metrics]
    high_resolution = any(int(p) < 60 for p in periods)
    key = ("cloudwatch.high_resolution_alarm_metric_month" if high_resolution
           else "cloudwatch.alarm_metric_month")
    return [ctx.line("CloudWatch alarms", count, key,
                     f"{count} metric(s), {'high' if high_resolution else 'standard'} resolution")]


def composite_alarm(ctx: IdleContext) -> list[Finding]:
    return [ctx.line("CloudWatch alarms", 1, "cloudwatch.composite_alarm_month", "composite")]


def log_group(ctx: IdleContext) -> list[Finding]:
    stored = ctx.usage.idle.log_stored_gb_per_group
    retention = ctx.properties.get("RetentionInDays", "never expires")
    return [ctx.line("CloudWatch log storage", stored, "cloudwatch.logs_storage_gb_month",
                     f"{stored:g} GB stored while idle; retention {retention} days")]


def bucket(ctx: IdleContext) -> list[Finding]:
    stored = ctx.usage.idle.s3_stored_gb_per_bucket
    return [ctx.line("S3 storage", stored, "s3.standard_gb_month", f"{stored:g} GB while idle")]


def dynamodb_table(ctx: IdleContext) -> list[Finding]:
    if ctx.properties.get("BillingMode") != "PAY_PER_REQUEST":
        return [ctx.unpriced("provisioned capacity is not priced")]
    stored = ctx.usage.idle.dynamodb_stored_gb_per_table
    return [ctx.line("DynamoDB storage", stored, "dynamodb.on_demand_storage_gb_month",
                     f"{stored:g} GB on demand, no reads or writes while idle")]


def backup_plan(ctx: IdleContext) -> list[Finding]:
    idle = ctx.usage.idle
    rules = ctx.properties.get("BackupPlan", {}).get("BackupPlanRule", [])
    found: list[Finding] = [ctx.line(
        "Backup storage", idle.backup_stored_gb_per_plan, "backup.aurora_snapshot_gb_month",
        f"{idle.backup_stored_gb_per_plan:g} GB ({idle.backup_note})",
    )]
    if any(rule.get("CopyActions") for rule in rules):
        found.append(ctx.unpriced("cross-region backup copies"))
    return found


def nat_gateway(ctx: IdleContext) -> list[Finding]:
    return [ctx.line("NAT gateways", ctx.hours, "vpc.nat_gateway_hour", f"{ctx.hours:g} h")]


def vpc_endpoint(ctx: IdleContext) -> list[Finding]:
    if ctx.properties.get("VpcEndpointType", "Gateway") == "Gateway":
        return [ctx.free("gateway endpoints are free")]
    zones = len(ctx.properties.get("SubnetIds", [])) or 1
    return [ctx.line("VPC interface endpoints", zones * ctx.hours,
                     "vpc.interface_endpoint_az_hour", f"{zones} AZ x {ctx.hours:g} h")]


def elastic_ip(ctx: IdleContext) -> list[Finding]:
    return [ctx.line("Public IPv4 addresses", ctx.hours, "vpc.public_ipv4_hour",
                     f"{ctx.hours:g} h")]


def lambda_alias(ctx: IdleContext) -> list[Finding]:
    if ctx.properties.get("ProvisionedConcurrencyConfig"):
        return [ctx.unpriced("provisioned concurrency is not priced")]
    return [ctx.free("no provisioned concurrency")]


def pipeline(ctx: IdleContext) -> list[Finding]:
    if ctx.properties.get("PipelineType", "V1") == "V2":
        return [ctx.free("V2 is billed per action execution minute")]
    return [ctx.line("CodePipeline V1 pipelines", 1, "codepipeline.v1_pipeline_month", "active")]


RULES: dict[str, Rule] = {
    "AWS::Backup::BackupPlan": backup_plan,
    "AWS::CloudWatch::Alarm": alarm,
    "AWS::CloudWatch::CompositeAlarm": composite_alarm,
    "AWS::CodePipeline::Pipeline": pipeline,
    "AWS::DynamoDB::Table": dynamodb_table,
    "AWS::EC2::EIP": elastic_ip,
    "AWS::EC2::NatGateway": nat_gateway,
    "AWS::EC2::VPCEndpoint": vpc_endpoint,
    "AWS::KMS::Key": kms_key,
    "AWS::Lambda::Alias": lambda_alias,
    "AWS::Logs::LogGroup": log_group,
    "AWS::RDS::DBCluster": db_cluster,
    "AWS::RDS::DBInstance": db_instance,
    "AWS::S3::Bucket": bucket,
    "AWS::SSM::Parameter": ssm_parameter,
    "AWS::SecretsManager::Secret": secret,
    "AWS::WAFv2::WebACL": web_acl,
}


def price_resource(ctx: IdleContext) -> list[Finding]:
    """What one resource costs while idle: lines, a free reason, or unpriced."""
    resource_type = str(ctx.resource.get("Type", ""))
    rule = RULES.get(resource_type)
    if rule is not None:
        return rule(ctx)
    if resource_type in FREE:
        return [ctx.free(FREE[resource_type])]
    if resource_type.startswith("Custom::"):
        return [ctx.free("runs only at deploy time")]
    return [ctx.unpriced("unknown resource type: no rule prices it")]


def idle_findings(stage: Stage, prices: PriceTable, usage: UsageModel) -> list[Finding]:
    """Every resource of the stage, priced for a month without traffic."""
    return [
        finding
        for stack in stage.stacks
        for logical_id, resource in stack.resources.items()
        for finding in price_resource(
            IdleContext(stage, stack, logical_id, resource, prices, usage)
        )
    ]
