"""Serve a :class:`SandboxBank` on 127.0.0.1 in a background thread (werkzeug's server)."""

from __future__ import annotations

import threading
from types import TracebackType

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from devtools.sandbox_bank.models import SandboxBank
from devtools.sandbox_bank.responses import SandboxBankApp
from devtools.sandbox_bank.webhooks import JWKS_PATH


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr (tests run thousands of calls)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class SandboxBankServer:
    """A running sandbox bank; use as a context manager or call :meth:`start`/:meth:`stop`.

    ``port=0`` picks a free port (parallel test workers never collide); the bound address is in
    :attr:`base_url`, which is also what the bank puts in its hosted-page links.
    """

    def __init__(self, bank: SandboxBank | None = None, *, port: int = 0) -> None:
        self.bank = bank or SandboxBank()
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` once started."""
        if self._server is None:
            raise RuntimeError("the sandbox bank is not running")
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def jku(self) -> str:
        """The URL of the bank's webhook key set (allow-list it locally only)."""
        return f"{self.base_url}{JWKS_PATH}"

    def start(self) -> SandboxBankServer:
        """Bind to 127.0.0.1 and serve in a daemon thread."""
        self._server = make_server(
            "127.0.0.1",
            self._port,
            SandboxBankApp(self.bank),
            threaded=True,
            request_handler=_QuietHandler,
        )
        self.bank.public_url = self.base_url
        self.bank.webhooks.signer.jku = self.jku
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # so stop() returns quickly
            name="sandbox-bank",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SandboxBankServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
