"""Normalised provider errors: the only failures a sync or the API ever sees from a bank provider.

Every adapter maps its provider's wire errors onto these five kinds, so the workflow's retry
policy (which names these classes) and the API's messages never depend on one provider.
The class names are part of the workflow contract: Step Functions matches ``ErrorEquals`` on
the exception class name a worker raises, so renaming one is a breaking change.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar


class ProviderError(Exception):
    """Base class. ``kind`` is the stable machine name; ``detail`` is safe to log and show."""

    kind: ClassVar[str] = "provider_error"
    retryable: ClassVar[bool] = False

    def __init__(self, detail: str, *, trace_id: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.trace_id = trace_id


class ReauthRequiredError(ProviderError):
    """The consent expired, was revoked or needs the user again: ask them to reconnect."""

    kind = "reauth_required"


class RateLimitedError(ProviderError):
    """The provider (or the bank behind it) refuses more calls until ``retry_at`` (UTC)."""

    kind = "rate_limited"
    retryable = True

    def __init__(
        self, detail: str, *, retry_at: datetime | None, trace_id: str | None = None
    ) -> None:
        super().__init__(detail, trace_id=trace_id)
        self.retry_at = retry_at


class ProviderUnavailableError(ProviderError):
    """A transient failure: 5xx, timeout, connection error. Retrying later may succeed."""

    kind = "provider_unavailable"
    retryable = True


class UnsupportedError(ProviderError):
    """The bank or provider does not offer this feature; retrying cannot help."""

    kind = "unsupported"


class ProviderRejectedError(ProviderError):
    """The provider refused the request as malformed or unknown (4xx): a bug or a stale id.

    Also raised when an answer does not match the documented wire format, so nothing is
    half-ingested from it.
    """

    kind = "provider_rejected"


class TransactionsNotReadyError(ProviderError):
    """An asynchronous transactions request is still being prepared; poll again later."""

    kind = "not_ready"
    retryable = True


__all__ = [
    "ProviderError",
    "ProviderRejectedError",
    "ProviderUnavailableError",
    "RateLimitedError",
    "ReauthRequiredError",
    "TransactionsNotReadyError",
    "UnsupportedError",
]
