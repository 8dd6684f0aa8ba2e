"""The app's functions of the service asset, sized by stage config: one way to build each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_app.config import FunctionConfig, StageConfig
from cdk_app.service_asset import service_code
from cdk_app.stacks.data_stack import DataStack
from constructs_lib import OptOut, ServiceFunction

# Config value -> the CodeDeploy predefined config that shifts the alias.
DEPLOYMENTS = {
    "all_at_once": codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
    "canary_10_percent_5_minutes": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES,
    "linear_10_percent_every_1_minute":
        codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_1_MINUTE,
}


def service_function(
    scope: Construct, id_: str, *, handler: str, sizing: FunctionConfig, config: StageConfig,
    data: DataStack, alarm_topic: sns.ITopic, environment: Mapping[str, str],
    description: str, pre_traffic_hook: lambda_.IFunction, opt_outs: Sequence[OptOut],
) -> ServiceFunction:
    """A :class:`ServiceFunction` running ``handler`` (a name in the deployment contract) from
    the service asset, under the Data stack's keys, deployed after ``pre_traffic_hook``."""
    return ServiceFunction(
        scope, id_,
        code=service_code(),
        handler=handler,
        memory_size=sizing.memory_mb,
        timeout=cdk.Duration.seconds(sizing.timeout_seconds),
        p99_duration_threshold=cdk.Duration.millis(sizing.p99_latency_alarm_ms),
        deployment_config=DEPLOYMENTS[sizing.deployment],
        log_key=data.keys.logs,
        queue_key=data.keys.workflow_state,
        environment_key=data.keys.functions,
        alarm_topic=alarm_topic,
        environment=dict(environment),
        reserved_concurrent_executions=sizing.reserved_concurrency,
        log_retention=config.log_retention_days,
        description=description,
        pre_traffic_hook=pre_traffic_hook,
        opt_outs=opt_outs,
    )
