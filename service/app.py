"""The Flask application factory: a list of small, named steps."""

# Imports inside functions are deliberate: they keep the Lambda cold start cheap.
# ruff: noqa: PLC0415

from __future__ import annotations

from flask import Flask, Response

from service.bootstrap import Services
from service.settings import Settings

_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Flask:
    """Build the API application.

    Parameters
    ----------
    settings
        Configuration; read from the environment when omitted.
    services
        Pre-built dependencies (tests inject clients or a JWKS); built from settings otherwise.

    Returns
    -------
    Flask
        The application, with every blueprint, error handler and CLI command registered.
    """
    if services is None:
        settings = settings or Settings.from_env()
        settings.check()
        services = Services(settings)
    settings = services.settings
    app = _new_flask_app(settings)
    _configure_logging(settings)
    _attach_services(app, services)
    _register_error_handlers(app)
    _install_request_hooks(app)
    _register_routes(app)
    _register_cli(app)
    return app


def _new_flask_app(settings: Settings) -> Flask:
    app = Flask("service", static_folder=None)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_content_length,
        JSON_SORT_KEYS=False,
        PROPAGATE_EXCEPTIONS=False,
        TRAP_HTTP_EXCEPTIONS=False,
    )
    app.url_map.strict_slashes = True
    return app


def _configure_logging(settings: Settings) -> None:
    from service.logging import configure_logging

    configure_logging(settings.log_level, settings.service_name)


def _attach_services(app: Flask, services: Services) -> None:
    from service.http.context import SERVICES_KEY

    app.extensions[SERVICES_KEY] = services


def _register_error_handlers(app: Flask) -> None:
    from service.errors import register_error_handlers

    register_error_handlers(app)


def _add_security_headers(response: Response) -> Response:
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _install_request_hooks(app: Flask) -> None:
    from service.http.body_limit import install_body_limit
    from service.logging import install_request_logging
    from service.origin import install_origin_verification

    install_request_logging(app)
    install_origin_verification(app)
    install_body_limit(app)
    app.after_request(_add_security_headers)


def _register_routes(app: Flask) -> None:
    # Every route now; each resource module (models, use cases) on its first request.
    from service.api.routes import ROUTES
    from service.http.lazy_routes import register_lazy_routes

    register_lazy_routes(app, ROUTES)


def _register_cli(app: Flask) -> None:
    from service.cli import register_cli

    register_cli(app)
