"""One request-body limit, whatever the framing (``Content-Length`` or chunked).

Werkzeug enforces ``MAX_CONTENT_LENGTH`` against ``Content-Length`` only. A chunked
request has none: depending on the server Werkzeug then either cuts the body at the
limit and hands the prefix on (a real server: JSON padded with whitespace past the limit
parsed as the prefix, and the rest was silently dropped) or reads no body at all
(serverless-wsgi and the test client, which set no ``wsgi.input_terminated``). Before
any handler runs, this reads a body of unknown length up to ``limit + 1`` bytes: one byte
more answers 413, otherwise the body is re-framed with its exact length, so every later
reader sees the whole body and nothing else.
"""

from __future__ import annotations

import io

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

_TOO_LARGE = "The request body is larger than {limit} bytes."


def _enforce_body_limit() -> None:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is None:
        return
    environ = request.environ
    length = request.content_length  # None when chunked (Werkzeug ignores it then)
    if length is not None:
        if length > limit:
            raise RequestEntityTooLarge(_TOO_LARGE.format(limit=limit))
        return
    if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return  # no body
    body = environ["wsgi.input"].read(limit + 1)  # the server has removed the chunk framing
    if len(body) > limit:
        raise RequestEntityTooLarge(_TOO_LARGE.format(limit=limit))
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["wsgi.input_terminated"] = True


def install_body_limit(app: Flask) -> None:
    """Refuse over-long bodies with 413 before any handler reads them."""
    app.before_request(_enforce_body_limit)
