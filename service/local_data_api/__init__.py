"""A local RDS Data API server backed by PostgreSQL, for tests and local runs."""

from __future__ import annotations

from service.local_data_api.server import RESPONSE_TOO_LARGE, LocalDataApi

__all__ = ["RESPONSE_TOO_LARGE", "LocalDataApi"]
