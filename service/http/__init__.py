"""The HTTP mechanism shared by every blueprint: ``@endpoint`` and request-context helpers."""

from __future__ import annotations

from service.http.context import (
    current_database,
    current_principal,
    current_request_id,
    current_services,
)
from service.http.endpoint import EndpointSpec, endpoint

__all__ = [
    "EndpointSpec",
    "current_database",
    "current_principal",
    "current_request_id",
    "current_services",
    "endpoint",
]
