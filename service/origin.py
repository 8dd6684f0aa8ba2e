"""Reject requests that did not come through CloudFront.

CloudFront adds ``X-Origin-Verify`` with a value kept in Secrets Manager. When
``ORIGIN_VERIFY_SECRET_ARN`` is configured, every request (health included) must carry
it. The secret is either the bare value or JSON ``{"current": ..., "previous": ...}`` so a
rotation can accept both values while CloudFront's configuration catches up.
"""

from __future__ import annotations

import hmac
import json

from flask import Flask, Response, request

from service.errors import problem
from service.http.context import current_services

HEADER = "X-Origin-Verify"


def accepted_values(secret: str) -> list[str]:
    """The header values the secret allows (current first, then previous)."""
    try:
        parsed = json.loads(secret)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        values = [parsed.get("current"), parsed.get("previous")]
        return [v for v in values if isinstance(v, str) and v]
    return [secret] if secret else []


def origin_is_verified(presented: str | None, secret: str) -> bool:
    """Constant-time comparison of the presented header against every accepted value."""
    if not presented:
        return False
    given = presented.encode()
    matches = [hmac.compare_digest(given, value.encode()) for value in accepted_values(secret)]
    return any(matches)


def _verify_origin() -> Response | None:
    services = current_services()
    secret_arn = services.settings.origin_verify_secret_arn
    if secret_arn is None:
        return None
    secret = services.secrets.get_secret(secret_arn)
    if origin_is_verified(request.headers.get(HEADER), secret):
        return None
    return problem(403, "Requests must come through the service's CloudFront distribution.")


def install_origin_verification(app: Flask) -> None:
    """Check the origin header before any other request processing."""
    app.before_request(_verify_origin)
