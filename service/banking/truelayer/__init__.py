"""TrueLayer Data API v3: configuration, HTTP transport and the provider adapter."""

from __future__ import annotations

from service.banking.truelayer.adapter import TrueLayerProvider
from service.banking.truelayer.config import TrueLayerConfig
from service.banking.truelayer.http import CONNECTION_ID_HEADER, USER_IP_HEADER, TrueLayerHttp

__all__ = [
    "CONNECTION_ID_HEADER",
    "USER_IP_HEADER",
    "TrueLayerConfig",
    "TrueLayerHttp",
    "TrueLayerProvider",
]
