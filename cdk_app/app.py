"""Builds the CDK app: one :class:`~cdk_app.stage.PlatformStage` per config file."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk

from cdk_app.config import available_stages, load_stage_config
from cdk_app.stage import PlatformStage


def build_app(
    *, outdir: str | None = None, stage_names: Sequence[str] | None = None
) -> cdk.App:
    """Return an unsynthesised app with a stage per requested config.

    Works offline with no AWS credentials: every account and region comes from
    config, and nothing performs a context lookup. Without ``outdir`` the app writes
    where ``CDK_OUTDIR`` says (the cdk CLI and the gate set it), else ``cdk.out``.
    """
    app = cdk.App(outdir=outdir) if outdir else cdk.App()
    for name in stage_names or available_stages():
        PlatformStage(app, name, config=load_stage_config(name))
    return app
