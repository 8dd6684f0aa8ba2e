"""The RDS Data API's own error shapes: an error code (``x-amzn-ErrorType``) and a message."""

from __future__ import annotations

from psycopg import Error as PostgresError
from psycopg import errors as pg_errors

# HTTP status of each error code (from botocore's rds-data service model).
STATUS = {
    "BadRequestException": 400,
    "DatabaseErrorException": 400,
    "StatementTimeoutException": 400,
    "DatabaseResumingException": 400,
    "ForbiddenException": 403,
    "NotFoundException": 404,
    "TransactionNotFoundException": 404,
    "InternalServerErrorException": 500,
    "ServiceUnavailableError": 503,
    "DatabaseUnavailableException": 504,
    "ThrottlingException": 400,
}
DEFAULT_MESSAGES = {
    "DatabaseResumingException": "The database is resuming after being auto-paused. "
    "Please wait a few seconds and try again.",
    "ThrottlingException": "Rate exceeded",
}


class DataApiError(Exception):
    """An error response of the Data API: ``code`` names the exception type."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        """The HTTP status the real service answers this code with."""
        return STATUS.get(self.code, 400)


def bad_request(message: str) -> DataApiError:
    """``BadRequestException``: the request is malformed or unsupported."""
    return DataApiError("BadRequestException", message)


def transaction_not_found(tx_id: str) -> DataApiError:
    """``TransactionNotFoundException``, as after a timeout or a commit."""
    return DataApiError("TransactionNotFoundException", f"Transaction {tx_id} is not found")


def database_error(exc: PostgresError) -> DataApiError:
    """The Data API error for a PostgreSQL error, with Aurora's message layout."""
    if isinstance(exc, pg_errors.QueryCanceled):
        return DataApiError("StatementTimeoutException", "The statement timed out")
    diag = exc.diag
    message = f"ERROR: {diag.message_primary or exc}"
    if diag.message_detail:
        message += f"\n  Detail: {diag.message_detail}"
    return DataApiError("DatabaseErrorException", message)
