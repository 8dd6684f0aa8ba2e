"""The HTTP side shared by the doubles: a 127.0.0.1 server that logs every request.

A wire layer subclasses :class:`WireProtocol` (routes a request to a JSON response or
a protocol error); :class:`ModelDouble` serves it on a free port in background threads
and keeps a :class:`RequestLog` so a test can assert on exactly what a provider would
have received.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from devtools.llm_doubles.script import ModelBehaviour


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as it arrived."""

    method: str
    path: str
    headers: Mapping[str, str]
    raw: bytes

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.raw)


class RequestLog:
    """Every request the double received, in order (thread-safe)."""

    def __init__(self) -> None:
        self._items: list[RecordedRequest] = []
        self._lock = threading.Lock()

    def append(self, item: RecordedRequest) -> None:
        """Record one request."""
        with self._lock:
            self._items.append(item)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the requests so far."""
        with self._lock:
            return list(self._items)

    def text(self) -> str:
        """Every request line, header and body, decoded: what to search for canaries.

        Bodies are also decoded from JSON and re-encoded without escapes, so a string
        JSON-escaped on the wire (``\\u00a3``, ``\\"``) is found as written.
        """
        parts: list[str] = []
        for item in self.requests:
            parts.append(f"{item.method} {item.path}")
            parts.extend(f"{name}: {value}" for name, value in item.headers.items())
            body = item.raw.decode("utf-8", errors="replace")
            parts.append(body)
            with suppress(ValueError):
                parts.append(json.dumps(json.loads(body), ensure_ascii=False))
        return "\n".join(parts)


class ProtocolError(Exception):
    """A request the real service would refuse: status, error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class WireResponse:
    """A response of the wire layer: status, JSON body and extra headers."""

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str]


class WireProtocol:
    """A provider's wire format over a model behaviour (subclasses fill it in)."""

    def __init__(self, model: ModelBehaviour) -> None:
        self.model = model
        self._faults: list[ProtocolError] = []
        self._faults_lock = threading.Lock()

    def fail_next(self, error: ProtocolError, *, count: int = 1) -> None:
        """Fault injection: answer the next ``count`` requests with ``error``."""
        with self._faults_lock:
            self._faults.extend([error] * count)

    def take_fault(self) -> ProtocolError | None:
        """The next injected fault, if any."""
        with self._faults_lock:
            return self._faults.pop(0) if self._faults else None

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], raw: bytes
    ) -> tuple[Mapping[str, Any], float]:
        """Answer one request: a JSON body and seconds to hold it, or :class:`ProtocolError`."""
        raise NotImplementedError

    def error_response(self, error: ProtocolError) -> WireResponse:
        """The provider's own error shape for ``error``."""
        raise NotImplementedError


class ModelDouble:
    """Serves a :class:`WireProtocol` on ``127.0.0.1`` and logs every request.

    Use as a context manager; ``url`` is ``http://127.0.0.1:port``.
    """

    def __init__(self, protocol: WireProtocol, *, port: int = 0) -> None:
        self.protocol = protocol
        self.log = RequestLog()
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        """The base URL of the running server."""
        if self._server is None:
            raise RuntimeError("the double is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Requests received so far."""
        return self.log.requests

    def start(self) -> str:
        """Start serving in a background thread; returns :attr:`url`."""
        handler = type("Handler", (_Handler,), {"double": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), handler)
        self._server.daemon_threads = True
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll
            name="llm-double",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Release held responses and stop serving."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def hold(self, seconds: float) -> None:
        """Wait ``seconds`` or until the server stops."""
        self._stopping.wait(seconds)

    def __enter__(self) -> ModelDouble:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    double: ModelDouble
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the access log."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name: value for name, value in self.headers.items()}
        self.double.log.append(RecordedRequest(self.command, self.path, headers, raw))
        protocol = self.double.protocol
        try:
            fault = protocol.take_fault()
            if fault is not None:
                raise fault
            body, delay = protocol.handle(self.command, self.path, headers, raw)
            if delay > 0:
                self.double.hold(delay)
            response = WireResponse(200, body, {})
        except ProtocolError as error:
            response = protocol.error_response(error)
        except Exception as error:  # a bug or an exhausted script still answers the client
            response = protocol.error_response(
                ProtocolError(500, "InternalServerException", f"double failed: {error}")
            )
        self._send(response)

    def _send(self, response: WireResponse) -> None:
        payload = json.dumps(response.body).encode()
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout); nothing to answer
