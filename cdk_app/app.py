"""Builds the CDK app: one :class:`~cdk_app.stage.PlatformStage` per config file."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk

from cdk_app.config import available_stages, load_pipeline_config, load_stage_config
from cdk_app.stacks.pipeline_stack import PipelineStack
from cdk_app.stage import PlatformStage

PIPELINE_STACK_ID = "Pipeline"


def build_app(
    *, outdir: str | None = None, stage_names: Sequence[str] | None = None
) -> cdk.App:
    """Return an unsynthesised app with a stage per requested config and the pipeline.

    The pipeline stack (``config/pipeline.json``) is included when every stage it
    deploys is built, i.e. always unless ``stage_names`` picks a subset.

    Works offline with no AWS credentials: every account and region comes from
    config, and nothing performs a context lookup. Without ``outdir`` the app writes
    where ``CDK_OUTDIR`` says (the cdk CLI and the gate set it), else ``cdk.out``.
    """
    app = cdk.App(outdir=outdir) if outdir else cdk.App()
    stages = {name: PlatformStage(app, name, config=load_stage_config(name))
              for name in stage_names or available_stages()}
    pipeline = load_pipeline_config()
    if set(pipeline.stages) <= set(stages):
        PipelineStack(app, PIPELINE_STACK_ID, config=pipeline, stages=stages,
                      env=cdk.Environment(account=pipeline.account, region=pipeline.region))
    return app
