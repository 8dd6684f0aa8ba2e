"""``GET /openapi.json`` and ``GET /docs`` (a self-contained HTML page, no CDN, no script)."""

from __future__ import annotations

import secrets
from html import escape
from typing import Any

from flask import Blueprint, Response, current_app

from service.http.endpoint import endpoint
from service.openapi.document import build_openapi

bp = Blueprint("openapi", __name__)
_CACHE_KEY = "service.openapi"

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
.op{border:1px solid #e2e2e2;border-radius:6px;margin:.6rem 0;padding:.5rem .8rem}
.m{display:inline-block;min-width:4.2rem;font-weight:700;font-family:monospace}
.get{color:#0b6e4f}.post{color:#1d4ed8}.patch{color:#a16207}.delete{color:#b91c1c}.put{color:#6d28d9}
code{font-family:ui-monospace,monospace}.s{color:#555}.lock{color:#777;font-size:.85rem}
"""


def openapi_document() -> dict[str, Any]:
    """The app's OpenAPI document, built once per app."""
    cached: dict[str, Any] | None = current_app.extensions.get(_CACHE_KEY)
    if cached is None:
        cached = build_openapi(current_app)
        current_app.extensions[_CACHE_KEY] = cached
    return cached


@endpoint(bp, "GET", "/openapi.json", response=dict[str, Any], public=True,
          summary="OpenAPI 3.1 document", tags=["platform"])
def openapi_json() -> dict[str, Any]:
    """The machine-readable description of this API."""
    return openapi_document()


def _render_docs(document: dict[str, Any]) -> str:
    sections: dict[str, list[str]] = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            tag = (operation.get("tags") or ["other"])[0]
            lock = "" if operation.get("security") == [] else ' <span class="lock">bearer</span>'
            sections.setdefault(tag, []).append(
                f'<div class="op"><span class="m {escape(method)}">{escape(method.upper())}</span>'
                f" <code>{escape(path)}</code>{lock}<br>"
                f'<span class="s">{escape(operation.get("summary", ""))}</span></div>'
            )
    body = "".join(
        f"<h2>{escape(tag)}</h2>{''.join(items)}" for tag, items in sorted(sections.items())
    )
    info = document["info"]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(info['title'])}</title><style nonce=\"{{nonce}}\">{_STYLE}</style>"
        f"</head><body><h1>{escape(info['title'])} <small>{escape(info['version'])}</small></h1>"
        '<p>Machine-readable document: <a href="/openapi.json">/openapi.json</a>. '
        "Errors are RFC 9457 problem details.</p>"
        f"{body}</body></html>"
    )


@endpoint(bp, "GET", "/docs", public=True, summary="API documentation page", tags=["platform"])
def docs() -> Response:
    """A human-readable list of the operations (HTML)."""
    nonce = secrets.token_urlsafe(16)
    html = _render_docs(openapi_document()).replace("{nonce}", nonce, 1)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; frame-ancestors 'none'"
    )
    return response
