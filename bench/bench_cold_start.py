"""Cold start of the Lambda entry point versus a bare Flask + serverless-wsgi handler.

Each run is a FRESH Python process that measures, from its first line, the time to import
the handler module, build the app and answer the first API Gateway v2 event ``GET /health``
(Lambda-mode settings; ``/health`` touches neither the database nor AWS). The baseline is a
hello-world Flask app behind serverless-wsgi, measured the same way in the same run.
Interpreter start-up is excluded from both (identical for both). Prints medians and ratio.

Run: ``.venv/bin/python bench/bench_cold_start.py [runs]``
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 7

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

LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "bench-api",
    "SERVICE_RUNTIME": "lambda",
    "AWS_REGION": "eu-west-2",
    "AWS_DEFAULT_REGION": "eu-west-2",
    "DB_CLUSTER_ARN": "arn:aws:rds:eu-west-2:123456789012:cluster:bench",
    "DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-2:123456789012:secret:bench-AbCdEf",
    "DB_NAME": "app",
    "TOKEN_KMS_KEY_ARN": "arn:aws:kms:eu-west-2:123456789012:key/bench",
    "COGNITO_USER_POOL_ID": "eu-west-2_Bench",
    "COGNITO_CLIENT_ID": "bench-client",
    "COGNITO_REGION": "eu-west-2",
    "LOG_LEVEL": "WARNING",
    "POWERTOOLS_SERVICE_NAME": "family-finance-api",
}


def run_once(snippet: str) -> dict[str, float]:
    env = {**os.environ, **LAMBDA_ENV, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("DEV_ISSUER", None)
    out = subprocess.run(
        [sys.executable, "-c", snippet, json.dumps(EVENT)],
        cwd=REPO, env=env, capture_output=True, text=True, check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    service: list[dict[str, float]] = []
    baseline: list[dict[str, float]] = []
    run_once(SERVICE_SNIPPET)  # warm the OS file cache and .pyc files once, not measured
    run_once(BASELINE_SNIPPET)
    for _ in range(RUNS):  # interleaved so machine noise hits both alike
        service.append(run_once(SERVICE_SNIPPET))
        baseline.append(run_once(BASELINE_SNIPPET))

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    print(f"cold start, {RUNS} fresh processes each (median; interpreter start-up excluded)")
    print(f"{'':28}{'import':>10}{'first resp':>12}{'warm req':>10}{'modules':>9}")
    for name, rows in (("service handler  GET /health", service),
                       ("bare Flask+sls-wsgi hello", baseline)):
        print(f"{name:28}{med(rows, 'import') * 1000:9.1f}ms{med(rows, 'first') * 1000:10.1f}ms"
              f"{med(rows, 'warm') * 1000:8.2f}ms{med(rows, 'modules'):9.0f}")
    ratio = med(service, "first") / med(baseline, "first")
    print(f"ratio service/baseline (time to first response): {ratio:.2f}x")


if __name__ == "__main__":
    main()
