"""The interactive ``/docs`` of ``make dev``: Swagger UI from the ``swagger-ui-py`` wheel.

A WSGI middleware in front of the service's own app (which it leaves untouched): it answers
``GET /docs`` with a Swagger UI page over ``/openapi.json`` (request and response schemas, the
bearer-token field from the document's ``bearerAuth`` scheme, "Try it out") and
``GET /docs/assets/<file>`` with the UI's files from the installed wheel; every other request
goes to the service. Nothing is loaded from a CDN, and the page keeps a strict CSP: scripts
and styles only from this origin (no inline script; the initialiser is a file too), requests
only to this origin. The deployed stages never see this module (``devtools`` is not in the
Lambda asset) and keep the service's static page.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable, Iterable
from importlib import resources
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

ASSET_PREFIX = "/docs/assets/"
# The files the page uses; anything else under the prefix is 404 (no directory browsing).
ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
          "favicon-32x32.png", "favicon-16x16.png")
INIT_SCRIPT = "init.js"

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'none'")

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title} (local, interactive)</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/docs/assets/init.js"></script></body></html>"""

_INIT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle(%s);
});
"""


def _ui_config() -> str:
    config = {"url": "/openapi.json", "dom_id": "#swagger-ui", "deepLinking": True,
              "persistAuthorization": False, "tryItOutEnabled": True,
              "displayRequestDuration": True}
    # Plain JSON plus the two presets the bundle defines (names, not code from elsewhere).
    text = json.dumps(config)[:-1]
    return (text + ', "presets": [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],'
            ' "layout": "BaseLayout"}')


def _static_dir() -> Any:
    return resources.files("swagger_ui").joinpath("static")


class InteractiveDocs:
    """Serve Swagger UI at ``/docs`` in front of ``app``.

    Parameters
    ----------
    app
        The service's WSGI application.
    title
        Shown in the page title.
    """

    def __init__(self, app: WsgiApp, *, title: str = "Family Finance Platform API") -> None:
        self.app = app
        self._page = _PAGE.format(title=title.replace("<", "&lt;")).encode()
        self._init = (_INIT % _ui_config()).encode()
        static = _static_dir()
        self._assets = {name: static.joinpath(name).read_bytes() for name in ASSETS}

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if method in {"GET", "HEAD"} and path == "/docs":
            return self._answer(start_response, self._page, "text/html; charset=utf-8", method)
        if method in {"GET", "HEAD"} and path.startswith(ASSET_PREFIX):
            name = path.removeprefix(ASSET_PREFIX)
            if name == INIT_SCRIPT:
                return self._answer(start_response, self._init, "text/javascript", method)
            body = self._assets.get(name)
            if body is not None:
                kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
                if kind == "application/javascript":
                    kind = "text/javascript"
                return self._answer(start_response, body, kind, method)
        return self.app(environ, start_response)

    @staticmethod
    def _answer(start_response: Callable[..., Any], body: bytes, content_type: str,
                method: str) -> Iterable[bytes]:
        start_response("200 OK", [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Content-Security-Policy", CSP),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
            ("Cache-Control", "no-store"),
        ])
        return [] if method == "HEAD" else [body]
