"""What a cold start loads: the app is built in Lambda's init phase, resource modules on
their first request, SnapStart snapshots the whole app and refreshes what must not be shared.

Timings are measured in ``bench/bench_cold_start.py``; these tests pin the shape only.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import snapshot_restore_py
from flask import Flask
from moto import mock_aws

from service import create_app, lambda_handler
from service.api import register_blueprints
from service.api.health import bp as health_bp
from service.api.routes import ROUTES, public_routes
from service.bootstrap import Services
from service.http.endpoint import SPEC_ATTRIBUTE
from service.openapi import bp as openapi_bp
from service.secrets import SecretLoader
from service.settings import Settings
from tests.service.platform.test_lambda_handler import LAMBDA_ENV

REPO = Path(__file__).resolve().parents[3]
HEAVY = ("pydantic", "jwt", "boto3", "botocore", "aws_lambda_powertools", "devtools",
         "service.api.accounts", "service.api.schemas", "service.use_cases", "service.db")


def test_the_route_table_matches_the_endpoint_declarations() -> None:
    eager = Flask("eager")
    eager.register_blueprint(health_bp)
    eager.register_blueprint(openapi_bp)
    register_blueprints(eager)
    declared = set()
    for rule in eager.url_map.iter_rules():
        view = eager.view_functions[rule.endpoint]
        spec = getattr(view, SPEC_ATTRIBUTE, None)
        if spec is not None:
            declared.add((spec.method, rule.rule, rule.endpoint, spec.handler.__module__,
                          spec.public))
    table = {(r.method, r.rule, r.endpoint, r.module, r.public) for r in ROUTES}
    assert sorted(declared - table) == [], "missing from service/api/routes.py"
    assert sorted(table - declared) == [], "stale lines in service/api/routes.py"


def test_public_routes_are_the_platform_ones() -> None:
    # The provider webhook authenticates by its Tl-Signature (service/webhooks), the consent
    # callback by its single-use state; neither carries a user token.
    assert sorted(r.rule for r in public_routes()) == [
        "/docs", "/health", "/openapi.json", "/v1/connections/callback",
        "/v1/webhooks/truelayer"]


def test_the_route_table_imports_neither_flask_nor_cdk() -> None:
    code = ("import sys, service.api.routes; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'aws_cdk')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


def _asset(tmp_path: Path) -> Path:
    """``service/`` alone, as in the Lambda asset (no devtools, no bytecode)."""
    asset = tmp_path / "asset"
    shutil.copytree(REPO / "service", asset / "service",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return asset


def _run(asset: Path, code: str, **env: str) -> dict[str, object]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DB_"))}
    environ.update(LAMBDA_ENV)
    environ.update(env, PYTHONPATH=str(asset), PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run([sys.executable, "-c", code], cwd=asset, env=environ,
                         capture_output=True, text=True, check=True).stdout
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


HEALTH = """
import json, sys
from service import create_app, lambda_handler
built = lambda_handler._app is not None
event = {"version": "2.0", "rawPath": "/health", "rawQueryString": "", "headers": {},
         "requestContext": {"http": {"method": "GET", "path": "/health",
                                     "sourceIp": "203.0.113.7"}, "requestId": "r"}}
status = lambda_handler.handler(event, None)["statusCode"]
print(json.dumps({"built_in_init": built, "status": status, "modules": sorted(sys.modules)}))
"""


def test_a_health_cold_start_loads_no_model_token_or_aws_library(tmp_path: Path) -> None:
    result = _run(_asset(tmp_path), HEALTH, AWS_LAMBDA_INITIALIZATION_TYPE="on-demand")
    assert result["status"] == 200
    assert result["built_in_init"] is True
    modules = result["modules"]
    assert isinstance(modules, list)
    loaded = [m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY)]
    assert loaded == []


def test_outside_lambda_importing_the_handler_builds_nothing(tmp_path: Path) -> None:
    result = _run(_asset(tmp_path), HEALTH)
    assert result["built_in_init"] is False and result["status"] == 200


SNAP = """
import json, sys
from service import create_app, lambda_handler
import snapshot_restore_py
hooks = [f.__name__ for f, *_ in snapshot_restore_py.get_after_restore()]
print(json.dumps({"hooks": hooks, "loaded": [m for m in sys.modules if m.startswith("service.")]}))
"""


def test_snap_start_init_preloads_every_route_module_and_registers_the_restore_hook(
    tmp_path: Path,
) -> None:
    asset = _asset(tmp_path)
    shutil.copy(snapshot_restore_py.__file__, asset)  # shipped by Lambda's Python runtime
    result = _run(asset, SNAP, AWS_LAMBDA_INITIALIZATION_TYPE="snap-start")
    assert result["hooks"] == ["after_restore"]
    loaded = result["loaded"]
    assert isinstance(loaded, list)
    assert {r.module for r in ROUTES} <= set(loaded)


def test_after_restore_reseeds_random_and_refetches_secrets(local_dir: Path) -> None:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-2")
        arn = client.create_secret(Name="origin", SecretString="before")["ARN"]
        settings = Settings(runtime="local", database_url="postgresql://x@127.0.0.1:1/x",
                            local_dir=local_dir, log_level="WARNING")
        services = Services(settings, secrets=SecretLoader(secrets_client=client, max_age=3600))
        lambda_handler.use_app(create_app(services=services))
        try:
            assert services.secrets.get_secret(arn) == "before"
            client.put_secret_value(SecretId=arn, SecretString="after")
            assert services.secrets.get_secret(arn) == "before"  # cached, as in a snapshot
            random.seed(1234)
            snapshotted = random.random()
            random.seed(1234)
            lambda_handler.after_restore()
            assert random.random() != snapshotted
            assert services.secrets.get_secret(arn) == "after"
        finally:
            lambda_handler.use_app(None)
