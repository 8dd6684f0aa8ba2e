"""A local RDS Data API server backed by PostgreSQL, for tests and local runs."""

from __future__ import annotations

from devtools.local_data_api.models import (
    DataApiBackend,
    DatabaseCredentials,
    secrets_manager_credentials,
    static_credentials,
)
from devtools.local_data_api.responses import RESPONSE_TOO_LARGE
from devtools.local_data_api.server import LocalDataApi

__all__ = [
    "RESPONSE_TOO_LARGE",
    "DataApiBackend",
    "DatabaseCredentials",
    "LocalDataApi",
    "secrets_manager_credentials",
    "static_credentials",
]
