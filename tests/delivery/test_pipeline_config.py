"""``config/pipeline.json`` is validated like the stage configs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cdk_app.config import PIPELINE_CONFIG, available_stages, load_pipeline_config


def _write(tmp_path: Path, **changes: Any) -> Path:
    data = json.loads(PIPELINE_CONFIG.read_text()) | changes
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(data))
    return path


def test_the_committed_config_deploys_staging_then_prod_with_approval_before_prod() -> None:
    config = load_pipeline_config()
    assert config.stages == ("staging", "prod")
    assert config.approval_before == ("prod",) and config.smoke_test_stages == ("staging",)
    assert "pipeline" not in available_stages()


@pytest.mark.parametrize(("changes", "message"), [
    ({"approval_before": ["qa"]}, "does not deploy"),
    ({"approval_before": ["staging"]}, "guards nothing"),
    ({"stages": ["staging", "staging"]}, "repeat"),
    ({"connection_arn": "arn:aws:iam::123456789012:role/x"}, "connection_arn"),
    ({"repository": "no-owner"}, "repository"),
    ({"surprise": True}, "surprise"),
])
def test_a_bad_pipeline_config_is_refused(tmp_path: Path, changes: dict[str, Any],
                                          message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        load_pipeline_config(_write(tmp_path, **changes))


def test_a_stage_without_a_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="without a config"):
        load_pipeline_config(_write(tmp_path, stages=["staging", "prod", "qa"]))
