"""OpenAPI 3.1 document generated from the registered ``@endpoint`` specs, and a docs page."""

from __future__ import annotations

from service.openapi.document import build_openapi
from service.openapi.routes import bp

__all__ = ["bp", "build_openapi"]
