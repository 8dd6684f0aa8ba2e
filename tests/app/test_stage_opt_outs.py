"""Stage configs may only declare opt-outs that some construct actually takes."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest

from cdk_app.config import OptOutConfig, load_stage_config
from cdk_app.stage import PlatformStage
from constructs_lib.opt_outs import SecureDefaultError


@pytest.mark.parametrize("setting", [
    # A typo in the construct name: no construct recognises the opt-out as its own.
    "SecureAuroraClustr.deletion_protection",
    # A real setting this stage does not weaken (flow logs are kept a year): stale.
    "PrivateNetwork.flow_log_retention",
])
def test_an_opt_out_no_construct_uses_is_refused(tmp_path: Path, setting: str) -> None:
    config = load_stage_config("staging")
    stray = OptOutConfig(setting=setting,
                         reason="A reason long enough to pass the opt-out check.")
    config = config.model_copy(update={"opt_outs": (*config.opt_outs, stray)})
    with pytest.raises(SecureDefaultError, match="no construct uses"):
        PlatformStage(cdk.App(outdir=str(tmp_path)), "staging", config=config)


def test_every_opt_out_in_the_staging_config_is_used(tmp_path: Path) -> None:
    stage = PlatformStage(cdk.App(outdir=str(tmp_path)), "staging",
                          config=load_stage_config("staging"))
    assert stage.config.opt_outs  # the check above had real opt-outs to compare against
