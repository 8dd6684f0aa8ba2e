"""AWS Lambda entry point: API Gateway v2 (payload 2.0) events through serverless-wsgi.

The Flask app is built once per container, on the first invocation, and reused. Module
import does nothing else, so importing this file never touches the network.
"""

# Imports inside functions are deliberate: they keep the Lambda cold start cheap.
# ruff: noqa: PLC0415

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

_app: Flask | None = None
_lock = threading.Lock()


def get_app() -> Flask:
    """The container's application, built from the environment on first use."""
    global _app  # noqa: PLW0603 (one app per Lambda container is the point)
    if _app is None:
        with _lock:
            if _app is None:
                from service.app import create_app

                _app = create_app()
    return _app


def use_app(app: Flask | None) -> None:
    """Replace the cached app (tests and benches inject one; ``None`` forgets it)."""
    global _app  # noqa: PLW0603
    _app = app


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Translate the API Gateway event into a WSGI request and back."""
    import serverless_wsgi

    response: dict[str, Any] = serverless_wsgi.handle_request(get_app(), event, context)
    return response
