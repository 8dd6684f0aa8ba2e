"""Data API specifics: wire encoding, limits of the local server, retries and timeouts.

Everything goes through boto3's real ``rds-data`` client and the local Data API;
failures are produced by the server (its documented limits or its test hook),
never by mocking the adapter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest
from botocore.exceptions import ClientError
from mypy_boto3_rds_data import RDSDataServiceClient

from devtools.local_data_api import RESPONSE_TOO_LARGE, LocalDataApi
from service.db import (
    StatementTimeout,
    TransactionExpired,
    TransientDatabaseError,
    connect,
)
from service.db.data_api import DataApiDatabase, RetryPolicy, encode_parameter
from service.db.port import Json
from tests.fixtures.postgres import (
    TEST_CLUSTER_ARN,
    TEST_SECRET_ARN,
    database_name,
    make_data_api_database,
    rds_data_client,
)


class RecordingSleep:
    """Collects the backoff delays instead of sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def private_server(pg_admin_url: str) -> Iterator[LocalDataApi]:
    """A server of this test's own, with short limits, so hooks cannot leak to other tests."""
    server = LocalDataApi(
        postgres_url=pg_admin_url, transaction_idle_timeout=0.6, statement_timeout=1.0
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def private_client(private_server: LocalDataApi) -> RDSDataServiceClient:
    return rds_data_client(private_server.endpoint_url)


def _db(
    client: RDSDataServiceClient, postgres_url: str, sleep: RecordingSleep | None = None
) -> DataApiDatabase:
    retry = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.02, sleep=sleep or time.sleep)
    return make_data_api_database(client, database_name(postgres_url), retry=retry)


def test_parameters_are_encoded_with_type_hints() -> None:
    assert encode_parameter("d", Decimal("1E+3")) == {
        "name": "d",
        "value": {"stringValue": "1000"},
        "typeHint": "DECIMAL",
    }
    ts = datetime(2024, 3, 31, 2, 30, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    assert encode_parameter("t", ts) == {
        "name": "t",
        "value": {"stringValue": "2024-03-31 00:30:00.000005"},
        "typeHint": "TIMESTAMP",
    }
    assert encode_parameter("u", UUID(int=1))["typeHint"] == "UUID"
    assert encode_parameter("j", Json({"a": "é"}))["value"] == {"stringValue": '{"a":"é"}'}
    assert encode_parameter("n", None)["value"] == {"isNull": True}
    assert encode_parameter("b", b"\x00")["value"] == {"blobValue": b"\x00"}
    assert encode_parameter("x", True)["value"] == {"booleanValue": True}


def test_connect_picks_the_adapter_without_connecting() -> None:
    db = connect(cluster_arn=TEST_CLUSTER_ARN, secret_arn=TEST_SECRET_ARN, database_name="app")
    assert isinstance(db, DataApiDatabase)
    assert db._client is None  # no boto3 client until the first statement
    with pytest.raises(ValueError, match="required"):
        connect()
    with pytest.raises(ValueError, match="not both"):
        connect(database_url="postgresql:///x", cluster_arn=TEST_CLUSTER_ARN)


def test_idle_transaction_times_out_with_a_clear_error(
    private_server: LocalDataApi, private_client: RDSDataServiceClient, postgres_url: str
) -> None:
    db = _db(private_client, postgres_url)
    db.execute("CREATE TABLE t (id int)")
    with pytest.raises(TransactionExpired, match="timed out"), db.transaction() as tx:
        tx.execute("INSERT INTO t VALUES (1)")
        time.sleep(1.5)  # past the server's 0.6 s idle timeout: the reaper rolls it back
        tx.execute("INSERT INTO t VALUES (2)")
    assert db.fetch_all("SELECT id FROM t") == []


def test_expired_transaction_released_its_locks(
    private_server: LocalDataApi, private_client: RDSDataServiceClient, postgres_url: str
) -> None:
    db = _db(private_client, postgres_url)
    db.execute("CREATE TABLE t (id int PRIMARY KEY)")
    db.execute("INSERT INTO t VALUES (1)")
    abandoned = private_client.begin_transaction(
        resourceArn=TEST_CLUSTER_ARN,
        secretArn=TEST_SECRET_ARN,
        database=database_name(postgres_url),
    )["transactionId"]
    private_client.execute_statement(
        resourceArn=TEST_CLUSTER_ARN,
        secretArn=TEST_SECRET_ARN,
        database=database_name(postgres_url),
        sql="UPDATE t SET id = 2 WHERE id = 1",
        transactionId=abandoned,
    )
    # The row lock goes when the idle transaction is reaped; the update then succeeds.
    assert db.execute("UPDATE t SET id = 3 WHERE id = 1") == 1
    with pytest.raises(ClientError) as caught:
        private_client.commit_transaction(
            resourceArn=TEST_CLUSTER_ARN, secretArn=TEST_SECRET_ARN, transactionId=abandoned
        )
    assert caught.value.response["Error"]["Code"] == "TransactionNotFoundException"


def test_resuming_database_is_retried_with_backoff(
    private_server: LocalDataApi, private_client: RDSDataServiceClient, postgres_url: str
) -> None:
    sleep = RecordingSleep()
    db = _db(private_client, postgres_url, sleep)
    private_server.inject_error("DatabaseResumingException", count=2)
    assert db.fetch_one("SELECT 1 AS one") == {"one": 1}
    assert len(sleep.delays) == 2
    assert all(0 <= d <= 0.02 for d in sleep.delays)


def test_writes_and_transactions_retry_errors_that_mean_not_run(
    private_server: LocalDataApi, private_client: RDSDataServiceClient, postgres_url: str
) -> None:
    db = _db(private_client, postgres_url, RecordingSleep())
    db.execute("CREATE TABLE t (id int)")
    private_server.inject_error("ThrottlingException")
    assert db.execute("INSERT INTO t VALUES (1)") == 1
    private_server.inject_error("DatabaseResumingException")
    with db.transaction() as tx:
        private_server.inject_error("ServiceUnavailableError")
        tx.execute("INSERT INTO t VALUES (2)")
    assert db.fetch_all("SELECT id FROM t ORDER BY id") == [{"id": 1}, {"id": 2}]


def test_retries_give_up_after_max_attempts(
    private_server: LocalDataApi, private_client: RDSDataServiceClient, postgres_url: str
) -> None:
    sleep = RecordingSleep()
    db = _db(private_client, postgres_url, sleep)
    private_server.inject_error("DatabaseResumingException", count=10)
    with pytest.raises(TransientDatabaseError, match="DatabaseResumingException"):
        db.fetch_one("SELECT 1")
    assert len(sleep.delays) == 3  # 4 attempts


def test_statement_timeout_is_retried_for_reads_only(
    private_server: LocalDataApi, private_client: RDSDataServiceClient, postgres_url: str
) -> None:
    db = _db(private_client, postgres_url, RecordingSleep())
    private_server.inject_error("StatementTimeoutException")
    assert db.fetch_one("SELECT 1 AS one") == {"one": 1}

    db.execute("CREATE TABLE t (id int)")
    private_server.inject_error("StatementTimeoutException")
    with pytest.raises(StatementTimeout):
        db.execute("INSERT INTO t VALUES (1)")  # may have run: never repeated
    assert db.fetch_all("SELECT id FROM t") == []


def test_long_statements_are_cancelled_by_the_server(
    private_server: LocalDataApi, private_client: RDSDataServiceClient, postgres_url: str
) -> None:
    db = _db(private_client, postgres_url, RecordingSleep())
    with pytest.raises(StatementTimeout):
        db.execute("SELECT pg_sleep(3)")


def test_server_speaks_the_wire_protocol(
    local_rds_data_client: RDSDataServiceClient, postgres_url: str
) -> None:
    client = local_rds_data_client
    target = {
        "resourceArn": TEST_CLUSTER_ARN,
        "secretArn": TEST_SECRET_ARN,
        "database": database_name(postgres_url),
    }
    response = client.execute_statement(
        **target,
        sql="SELECT :n::int AS n, :ts AS ts, now() AS now, NULL::text AS missing",
        parameters=[
            {"name": "n", "value": {"longValue": 7}},
            {
                "name": "ts",
                "value": {"stringValue": "2024-01-02 03:04:05"},
                "typeHint": "TIMESTAMP",
            },
        ],
        includeResultMetadata=True,
    )
    assert [c["typeName"] for c in response["columnMetadata"]] == [
        "int4",
        "timestamp",
        "timestamptz",
        "text",
    ]
    record = response["records"][0]
    assert record[0] == {"longValue": 7}
    assert record[1] == {"stringValue": "2024-01-02 03:04:05"}
    assert "+" not in record[2]["stringValue"]  # timestamptz in UTC, without an offset
    assert record[3] == {"isNull": True}

    formatted = client.execute_statement(
        **target, sql="SELECT 1 AS a, 'x' AS b", formatRecordsAs="JSON"
    )
    assert formatted["formattedRecords"] == '[{"a": 1, "b": "x"}]'


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"resourceArn": "my-aurora-cluster-1"}, "BadRequestException"),
        ({"secretArn": "arn:aws:s3:::bucket"}, "BadRequestException"),
        ({"sql": "SELECT 1; SELECT 2"}, "BadRequestException"),
        ({"sql": "SELECT :missing"}, "BadRequestException"),
        ({"sql": "SELECT * FROM no_such_table"}, "DatabaseErrorException"),
        ({"transactionId": "bm90LWEtdHJhbnNhY3Rpb24="}, "TransactionNotFoundException"),
        ({"sql": "SELECT repeat('x', 2000000)"}, "BadRequestException"),
    ],
)
def test_server_rejects_what_aws_rejects(
    local_rds_data_client: RDSDataServiceClient,
    postgres_url: str,
    overrides: dict[str, str],
    code: str,
) -> None:
    request = {
        "resourceArn": TEST_CLUSTER_ARN,
        "secretArn": TEST_SECRET_ARN,
        "database": database_name(postgres_url),
        "sql": "SELECT 1",
        **overrides,
    }
    with pytest.raises(ClientError) as caught:
        local_rds_data_client.execute_statement(**request)  # type: ignore[arg-type]
    assert caught.value.response["Error"]["Code"] == code
    if "2000000" in request["sql"]:
        assert RESPONSE_TOO_LARGE in caught.value.response["Error"]["Message"]


def test_only_listed_secrets_are_accepted(pg_admin_url: str) -> None:
    with LocalDataApi(postgres_url=pg_admin_url, secret_arns=[TEST_SECRET_ARN]) as endpoint:
        client = rds_data_client(endpoint)
        ok = client.execute_statement(
            resourceArn=TEST_CLUSTER_ARN, secretArn=TEST_SECRET_ARN, sql="SELECT 1"
        )
        assert ok["records"] == [[{"longValue": 1}]]
        with pytest.raises(ClientError) as caught:
            client.execute_statement(
                resourceArn=TEST_CLUSTER_ARN, secretArn=TEST_SECRET_ARN + "x", sql="SELECT 1"
            )
        assert caught.value.response["Error"]["Code"] == "ForbiddenException"


def test_adapter_is_thread_safe(data_api_db: DataApiDatabase) -> None:
    data_api_db.execute("CREATE TABLE hits (n int)")
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            with data_api_db.transaction() as tx:
                tx.execute("INSERT INTO hits VALUES (:n)", {"n": n})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert data_api_db.fetch_one("SELECT count(*) AS n, sum(n) AS s FROM hits") == {"n": 8, "s": 28}


def test_timestamps_from_the_server_decode_as_aware_utc(data_api_db: DataApiDatabase) -> None:
    row = data_api_db.fetch_one("SELECT timestamptz '2024-06-01 12:00:00.5+02' AS t")
    assert row == {"t": datetime(2024, 6, 1, 10, 0, 0, 500000, tzinfo=UTC)}
