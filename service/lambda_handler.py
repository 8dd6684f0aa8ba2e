"""AWS Lambda entry point: API Gateway v2 (payload 2.0) events through serverless-wsgi.

Init phase: when Lambda loads this module (``AWS_LAMBDA_INITIALIZATION_TYPE`` is set only
by the Lambda runtime) the app is built right away: settings read, URL map and hooks
registered. Each resource module is still imported on its first request (see
:mod:`service.http.lazy_routes`), so an on-demand cold start pays only for what it serves.
Anywhere else (tests, benches, tools) importing this module does nothing.

SnapStart (``snap-start``): the init phase is run once when a version is published and
the memory snapshot resumed for every cold start, so it preloads every route module into
the snapshot, and registers restore hooks: after a restore, ``random`` is reseeded (its
state was captured in the snapshot and would repeat in every environment) and cached
secrets are dropped so they are fetched fresh. Nothing secret is fetched before the
snapshot. ``os.urandom``/``secrets`` need nothing (the kernel pool is not in the snapshot).
"""

# Imports inside functions are deliberate: they keep the Lambda cold start cheap.
# ruff: noqa: PLC0415

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

INIT_TYPE_VARIABLE = "AWS_LAMBDA_INITIALIZATION_TYPE"
SNAP_START = "snap-start"

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


def preload(app: Flask) -> None:
    """Import every route's module now (for a snapshot that holds the whole app)."""
    from service.http.lazy_routes import LazyView

    for view in app.view_functions.values():
        if isinstance(view, LazyView):
            view.load()


def after_restore() -> None:
    """Refresh what a SnapStart snapshot must not share: randomness and cached secrets."""
    import random

    from service.http.context import SERVICES_KEY

    random.seed()  # from os.urandom: a fresh state per restored environment
    if _app is not None:
        _app.extensions[SERVICES_KEY].secrets.clear()


def init_phase(environ: dict[str, str] | os._Environ[str] | None = None) -> None:
    """What the Lambda init phase runs (a no-op outside Lambda's runtime)."""
    env = os.environ if environ is None else environ
    init_type = env.get(INIT_TYPE_VARIABLE)
    if not init_type:
        return
    app = get_app()
    if init_type == SNAP_START:
        # Shipped in Lambda's Python runtimes that support SnapStart.
        from snapshot_restore_py import register_after_restore

        preload(app)
        register_after_restore(after_restore)


init_phase()
