"""CloudFront's origin: the regional custom domain where a stage configures one."""

from __future__ import annotations

import json

import pytest

from cdk_app.config import load_stage_config

from .conftest import STAGES, GateRun

pytestmark = pytest.mark.synth


@pytest.mark.parametrize("stage", STAGES)
def test_execute_api_is_disabled_exactly_where_a_domain_is_configured(
    gate_run: GateRun, stage: str
) -> None:
    domain = load_stage_config(stage).http_api.domain_name
    api = gate_run.template(stage, "Api")
    [http_api] = [r for r in api["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    assert http_api["Properties"]["DisableExecuteApiEndpoint"] is (domain is not None)
    [distribution] = [r for r in api["Resources"].values()
                      if r["Type"] == "AWS::CloudFront::Distribution"]
    origin = distribution["Properties"]["DistributionConfig"]["Origins"][0]["DomainName"]
    if domain is not None:
        assert origin == domain
    else:
        assert "execute-api" in json.dumps(origin)


def test_prod_has_an_origin_domain() -> None:
    assert load_stage_config("prod").http_api.domain_name
