"""The wire layer: Data API JSON requests into backend calls, results into Data API JSON.

Mirrors the documented request/response shapes of ``ExecuteStatement``,
``BatchExecuteStatement``, ``BeginTransaction``, ``CommitTransaction`` and
``RollbackTransaction``; everything stateful lives in :mod:`.models`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any

from devtools.local_data_api.codec import (
    RequestError,
    bind_parameters,
    column_metadata,
    encode_field,
    json_record_value,
)
from devtools.local_data_api.exceptions import DataApiError, bad_request
from devtools.local_data_api.models import DataApiBackend, DatabaseCredentials, StatementResult
from service.db.sql import split_statements

RESPONSE_TOO_LARGE = "Database returned more than the allowed response size limit"
_CLUSTER_ARN = re.compile(r"^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:cluster:[A-Za-z0-9-]+$")
_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^\s]+$")

Credentials = DatabaseCredentials | None
Operation = Callable[[DataApiBackend, Mapping[str, Any], Credentials], dict[str, Any]]


def _sql(body: Mapping[str, Any]) -> str:
    sql = body.get("sql")
    if not isinstance(sql, str) or not sql.strip():
        raise bad_request("sql is required")
    return sql


def _identity(backend: DataApiBackend, body: Mapping[str, Any]) -> DatabaseCredentials | None:
    resource = body.get("resourceArn")
    secret = body.get("secretArn")
    if not isinstance(resource, str) or not _CLUSTER_ARN.match(resource):
        raise bad_request("Invalid resourceArn: not an Aurora cluster ARN")
    if not isinstance(secret, str) or not _SECRET_ARN.match(secret):
        raise bad_request("Invalid secretArn: not a Secrets Manager ARN")
    return backend.credentials_for(secret)


def _database(backend: DataApiBackend, body: Mapping[str, Any]) -> str:
    return str(body.get("database") or backend.default_database)


def _tx_id(body: Mapping[str, Any]) -> str | None:
    tx_id = body.get("transactionId")
    return str(tx_id) if tx_id else None


def begin_transaction(
    backend: DataApiBackend, body: Mapping[str, Any], credentials: Credentials
) -> dict[str, Any]:
    """``BeginTransaction``."""
    return {"transactionId": backend.begin(_database(backend, body), credentials)}


def _end(
    backend: DataApiBackend, body: Mapping[str, Any], credentials: Credentials, *, commit: bool
) -> None:
    tx_id = str(body.get("transactionId"))
    backend.end(tx_id, backend.transaction_database(tx_id), credentials, commit=commit)


def commit_transaction(
    backend: DataApiBackend, body: Mapping[str, Any], credentials: Credentials
) -> dict[str, Any]:
    """``CommitTransaction``."""
    _end(backend, body, credentials, commit=True)
    return {"transactionStatus": "Transaction Committed"}


def rollback_transaction(
    backend: DataApiBackend, body: Mapping[str, Any], credentials: Credentials
) -> dict[str, Any]:
    """``RollbackTransaction``."""
    _end(backend, body, credentials, commit=False)
    return {"transactionStatus": "Rollback Complete"}


def _records(result: StatementResult, body: Mapping[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {"numberOfRecordsUpdated": result.updated, "generatedFields": []}
    if result.columns is None:
        return response
    columns = result.columns
    if body.get("formatRecordsAs") == "JSON":
        records = [
            {name: json_record_value(tn, value)
             for (name, tn), value in zip(columns, row, strict=True)}
            for row in result.rows
        ]
        response["formattedRecords"] = json.dumps(records)
    else:
        response["records"] = [
            [encode_field(tn, value) for (_, tn), value in zip(columns, row, strict=True)]
            for row in result.rows
        ]
    if body.get("includeResultMetadata"):
        response["columnMetadata"] = [column_metadata(name, tn) for name, tn in columns]
    return response


def execute_statement(
    backend: DataApiBackend, body: Mapping[str, Any], credentials: Credentials
) -> dict[str, Any]:
    """``ExecuteStatement``: one statement, responses over the size limit refused."""
    sql = _sql(body)
    if len(split_statements(sql)) > 1:
        raise bad_request("Multistatement is not supported")
    query, values = bind_parameters(sql, body.get("parameters") or [])
    result = backend.execute(_database(backend, body), credentials, _tx_id(body), query, values)
    response = _records(result, body)
    size = len(json.dumps(response.get("records") or response.get("formattedRecords") or []))
    if size > backend.max_response_bytes:
        raise bad_request(RESPONSE_TOO_LARGE)
    return response


def batch_execute_statement(
    backend: DataApiBackend, body: Mapping[str, Any], credentials: Credentials
) -> dict[str, Any]:
    """``BatchExecuteStatement``: one statement per parameter set, atomically."""
    sql = _sql(body)
    sets = body.get("parameterSets") or [[]]
    bound = [bind_parameters(sql, params) for params in sets]
    count = backend.batch_execute(_database(backend, body), credentials, _tx_id(body), bound)
    return {"updateResults": [{"generatedFields": []} for _ in range(count)]}


OPERATIONS: dict[str, Operation] = {
    "/Execute": execute_statement,
    "/BatchExecute": batch_execute_statement,
    "/BeginTransaction": begin_transaction,
    "/CommitTransaction": commit_transaction,
    "/RollbackTransaction": rollback_transaction,
}


class DataApiRequestHandler(BaseHTTPRequestHandler):
    """HTTP handler: routes ``POST /<Operation>`` to :data:`OPERATIONS`."""

    backend: DataApiBackend
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, keep-alive clients
    # wait ~40 ms for the delayed ACK on every call.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request access log."""

    def do_POST(self) -> None:
        """Answer one Data API call."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        operation = OPERATIONS.get(self.path.split("?", 1)[0])
        try:
            if operation is None:
                raise bad_request(f"Unsupported operation {self.path}")
            try:
                body = json.loads(raw or b"{}")
            except ValueError as exc:
                raise bad_request("Request body is not JSON") from exc
            if not isinstance(body, dict):
                raise bad_request("Request body is not a JSON object")
            credentials = _identity(self.backend, body)
            injected = self.backend.take_injected()
            if injected is not None:
                raise injected
            self._send(200, operation(self.backend, body, credentials))
        except DataApiError as err:
            self._send(err.status, {"message": err.message}, error_code=err.code)
        except RequestError as err:
            self._send(400, {"message": str(err)}, error_code="BadRequestException")
        except Exception as exc:  # any bug must still answer the client
            self._send(
                500,
                {"message": f"internal error: {type(exc).__name__}"},
                error_code="InternalServerErrorException",
            )

    def _send(self, status: int, body: Mapping[str, Any], *, error_code: str | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if error_code is not None:
            self.send_header("x-amzn-ErrorType", error_code)
        self.end_headers()
        self.wfile.write(payload)
