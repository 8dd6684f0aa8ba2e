"""What blueprints take from the request context, typed for the use cases."""

from __future__ import annotations

from typing import cast

from service.crypto import DataKeyProvider
from service.http import current_key_provider


def key_provider() -> DataKeyProvider:
    """The application's data key provider (KMS in Lambda, local master key otherwise)."""
    return cast(DataKeyProvider, current_key_provider())
