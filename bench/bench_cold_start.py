"""Cold start of the Lambda handler versus a bare Flask + serverless-wsgi hello, as in Lambda.

Lambda runs the asset without bytecode: the asset ships no ``__pycache__`` and
``/var/task`` is read-only, so every module is compiled from source on each cold start.
So both sides are measured the same way: a CLEAN virtualenv per interpreter, built from
``service/requirements.lock`` (plus boto3, which the Lambda runtime provides) with every
``__pycache__`` in it removed, ``service/`` copied alone (no ``devtools``, no bytecode)
and ``PYTHONDONTWRITEBYTECODE=1``. Each run is a FRESH process measuring from its first
line (interpreter start-up excluded, identical for both):

* ``init``: importing the handler module; for the service this is Lambda's init phase
  (``AWS_LAMBDA_INITIALIZATION_TYPE=on-demand``), which builds the app;
* ``first``: from the first line to the first response (init + first request);
* ``warm``: the second, identical request.

Series: the bare hello (``GET /health`` on a one-route Flask app), the service's
``GET /health``, and ``GET /v1/me`` (Cognito-shaped JWT with the JWKS injected, Aurora
through the local RDS Data API on embedded PostgreSQL as the app role). Then the same
hello and ``/health`` with precompiled bytecode, to show what shipping bytecode would buy
(it must match the runtime's interpreter exactly; this machine has no 3.14). Medians of
several fresh processes, interleaved, and ratios against the hello of the same run.

Run: ``.venv/bin/python bench/bench_cold_start.py [runs] [--python 3.13 ...]``
"""

# The /v1/me series' setup imports (PostgreSQL, Data API server) load only when it runs.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "bench"
LOCK = REPO / "service" / "requirements.lock"
DEFAULT_RUNS = 7
DEFAULT_PYTHONS = ("3.11", "3.12", "3.13")

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

_MEASURE = """
t_init = time.perf_counter()
result = handler(json.loads(sys.argv[1]), None)
t_first = time.perf_counter()
result2 = handler(json.loads(sys.argv[1]), None)
t_second = time.perf_counter()
assert result["statusCode"] == 200 and result2["statusCode"] == 200, result
print(json.dumps({"init": t_init - t0, "first": t_first - t0, "warm": t_second - t_first,
                  "modules": len(sys.modules)}))
"""

SERVICE_SNIPPET = """
import time; t0 = time.perf_counter()
import json, sys
from service.lambda_handler import handler
""" + _MEASURE

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
""" + _MEASURE

# The JWKS cannot be fetched from Cognito here, so the app is built with it injected
# (outside the init phase, which would build it from the environment alone).
ME_SNIPPET = """
import time; t0 = time.perf_counter()
import json, os, sys
from service.lambda_handler import handler, use_app
from service.app import create_app
from service.bootstrap import Services
from service.settings import Settings
jwks = json.loads(os.environ["BENCH_JWKS"])
use_app(create_app(services=Services(Settings.from_env(), jwks_fetch=lambda: jwks)))
""" + _MEASURE

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


# -- the environment Lambda runs: clean venv, bare asset, no bytecode -------------------------


def find_python(version: str) -> Path | None:
    """An interpreter ``python<version>`` on PATH or under pyenv, if this machine has one."""
    found = shutil.which(f"python{version}")
    candidates = [Path(found)] if found else []
    pyenv = Path.home() / ".pyenv" / "versions"
    if pyenv.is_dir():
        candidates += sorted(pyenv.glob(f"{version}*/bin/python{version}"), reverse=True)
    for candidate in candidates:
        probe = subprocess.run([str(candidate), "-c", "import sys"], check=False,
                               capture_output=True)
        if probe.returncode == 0:
            return candidate
    return None


def _strip_bytecode(root: Path) -> None:
    for cache in list(root.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)


def clean_venv(python: Path, version: str) -> Path:
    """A virtualenv with exactly the Lambda lock (+ boto3), cached by lock hash, no bytecode."""
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()[:12]
    venv = CACHE / f"venv-{version}-{digest}"
    done = venv / ".complete"
    if not done.exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([str(python), "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        "-r", str(LOCK), "boto3"], check=True, capture_output=True)
        done.touch()
    _strip_bytecode(venv / "lib")
    return venv


@contextmanager
def asset_copy() -> Iterator[Path]:
    """``service/`` alone, as packaged in the Lambda asset (no devtools, no bytecode)."""
    with tempfile.TemporaryDirectory(prefix="bench-asset-") as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "service", root / "service",
                        ignore=shutil.ignore_patterns("__pycache__"))
        yield root


def run_once(python: Path, asset: Path, snippet: str, event: dict[str, Any] | None = None,
             extra_env: dict[str, str] | None = None, *, bytecode: bool = False
             ) -> dict[str, float]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin"), "HOME": os.environ.get("HOME", "/"),
           **LAMBDA_ENV, **(extra_env or {}), "PYTHONPATH": str(asset)}
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    out = subprocess.run(
        [str(python), "-c", snippet, json.dumps(event or EVENT)],
        cwd=asset, env=env, capture_output=True, text=True, check=True,
    ).stdout
    row: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return row


# -- /v1/me: embedded PostgreSQL, the local Data API as the app role, a Cognito-shaped JWT --


@contextmanager
def me_setup() -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    """Embedded PostgreSQL + local Data API (app role) + a Cognito-shaped token and its JWKS."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    from devtools.embedded import (
        OWNER,
        create_database,
        drop_database,
        embedded_postgres_url,
        ensure_role_password,
    )
    from devtools.embedded import with_database as with_db
    from devtools.local_data_api import DatabaseCredentials, LocalDataApi
    from service.db.migrations import DEFAULT_MIGRATIONS_DIR, load_grants, upgrade
    from service.db.postgres import PostgresDatabase

    admin_url = embedded_postgres_url(REPO / ".cache" / "pg")
    name = create_database(admin_url, "bench_cold")
    db = PostgresDatabase(with_db(admin_url, name))
    upgrade(db)
    db.close()
    grants = load_grants(DEFAULT_MIGRATIONS_DIR)
    assert grants is not None
    password = ensure_role_password(admin_url, grants.role,
                                    REPO / ".cache" / f"pg-{grants.role}.password")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True),
           "kid": "bench", "use": "sig", "alg": "RS256"}
    issuer = f"https://cognito-idp.eu-west-2.amazonaws.com/{LAMBDA_ENV['COGNITO_USER_POOL_ID']}"
    now = int(time.time())
    token = jwt.encode(
        {"iss": issuer, "sub": str(uuid.uuid4()), "client_id": LAMBDA_ENV["COGNITO_CLIENT_ID"],
         "token_use": "access", "email": "bench@example.com", "email_verified": True,
         "iat": now, "exp": now + 3600},
        key, algorithm="RS256", headers={"kid": "bench"},
    )
    event = json.loads(json.dumps(EVENT))
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/v1/me"
    event["headers"]["authorization"] = f"Bearer {token}"
    app_secret = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:bench-app-AbCdEf"
    owner_secret = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:bench-owner-AbCdEf"
    server = LocalDataApi(postgres_url=admin_url, credentials={
        app_secret: DatabaseCredentials(grants.role, password),
        owner_secret: DatabaseCredentials(OWNER),
    })
    try:
        with server as endpoint_url:
            yield event, {
                "BENCH_JWKS": json.dumps({"keys": [jwk]}),
                "RDS_DATA_ENDPOINT_URL": endpoint_url,
                "DB_CLUSTER_ARN": "arn:aws:rds:eu-west-2:123456789012:cluster:local-test",
                "DB_SECRET_ARN": app_secret,
                "DB_NAME": name,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
            }
    finally:
        drop_database(admin_url, name)


# -- the runs ---------------------------------------------------------------------------------

INIT_PHASE = {"AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"}


def _med(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def _line(name: str, rows: list[dict[str, float]], hello: list[dict[str, float]]) -> str:
    ratio = _med(rows, "first") / _med(hello, "first")
    return (f"  {name:36}{_med(rows, 'init') * 1000:8.1f}ms{_med(rows, 'first') * 1000:10.1f}ms"
            f"{_med(rows, 'warm') * 1000:8.2f}ms{_med(rows, 'modules'):8.0f}{ratio:8.2f}x")


def measure(version: str, python: Path, runs: int, *, with_me: bool) -> None:
    venv_python = clean_venv(python, version) / "bin" / "python"
    with asset_copy() as asset:
        series: dict[str, list[dict[str, float]]] = {"hello": [], "health": []}
        run_once(venv_python, asset, BASELINE_SNIPPET)  # warm the OS file cache, not measured
        run_once(venv_python, asset, SERVICE_SNIPPET, extra_env=INIT_PHASE)
        for _ in range(runs):  # interleaved so machine noise hits both alike
            series["hello"].append(run_once(venv_python, asset, BASELINE_SNIPPET))
            series["health"].append(
                run_once(venv_python, asset, SERVICE_SNIPPET, extra_env=INIT_PHASE))
        if with_me:
            me: list[dict[str, float]] = []
            with me_setup() as (me_event, me_env):
                run_once(venv_python, asset, ME_SNIPPET, me_event, me_env)
                for _ in range(runs):
                    me.append(run_once(venv_python, asset, ME_SNIPPET, me_event, me_env))
            series["me"] = me
        # The same with bytecode compiled once beforehand (what shipping .pyc would give).
        subprocess.run([str(venv_python), "-m", "compileall", "-q", str(asset),
                        str(venv_python.parents[1] / "lib")], check=True, capture_output=True)
        series["hello_pyc"], series["health_pyc"] = [], []
        for _ in range(runs):
            series["hello_pyc"].append(
                run_once(venv_python, asset, BASELINE_SNIPPET, bytecode=True))
            series["health_pyc"].append(
                run_once(venv_python, asset, SERVICE_SNIPPET, extra_env=INIT_PHASE, bytecode=True))
        _strip_bytecode(venv_python.parents[1] / "lib")

    hello = series["hello"]
    print(f"Python {version}: {runs} fresh processes per series, medians; no bytecode "
          "unless marked (ratio: first response / bare hello without bytecode)")
    print(f"  {'':36}{'init':>10}{'first resp':>12}{'warm':>10}{'modules':>8}{'ratio':>9}")
    print(_line("bare Flask+sls-wsgi hello", hello, hello))
    print(_line("service GET /health", series["health"], hello))
    if "me" in series:
        print(_line("service GET /v1/me (JWT + Data API)", series["me"], hello))
    print(_line("bare hello, with bytecode", series["hello_pyc"], hello))
    print(_line("service GET /health, with bytecode", series["health_pyc"], hello))
    saved = _med(series["health"], "first") - _med(series["health_pyc"], "first")
    print(f"  ratio service /health / bare hello: "
          f"{_med(series['health'], 'first') / _med(hello, 'first'):.2f}x without bytecode, "
          f"{_med(series['health_pyc'], 'first') / _med(series['hello_pyc'], 'first'):.2f}x "
          f"both with bytecode; bytecode saves {saved * 1000:.0f} ms of the /health cold start")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("runs", nargs="?", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--python", action="append", dest="pythons",
                        help="interpreter versions to measure (default: 3.11, 3.12, 3.13)")
    args = parser.parse_args(argv)
    versions = args.pythons or list(DEFAULT_PYTHONS)
    found = [(v, p) for v in versions if (p := find_python(v)) is not None]
    missing = sorted(set(versions) - {v for v, _ in found})
    if missing:
        print(f"(not on this machine, skipped: Python {', '.join(missing)})")
    for index, (version, python) in enumerate(found):
        # /v1/me once, on the newest interpreter: the closest to Lambda's 3.14.
        measure(version, python, args.runs, with_me=index == len(found) - 1)


if __name__ == "__main__":
    main()
