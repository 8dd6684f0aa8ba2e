"""Cold start of the Lambda entry point versus a bare Flask + serverless-wsgi handler.

Each run is a FRESH Python process that measures, from its first line, the time to import
the handler module, build the app and answer the first API Gateway v2 event ``GET /health``
(Lambda-mode settings; ``/health`` touches neither the database nor AWS). The baseline is a
hello-world Flask app behind serverless-wsgi, measured the same way in the same run.
Interpreter start-up is excluded from both (identical for both). A third series answers an
authenticated ``GET /v1/me`` (Cognito-shaped JWT, JWKS injected; Aurora reached through the
local RDS Data API server on embedded PostgreSQL). Prints medians and ratios.

Run: ``.venv/bin/python bench/bench_cold_start.py [runs]``
"""

# The /v1/me series' setup imports (PostgreSQL, Data API server) load only when it runs.
# ruff: noqa: PLC0415

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO = Path(__file__).resolve().parents[1]
DEFAULT_RUNS = 7

EVENT = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/health",
    "rawQueryString": "",
    "headers": {"host": "api.example.com", "x-forwarded-proto": "https"},
    "requestContext": {
        "http": {"method": "GET", "path": "/health", "protocol": "HTTP/1.1",
                 "sourceIp": "203.0.113.7", "userAgent": "bench"},
        "requestId": "bench-1", "routeKey": "$default", "stage": "$default",
        "domainName": "api.example.com",
    },
    "isBase64Encoded": False,
}

SERVICE_SNIPPET = """
import time; t0 = time.perf_counter()
import json, sys
from service.lambda_handler import handler
t_import = time.perf_counter()
result = handler(json.loads(sys.argv[1]), None)
t_first = time.perf_counter()
result2 = handler(json.loads(sys.argv[1]), None)
t_second = time.perf_counter()
assert result["statusCode"] == 200 and result2["statusCode"] == 200, result
print(json.dumps({"import": t_import - t0, "first": t_first - t0, "warm": t_second - t_first,
                  "modules": len(sys.modules)}))
"""

BASELINE_SNIPPET = """
import time; t0 = time.perf_counter()
import json, sys
import serverless_wsgi
from flask import Flask
app = Flask("hello")
@app.get("/health")
def health():
    return {"status": "ok"}
def handler(event, context):
    return serverless_wsgi.handle_request(app, event, context)
t_import = time.perf_counter()
result = handler(json.loads(sys.argv[1]), None)
t_first = time.perf_counter()
result2 = handler(json.loads(sys.argv[1]), None)
t_second = time.perf_counter()
assert result["statusCode"] == 200 and result2["statusCode"] == 200, result
print(json.dumps({"import": t_import - t0, "first": t_first - t0, "warm": t_second - t_first,
                  "modules": len(sys.modules)}))
"""

ME_SNIPPET = """
import time; t0 = time.perf_counter()
import json, os, sys
from service.lambda_handler import handler, use_app
from service.app import create_app
from service.bootstrap import Services
from service.settings import Settings
jwks = json.loads(os.environ["BENCH_JWKS"])
use_app(create_app(services=Services(Settings.from_env(), jwks_fetch=lambda: jwks)))
t_import = time.perf_counter()
result = handler(json.loads(sys.argv[1]), None)
t_first = time.perf_counter()
result2 = handler(json.loads(sys.argv[1]), None)
t_second = time.perf_counter()
assert result["statusCode"] == 200 and result2["statusCode"] == 200, result
print(json.dumps({"import": t_import - t0, "first": t_first - t0, "warm": t_second - t_first,
                  "modules": len(sys.modules)}))
"""

LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "bench-api",
    "SERVICE_RUNTIME": "lambda",
    "AWS_REGION": "eu-west-2",
    "AWS_DEFAULT_REGION": "eu-west-2",
    "DB_CLUSTER_ARN": "arn:aws:rds:eu-west-2:123456789012:cluster:bench",
    "DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-2:123456789012:secret:bench-AbCdEf",
    "DB_NAME": "app",
    "TOKEN_KMS_KEY_ARN": "arn:aws:kms:eu-west-2:123456789012:key/bench",
    "FAMILY_KEYS_TABLE_NAME": "bench-family-keys",
    "AUDIT_KEY_SECRET_ARN": "arn:aws:secretsmanager:eu-west-2:123456789012:secret:bench-audit",
    "AUDIT_ANCHOR_BUCKET": "bench-audit-anchors",
    "COGNITO_USER_POOL_ID": "eu-west-2_Bench",
    "COGNITO_CLIENT_ID": "bench-client",
    "COGNITO_REGION": "eu-west-2",
    "LOG_LEVEL": "WARNING",
    "POWERTOOLS_SERVICE_NAME": "family-finance-api",
}


def run_once(snippet: str, event: dict[str, Any] | None = None,
             extra_env: dict[str, str] | None = None) -> dict[str, float]:
    env = {**os.environ, **LAMBDA_ENV, **(extra_env or {}), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("DEV_ISSUER", None)
    out = subprocess.run(
        [sys.executable, "-c", snippet, json.dumps(event or EVENT)],
        cwd=REPO, env=env, capture_output=True, text=True, check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


@contextmanager
def me_setup() -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    """Embedded PostgreSQL + local Data API + a Cognito-shaped token and its JWKS."""
    import jwt
    import psycopg
    from cryptography.hazmat.primitives.asymmetric import rsa

    from service.db.embedded import embedded_postgres_url, with_database
    from service.db.migrations import upgrade
    from service.db.postgres import PostgresDatabase
    from service.local_data_api import LocalDataApi

    admin_url = embedded_postgres_url(REPO / ".cache" / "pg")
    name = f"bench_cold_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"'.encode())
    db = PostgresDatabase(with_database(admin_url, name))
    upgrade(db)
    db.close()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True),
           "kid": "bench", "use": "sig", "alg": "RS256"}
    issuer = f"https://cognito-idp.eu-west-2.amazonaws.com/{LAMBDA_ENV['COGNITO_USER_POOL_ID']}"
    now = int(time.time())
    token = jwt.encode(
        {"iss": issuer, "sub": str(uuid.uuid4()), "client_id": LAMBDA_ENV["COGNITO_CLIENT_ID"],
         "token_use": "access", "email": "bench@example.com", "iat": now, "exp": now + 3600},
        key, algorithm="RS256", headers={"kid": "bench"},
    )
    event = json.loads(json.dumps(EVENT))
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/v1/me"
    event["headers"]["authorization"] = f"Bearer {token}"
    try:
        with LocalDataApi(postgres_url=admin_url) as endpoint_url:
            yield event, {
                "BENCH_JWKS": json.dumps({"keys": [jwk]}),
                "RDS_DATA_ENDPOINT_URL": endpoint_url,
                "DB_CLUSTER_ARN": "arn:aws:rds:eu-west-2:123456789012:cluster:local-test",
                "DB_SECRET_ARN":
                    "arn:aws:secretsmanager:eu-west-2:123456789012:secret:local-test-AbCdEf",
                "DB_NAME": name,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
            }
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def main(runs: int = DEFAULT_RUNS) -> None:
    service: list[dict[str, float]] = []
    baseline: list[dict[str, float]] = []
    run_once(SERVICE_SNIPPET)  # warm the OS file cache and .pyc files once, not measured
    run_once(BASELINE_SNIPPET)
    for _ in range(runs):  # interleaved so machine noise hits both alike
        service.append(run_once(SERVICE_SNIPPET))
        baseline.append(run_once(BASELINE_SNIPPET))

    me: list[dict[str, float]] = []
    with me_setup() as (me_event, me_env):
        run_once(ME_SNIPPET, me_event, me_env)
        for _ in range(runs):
            me.append(run_once(ME_SNIPPET, me_event, me_env))

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    print(f"cold start, {runs} fresh processes each (median; interpreter start-up excluded)")
    print(f"{'':31}{'import':>10}{'first resp':>12}{'warm req':>10}{'modules':>9}")
    for name, rows in (("service handler  GET /health", service),
                       ("service  GET /v1/me (Data API)", me),
                       ("bare Flask+sls-wsgi hello", baseline)):
        print(f"{name:31}{med(rows, 'import') * 1000:9.1f}ms{med(rows, 'first') * 1000:10.1f}ms"
              f"{med(rows, 'warm') * 1000:8.2f}ms{med(rows, 'modules'):9.0f}")
    ratio = med(service, "first") / med(baseline, "first")
    print(f"ratio service/baseline (time to first response): {ratio:.2f}x")
    print(f"ratio /v1/me (JWT + Data API) / baseline:        "
          f"{med(me, 'first') / med(baseline, 'first'):.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_RUNS)
