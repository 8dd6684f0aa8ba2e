"""The ledger team's API: one function answering ``GET /ping`` and ``GET /balance``."""

from __future__ import annotations

import json
from typing import Any


def handler(event: dict[str, Any], _context: object) -> dict[str, Any]:
    """API Gateway v2 (payload 2.0) handler."""
    route = event.get("routeKey", "")
    if route == "GET /ping":
        return _json(200, {"status": "ok"})
    claims = event.get("requestContext", {}).get("authorizer", {}).get("jwt", {}).get("claims")
    if not claims:
        return _json(401, {"title": "Unauthorized"})
    return _json(200, {"owner": claims.get("sub"), "balance_minor_units": 0})


def _json(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"},
            "body": json.dumps(body)}
