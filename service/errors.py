"""RFC 9457 problem details for every error the service answers.

One place maps exceptions to statuses:

* domain errors (:mod:`service.domain.errors`) -> 404 / 403 / 409 / 422;
* request validation (:class:`RequestValidationError`) -> 422 with an ``errors`` list;
* Werkzeug HTTP errors (404, 405, 413, 415, 400, 401 ...) keep their status;
* anything else -> 500 with a generic detail (the exception is logged, never returned).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException, Unauthorized
from werkzeug.http import HTTP_STATUS_CODES

from service.domain.errors import (
    ConflictError,
    DomainError,
    FeatureUnavailableError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    UpstreamUnavailableError,
    ValidationFailedError,
)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://problems.family-finance.example/"

_log = logging.getLogger("service.errors")

_DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (NotFoundError, 404),
    (PermissionDeniedError, 403),
    (ConflictError, 409),
    (ValidationFailedError, 422),
    (QuotaExceededError, 429),
    (FeatureUnavailableError, 503),
    (InvalidRequestError, 400),
    (UpstreamUnavailableError, 503),
)


class ErrorItem(TypedDict):
    """One entry of a problem's ``errors`` list: where and what."""

    loc: list[str | int]
    msg: str


class RequestValidationError(Exception):
    """The request's path, query or body failed validation (answered with 422)."""

    def __init__(self, detail: str, errors: Sequence[ErrorItem]) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)


class AuthenticationRequired(Unauthorized):
    """401 with ``WWW-Authenticate: Bearer`` (RFC 6750)."""

    def __init__(self, description: str, *, error: str = "invalid_token") -> None:
        super().__init__(description=description)
        self.bearer_error = error

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        """Advertise the bearer scheme and the RFC 6750 error code."""
        return [("WWW-Authenticate", f'Bearer realm="api", error="{self.bearer_error}"')]


def problem_type(slug: str) -> str:
    """The ``type`` URI of one of our problem kinds."""
    return f"{PROBLEM_TYPE_BASE}{slug}"


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type_: str = "about:blank",
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> Response:
    """Build an ``application/problem+json`` response.

    Parameters
    ----------
    status
        HTTP status code.
    detail
        Human-readable explanation, safe to show to the caller.
    title
        Short summary; defaults to the HTTP reason phrase.
    type_
        Problem type URI; ``about:blank`` means "just the HTTP status".
    headers
        Extra response headers (``Allow``, ``WWW-Authenticate`` ...).
    **extensions
        Extension members such as ``errors``.
    """
    body: dict[str, Any] = {
        "type": type_,
        "title": title or HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    body.update(extensions)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _domain_status(error: DomainError) -> int:
    for kind, status in _DOMAIN_STATUS:
        if isinstance(error, kind):
            return status
    return 400


def handle_domain_error(error: DomainError) -> Response:
    """Map a use case's error to its status; its ``detail`` is caller-safe by contract."""
    return problem(_domain_status(error), error.detail)


def handle_validation_error(error: RequestValidationError) -> Response:
    """422 with one ``{loc, msg}`` per failed field."""
    return problem(
        422,
        error.detail,
        type_=problem_type("validation-error"),
        title="Request validation failed",
        errors=error.errors,
    )


def handle_http_exception(error: HTTPException) -> Response:
    """Any Werkzeug HTTP error, keeping its status and headers (e.g. ``Allow`` on 405)."""
    status = error.code or 500
    if status >= 500:
        return handle_unexpected(error)
    headers = {
        name: value
        for name, value in error.get_headers()
        if name.lower() not in {"content-type", "content-length"}
    }
    detail = error.description or HTTP_STATUS_CODES.get(status, "Error")
    return problem(status, detail, headers=headers)


def handle_unexpected(error: Exception) -> Response:
    """500 that never leaks internals: the traceback goes to the log only."""
    _log.error("unhandled error", exc_info=error)
    return problem(500, "The server could not complete the request.")


def register_error_handlers(app: Flask) -> None:
    """Install the handlers above so every error leaves as problem details."""
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(RequestValidationError, handle_validation_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
