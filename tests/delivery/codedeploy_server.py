"""A local CodeDeploy endpoint for ``PutLifecycleEventHookExecutionStatus`` (moto lacks it).

It speaks the service's wire protocol (AWS JSON 1.1, ``X-Amz-Target:
CodeDeploy_20141006.<Operation>``), so tests drive the real boto3 client. Like
CodeDeploy, it accepts one final status per hook execution and answers a second one
with ``LifecycleEventAlreadyCompletedException``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
from botocore.config import Config

TARGET_PREFIX = "CodeDeploy_20141006."
STATUSES = frozenset({"Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Unknown"})


@dataclass
class HookStatusBackend:
    """Reported statuses by (deployment id, hook execution id); no HTTP here."""

    statuses: dict[tuple[str, str], str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, deployment_id: str, execution_id: str, status: str) -> None:
        if status not in STATUSES:
            raise _ApiError("InvalidLifecycleEventHookExecutionStatusException",
                            f"status {status!r} is not valid")
        with self.lock:
            key = (deployment_id, execution_id)
            if self.statuses.get(key) in {"Succeeded", "Failed"}:
                raise _ApiError("LifecycleEventAlreadyCompletedException",
                                f"lifecycle event {execution_id} is already completed")
            self.statuses[key] = status


class _ApiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Handler(BaseHTTPRequestHandler):
    backend: HookStatusBackend

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        operation = self.headers.get("X-Amz-Target", "").removeprefix(TARGET_PREFIX)
        try:
            if operation != "PutLifecycleEventHookExecutionStatus":
                raise _ApiError("UnknownOperationException", f"{operation} is not served here")
            execution_id = body["lifecycleEventHookExecutionId"]
            self.backend.put(body["deploymentId"], execution_id, body["status"])
            self._send(200, {"lifecycleEventHookExecutionId": execution_id})
        except _ApiError as error:
            self._send(400, {"__type": error.code, "message": error.message})

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class LocalCodeDeploy:
    """The endpoint on 127.0.0.1 (an ephemeral port) and its backend."""

    def __init__(self) -> None:
        self.backend = HookStatusBackend()
        handler = type("Handler", (_Handler,), {"backend": self.backend})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalCodeDeploy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def client(self) -> Any:
        """A real boto3 ``codedeploy`` client pointed here (dummy credentials)."""
        return boto3.client(
            "codedeploy",
            endpoint_url=self.endpoint_url,
            region_name="eu-west-2",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(retries={"total_max_attempts": 1}),
        )
