"""Database access: the port, its two adapters and :func:`connect` to pick one.

Adapters are imported lazily: the Lambda asset ships without psycopg, and
local runs need no boto3 client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.db.errors import StatementTimeout, TransactionExpired
from service.db.params import ParameterError
from service.db.port import (
    Database,
    DatabaseError,
    Executor,
    IntegrityViolationError,
    Json,
    Params,
    Row,
    SqlValue,
    StatementTooLargeError,
    TransientDatabaseError,
)

if TYPE_CHECKING:
    from mypy_boto3_rds_data import RDSDataServiceClient

__all__ = [
    "Database",
    "DatabaseError",
    "Executor",
    "IntegrityViolationError",
    "Json",
    "ParameterError",
    "Params",
    "Row",
    "SqlValue",
    "StatementTimeout",
    "StatementTooLargeError",
    "TransactionExpired",
    "TransientDatabaseError",
    "connect",
]


def connect(
    *,
    database_url: str | None = None,
    cluster_arn: str | None = None,
    secret_arn: str | None = None,
    database_name: str | None = None,
    rds_data_client: RDSDataServiceClient | object | None = None,
) -> Database:
    """Return the adapter for the given coordinates. Nothing connects yet.

    Parameters
    ----------
    database_url:
        A libpq URL: use the psycopg adapter (local runs, tests).
    cluster_arn, secret_arn, database_name:
        Aurora cluster, its credentials secret and database: use the Data API adapter.
    rds_data_client:
        An ``rds-data`` boto3 client to use instead of creating one on first use
        (e.g. one pointed at :mod:`devtools.local_data_api`).

    Raises
    ------
    ValueError
        If neither a URL nor both ARNs are given, or both kinds are.
    """
    if database_url and (cluster_arn or secret_arn):
        raise ValueError("give either database_url or cluster_arn/secret_arn, not both")
    if database_url:
        from service.db.postgres import PostgresDatabase  # noqa: PLC0415 - needs psycopg

        return PostgresDatabase(database_url)
    if cluster_arn and secret_arn:
        from service.db.data_api import DataApiDatabase  # noqa: PLC0415 - lazy, as above

        return DataApiDatabase(
            cluster_arn=cluster_arn,
            secret_arn=secret_arn,
            database=database_name,
            client=rds_data_client,
        )
    raise ValueError("database_url, or both cluster_arn and secret_arn, are required")
