"""Structured JSON logs: one access line per request, no tokens, emails or amounts.

The stdlib ``logging`` with a small JSON formatter keeps cold starts cheap. The access
line names the route *rule* (``/v1/families/<fid>``), not the path, and the caller only
as a truncated hash of issuer and subject.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request

from service.http.context import current_request_id

ACCESS_LOGGER = "service.access"
_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line with the record's ``extra`` fields."""

    def __init__(self, service_name: str) -> None:
        super().__init__()
        self._service = service_name

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as JSON."""
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "service": self._service,
            "message": record.getMessage(),
        }
        entry.update(
            (key, value) for key, value in record.__dict__.items() if key not in _RESERVED
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` is at emit time (Lambda ships stdout to CloudWatch)."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(level: str, service_name: str) -> None:
    """Send the ``service`` loggers to stdout as JSON (idempotent)."""
    root = logging.getLogger("service")
    root.setLevel(level)
    for handler in root.handlers:
        if isinstance(handler, _StdoutHandler):
            handler.setFormatter(JsonFormatter(service_name))
            return
    handler = _StdoutHandler()
    handler.setFormatter(JsonFormatter(service_name))
    root.addHandler(handler)
    root.propagate = False


def principal_hash(issuer: str, subject: str) -> str:
    """A short, stable pseudonym of the caller for correlating log lines."""
    return hashlib.sha256(f"{issuer}#{subject}".encode()).hexdigest()[:16]


def _start_timer() -> None:
    g.started_at = time.perf_counter()
    current_request_id()


def _log_access(response: Response) -> Response:
    started = g.get("started_at")
    latency_ms = None if started is None else round((time.perf_counter() - started) * 1000, 2)
    principal = g.get("principal")
    rule = request.url_rule.rule if request.url_rule is not None else None
    logging.getLogger(ACCESS_LOGGER).info(
        "request",
        extra={
            "request_id": current_request_id(),
            "method": request.method,
            "route": rule,
            "status": response.status_code,
            "latency_ms": latency_ms,
            "principal": None
            if principal is None
            else principal_hash(principal.issuer, principal.subject),
        },
    )
    response.headers["X-Request-Id"] = current_request_id()
    return response


def install_request_logging(app: Flask) -> None:
    """Time every request and log one access line when it ends."""
    app.before_request(_start_timer)
    app.after_request(_log_access)
