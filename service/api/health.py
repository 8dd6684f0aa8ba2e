"""``GET /health``: public liveness check; makes no database call (cold-start cheap)."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint
from pydantic import BaseModel, ConfigDict

from service.http.endpoint import endpoint

bp = Blueprint("health", __name__)


class HealthOut(BaseModel):
    """The service is up and able to answer."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ok"]


@endpoint(bp, "GET", "/health", response=HealthOut, public=True, summary="Liveness check",
          tags=["platform"])
def health() -> HealthOut:
    """Answers ``ok`` without touching the database, so it stays cheap and always available."""
    return HealthOut(status="ok")
