"""Request-scoped accessors used by handlers and blueprints.

Everything here reads Flask's application/request context; nothing is global.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from flask import current_app, g, request

from service.errors import AuthenticationRequired

if TYPE_CHECKING:
    from service.bootstrap import Services
    from service.db.port import Database
    from service.domain.principal import Principal

SERVICES_KEY = "service.services"
_BEARER = "bearer"


def current_services() -> Services:
    """The dependency container that :func:`service.app.create_app` attached to the app."""
    services: Services = current_app.extensions[SERVICES_KEY]
    return services


def current_database() -> Database:
    """The application's :class:`~service.db.port.Database` (opened lazily on first use)."""
    return current_services().database


def current_request_id() -> str:
    """A per-request id: API Gateway's request id in Lambda, a fresh UUID otherwise."""
    request_id: str | None = g.get("request_id")
    if request_id is None:
        event = request.environ.get("serverless.event") or {}
        context = event.get("requestContext") or {}
        candidate = context.get("requestId")
        request_id = candidate if isinstance(candidate, str) and candidate else str(uuid.uuid4())
        g.request_id = request_id
    return request_id


def authenticate_request() -> Principal:
    """Verify the ``Authorization: Bearer`` token and remember the principal for the request.

    Raises
    ------
    AuthenticationRequired
        401 when the header is missing, malformed or the token does not verify.
    """
    principal: Principal | None = g.get("principal")
    if principal is not None:
        return principal
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise AuthenticationRequired("A bearer token is required.", error="invalid_request")
    if scheme.lower() != _BEARER or not token.strip():
        raise AuthenticationRequired(
            "The Authorization header must be 'Bearer <token>'.", error="invalid_request"
        )
    principal = current_services().verifier.verify(token.strip())
    g.principal = principal
    return principal


def current_principal() -> Principal:
    """The authenticated caller; 401 problem if the request carries no valid token."""
    principal: Principal | None = g.get("principal")
    if principal is None:
        return authenticate_request()
    return principal

