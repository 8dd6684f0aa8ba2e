"""Errors raised by use cases; the HTTP layer maps each to one status code in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: ``detail`` is safe to show to the caller."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(DomainError):
    """The target does not exist *or is outside the caller's scope* (no existence leak): 404."""


class PermissionDeniedError(DomainError):
    """The caller can see the target but their role may not do this: 403."""


class ConflictError(DomainError):
    """The request conflicts with current state (duplicate, already accepted, ...): 409."""


class ValidationFailedError(DomainError):
    """The request is well-formed but violates a business rule: 422."""


class QuotaExceededError(DomainError):
    """The caller used up an allowance (e.g. the daily chat messages): 429."""


class FeatureUnavailableError(DomainError):
    """The feature is not configured on this server; ``detail`` says how to turn it on: 503."""


class InvalidRequestError(DomainError):
    """The request cannot be honoured as sent (a forged, stale or replayed state): 400."""


class UpstreamUnavailableError(DomainError):
    """A provider the request depends on is unavailable or refused for now: 503."""
