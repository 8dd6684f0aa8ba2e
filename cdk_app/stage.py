"""A deployable copy of the platform: the same stacks for every stage, configured by values."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from cdk_app.config import StageConfig
from cdk_app.stacks.api_stack import ApiStack
from cdk_app.stacks.data_stack import DataStack
from cdk_app.stacks.edge_logs_stack import EdgeLogsStack
from cdk_app.stacks.edge_stack import EdgeStack
from constructs_lib import EDGE_REGION, OPT_OUT_METADATA_KEY, OptOut, SecureDefaultError
from constructs_lib.drift import DriftDetection, DriftedStack

API_STACK_ID = "Api"


class PlatformStage(cdk.Stage):
    """Stacks cut by lifecycle: edge protection (us-east-1), data, API, then edge logs.

    ``Edge`` holds the CloudFront-scoped WAF; ``Data`` the keys, network,
    database and secrets that outlive any deploy; ``Api`` the function, HTTP API,
    user pool and CloudFront distribution that change with every release;
    ``EdgeLogs`` (us-east-1) the distribution's standard logging v2, which must be
    created in us-east-1 and needs the distribution's id.
    """

    def __init__(self, scope: Construct, id_: str, *, config: StageConfig) -> None:
        home = cdk.Environment(account=config.account, region=config.region)
        super().__init__(scope, id_, env=home)
        opt_outs = tuple(
            OptOut(setting=o.setting, reason=o.reason, finding_ids=o.finding_ids)
            for o in config.opt_outs
        )
        self.config = config
        self.edge = EdgeStack(
            self, "Edge",
            env=cdk.Environment(account=config.account, region=EDGE_REGION),
            cross_region_references=True,
            config=config,
        )
        self.data = DataStack(
            self, "Data",
            env=home,
            config=config,
            opt_outs=opt_outs,
            log_stacks=[f"{self.stage_name}-{API_STACK_ID}"],  # its log groups use Data's key
        )
        self.api = ApiStack(
            self, API_STACK_ID,
            env=home,
            cross_region_references=True,
            config=config,
            data=self.data,
            edge=self.edge,
            opt_outs=opt_outs,
        )
        self.edge_logs = EdgeLogsStack(
            self, "EdgeLogs",
            env=cdk.Environment(account=config.account, region=EDGE_REGION),
            cross_region_references=True,
            config=config,
            distribution_id=self.api.cdn.distribution.distribution_id,
            opt_outs=opt_outs,
        )
        self.drift = DriftDetection(
            self.api, "DriftDetection",
            stacks=[DriftedStack(name=stack.stack_name, region=stack.region)
                    for stack in (self.edge, self.data, self.api, self.edge_logs)],
            topic=self.api.alerts.topic,
            log_key=self.data.keys.logs,
            environment_key=self.data.keys.functions,
            stage=config.stage,
        )
        _refuse_unused_opt_outs(self, opt_outs)
        for stack in (self.edge, self.data, self.api, self.edge_logs):
            cdk.Tags.of(stack).add("project", "family-finance-platform")
            cdk.Tags.of(stack).add("stage", config.stage)
            cdk.Tags.of(stack).add("data-classification", "confidential-financial")


def _refuse_unused_opt_outs(stage: cdk.Stage, opt_outs: tuple[OptOut, ...]) -> None:
    """A config opt-out no construct took is stale or mistyped: refuse it, don't carry it."""
    applied = {
        entry.data["setting"]
        for construct in stage.node.find_all()
        for entry in construct.node.metadata
        if entry.type == OPT_OUT_METADATA_KEY
    }
    unused = sorted(o.setting for o in opt_outs if o.setting not in applied)
    if unused:
        raise SecureDefaultError(
            f"Stage {stage.node.id!r} declares opt-outs that no construct uses: {unused}. "
            "Remove them from the stage config (or fix the setting name)."
        )
