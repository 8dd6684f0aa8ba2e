"""Post-deploy smoke test of a stage: health, the OpenAPI document, one authenticated call.

The pipeline runs it in CodeBuild right after a stage deploys (before the approval of
the next one); an operator can run it against any stage::

    python -m devtools.smoke --api-url https://dxxxx.cloudfront.net \\
        --user-pool-id eu-west-2_abc --client-id 1abc... --secret-id ffp-delivery/smoke-test-user

Values may also come from the environment (what the pipeline sets from the stack
outputs): ``API_URL``, ``USER_POOL_ID``, ``USER_POOL_CLIENT_ID``, ``SMOKE_USER_SECRET_ID``.
The smoke-test user's credentials are read from Secrets Manager (a JSON
``{"username": ..., "password": ...}``), never from arguments or the environment, and
used with Cognito's SRP flow (the only flow the platform's app client allows). Nothing
secret is printed. Exit code 0: every check passed; 1: a check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Check", "SmokeError", "authenticate", "main", "run_checks", "smoke_user"]

TIMEOUT_SECONDS = 15


class SmokeError(RuntimeError):
    """A smoke check failed; the message says which and why (never a secret)."""


@dataclass(frozen=True, slots=True)
class Check:
    """One passed check and what it saw."""

    name: str
    detail: str


def _get(url: str, headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=dict(headers or {}), method="GET")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def smoke_user(secrets_client: Any, secret_id: str) -> tuple[str, str]:
    """``(username, password)`` from the smoke-test user's secret."""
    raw = secrets_client.get_secret_value(SecretId=secret_id)["SecretString"]
    try:
        value = json.loads(raw)
        return str(value["username"]), str(value["password"])
    except (ValueError, KeyError, TypeError) as error:
        raise SmokeError(f"secret {secret_id} must hold JSON with 'username' and "
                         "'password'") from error


def authenticate(cognito_client: Any, *, user_pool_id: str, client_id: str,
                 username: str, password: str) -> str:
    """An access token for the user, through Cognito's SRP flow (pycognito)."""
    from pycognito.aws_srp import AWSSRP  # type: ignore[import-untyped]  # noqa: PLC0415

    srp = AWSSRP(username=username, password=password, pool_id=user_pool_id,
                 client_id=client_id, client=cognito_client)
    tokens = srp.authenticate_user()
    token = tokens.get("AuthenticationResult", {}).get("AccessToken")
    if not token:
        raise SmokeError(f"the smoke-test user got a challenge, not tokens: "
                         f"{tokens.get('ChallengeName', 'unknown')}")
    return str(token)


def run_checks(api_url: str, token: Callable[[], str], *,
               get: Callable[..., tuple[int, bytes]] = _get) -> list[Check]:
    """Run the three checks in order; raise :class:`SmokeError` on the first failure."""
    base = api_url.rstrip("/")
    checks: list[Check] = []
    status, body = get(f"{base}/health")
    if status != 200:
        raise SmokeError(f"GET /health answered {status}")
    checks.append(Check("health", body.decode(errors="replace")[:200]))

    status, body = get(f"{base}/openapi.json")
    try:
        document = json.loads(body) if status == 200 else {}
    except ValueError:
        document = {}
    if not (isinstance(document, dict) and "openapi" in document and document.get("paths")):
        raise SmokeError(f"GET /openapi.json answered {status} without an OpenAPI document")
    checks.append(Check("openapi", f"OpenAPI {document['openapi']}, "
                                   f"{len(document['paths'])} paths"))

    status, body = get(f"{base}/v1/me", {"Authorization": f"Bearer {token()}"})
    if status != 200:
        raise SmokeError(f"GET /v1/me as the smoke-test user answered {status}: "
                         f"{body.decode(errors='replace')[:300]}")
    checks.append(Check("authenticated", "GET /v1/me 200"))
    return checks


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m devtools.smoke",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--api-url", default=env.get("API_URL"))
    parser.add_argument("--user-pool-id", default=env.get("USER_POOL_ID"))
    parser.add_argument("--client-id", default=env.get("USER_POOL_CLIENT_ID"))
    parser.add_argument("--secret-id", default=env.get("SMOKE_USER_SECRET_ID"))
    args = parser.parse_args(argv)
    missing = [name for name in ("api_url", "user_pool_id", "client_id", "secret_id")
               if not getattr(args, name)]
    if missing:
        parser.error(f"missing: {', '.join(missing)}")
    return args


def main(argv: Sequence[str] | None = None, *, secrets_client: Any = None,
         cognito_client: Any = None) -> int:
    """Entry point; clients are injectable (default: boto3 in the user pool's region)."""
    args = _parse(argv)
    region = args.user_pool_id.split("_", 1)[0]
    if secrets_client is None or cognito_client is None:
        import boto3  # noqa: PLC0415

        secrets_client = secrets_client or boto3.client("secretsmanager")
        cognito_client = cognito_client or boto3.client("cognito-idp", region_name=region)

    def token() -> str:
        username, password = smoke_user(secrets_client, args.secret_id)
        return authenticate(cognito_client, user_pool_id=args.user_pool_id,
                            client_id=args.client_id, username=username, password=password)

    try:
        for check in run_checks(args.api_url, token):
            print(f"PASS {check.name}: {check.detail}")
    except SmokeError as error:
        print(f"FAIL {error}", file=sys.stderr)
        return 1
    print("Smoke test passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
