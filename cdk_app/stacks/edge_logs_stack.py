"""CloudFront access logs in us-east-1, deployed after the API stack that owns the distribution."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from cdk_app.config import StageConfig
from constructs_lib import DataClass, EdgeAccessLogs, EncryptionKeys, OptOut


class EdgeLogsStack(cdk.Stack):
    """Standard logging v2 of the API's distribution (its delivery source must be in us-east-1).

    Takes the distribution id from the API stack through a cross-region reference.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: StageConfig,
        distribution_id: str,
        opt_outs: tuple[OptOut, ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        # The bucket's key policy must admit log delivery, which CDK adds to a key here only.
        self.keys = EncryptionKeys(
            self, "Keys", alias_prefix=f"{config.resource_prefix}-cdn-logs",
            classes=[DataClass.LOGS], opt_outs=opt_outs,
        )
        self.access_logs = EdgeAccessLogs(
            self, "CdnLogs",
            distribution_id=distribution_id,
            log_key=self.keys.logs,
            log_retention_days=config.log_retention_days,
            opt_outs=opt_outs,
        )
