"""``GET /health``: public liveness check; makes no database call (cold-start cheap).

It answers plain JSON documented by a literal schema: a cold start that serves only
``/health`` (the load balancer's and the deploy's probe) loads no pydantic model.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from service.http.endpoint import endpoint

bp = Blueprint("health", __name__)

HEALTH_SCHEMA: dict[str, Any] = {
    "title": "HealthOut",
    "description": "The service is up and able to answer.",
    "type": "object",
    "properties": {"status": {"const": "ok", "title": "Status", "type": "string"}},
    "required": ["status"],
    "additionalProperties": False,
}


@endpoint(bp, "GET", "/health", response_schema=HEALTH_SCHEMA, public=True,
          summary="Liveness check", tags=["platform"])
def health() -> dict[str, str]:
    """Answers ``ok`` without touching the database, so it stays cheap and always available."""
    return {"status": "ok"}
