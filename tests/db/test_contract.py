"""The port's contract, run against both adapters on fresh, migrated databases.

``database`` is parametrised: ``postgres`` (psycopg) and ``data_api`` (boto3's real
``rds-data`` client against the local Data API server on the same PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.db import (
    Database,
    DatabaseError,
    IntegrityViolationError,
    Json,
    ParameterError,
    StatementTooLargeError,
)

_fixture_settings = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

TABLE = """
CREATE TABLE samples (
    id bigint PRIMARY KEY,
    b boolean, i bigint, f double precision, t text, by bytea,
    d numeric, ts timestamptz, dt date, u uuid, j jsonb
)
"""

SAMPLE: dict[str, Any] = {
    "b": True,
    "i": -(2**62),
    "f": 1.5e-300,
    "t": "héllo, 世界 🚀 'quoted' \"dq\" \\ %s :not_a_param",
    "by": bytes(range(256)),
    "d": Decimal("-12345678901234567890.123456789012"),
    "ts": datetime(
        2024, 2, 29, 23, 59, 58, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))
    ),
    "dt": date(2024, 2, 29),
    "u": UUID("12345678-1234-5678-1234-567812345678"),
    "j": Json({"nested": {"list": [1, 2.5, None, True, "x"], "empty": {}}, "n": None}),
}
COLUMNS = list(SAMPLE)
INSERT = (
    f"INSERT INTO samples (id, {', '.join(COLUMNS)}) "
    f"VALUES (:id, {', '.join(':' + c for c in COLUMNS)})"
)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Json) else value


def test_every_port_type_round_trips(database: Database) -> None:
    database.execute(TABLE)
    assert database.execute(INSERT, {"id": 1, **SAMPLE}) == 1
    row = database.fetch_one("SELECT * FROM samples WHERE id = :id", {"id": 1})
    assert row is not None
    for column, value in SAMPLE.items():
        assert row[column] == _plain(value), column
        assert type(row[column]) is type(_plain(value)), column
    assert row["ts"].utcoffset() == timedelta(0)  # aware, normalised to UTC
    assert row["d"].as_tuple().exponent == -12  # scale preserved


def test_nulls_of_every_type_round_trip(database: Database) -> None:
    database.execute(TABLE)
    database.execute(INSERT, {"id": 2, **dict.fromkeys(COLUMNS)})
    row = database.fetch_one("SELECT * FROM samples WHERE id = 2")
    assert row == {"id": 2, **dict.fromkeys(COLUMNS)}


def test_expressions_keep_their_types(database: Database) -> None:
    row = database.fetch_one(
        "SELECT :d::numeric * 2 AS d2, :ts + interval '1 day' AS tomorrow,"
        " CAST(:ts AS timestamptz) AS aware, :n::int + 1 AS n1,"
        " '50%' AS pct, ARRAY[1, 2, 3] AS arr, :j -> 'a' AS a",
        {
            "d": Decimal("0.10"),
            "ts": datetime(2024, 1, 1, tzinfo=UTC),
            "n": 41,
            "j": Json({"a": [1]}),
        },
    )
    assert row == {
        "d2": Decimal("0.20"),
        # A datetime parameter is a UTC `timestamp` (the Data API's TIMESTAMP hint).
        "tomorrow": datetime(2024, 1, 2),
        "aware": datetime(2024, 1, 1, tzinfo=UTC),
        "n1": 42,
        "pct": "50%",
        "arr": [1, 2, 3],
        "a": [1],
    }


@_fixture_settings
@given(
    value=st.decimals(allow_nan=False, allow_infinity=False, places=6)
    | st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**30), max_value=10**30)
)
def test_decimals_round_trip_exactly(database: Database, value: Decimal) -> None:
    row = database.fetch_one("SELECT :v AS v", {"v": value})
    assert row is not None
    assert row["v"] == value
    assert isinstance(row["v"], Decimal)


@_fixture_settings
@given(
    value=st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))
)
def test_text_round_trips_exactly(database: Database, value: str) -> None:
    assert database.fetch_one("SELECT :v AS v", {"v": value}) == {"v": value}


@_fixture_settings
@given(
    value=st.datetimes(
        min_value=datetime(1900, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.timezones()
    )
)
def test_aware_datetimes_round_trip_to_the_microsecond(database: Database, value: datetime) -> None:
    row = database.fetch_one("SELECT :v::timestamptz AS v", {"v": value})
    assert row is not None
    # Compared in UTC: Python never equates instants across zones during a DST gap/fold.
    assert row["v"] == value.astimezone(UTC)
    assert row["v"].tzinfo is not None


def test_naive_datetimes_and_unsupported_types_are_refused(database: Database) -> None:
    with pytest.raises(ParameterError, match="naive"):
        database.fetch_one("SELECT :v AS v", {"v": datetime(2024, 1, 1)})
    with pytest.raises(ParameterError, match="unsupported type"):
        database.fetch_one("SELECT :v AS v", {"v": [1, 2]})  # type: ignore[dict-item]
    with pytest.raises(ParameterError, match=":missing"):
        database.fetch_one("SELECT :missing AS v", {})


def test_text_parameters_are_typed_text_as_in_aurora(database: Database) -> None:
    """Aurora types an unhinted string as varchar, so a uuid column needs a UUID value."""
    database.execute("CREATE TABLE ids (id uuid PRIMARY KEY)")
    with pytest.raises(DatabaseError, match="uuid"):
        database.execute("INSERT INTO ids VALUES (:id)", {"id": str(uuid4())})
    assert database.execute("INSERT INTO ids VALUES (:id)", {"id": uuid4()}) == 1
    assert database.execute("INSERT INTO ids VALUES (CAST(:id AS uuid))", {"id": str(uuid4())}) == 1


def test_row_counts(database: Database) -> None:
    assert database.execute("CREATE TABLE counts (id int PRIMARY KEY, v int)") == 0
    assert database.execute("INSERT INTO counts VALUES (1, 0), (2, 0), (3, 1)") == 3
    assert database.execute("UPDATE counts SET v = v + 1 WHERE v = :v", {"v": 0}) == 2
    assert database.execute("UPDATE counts SET v = 9 WHERE id = 99") == 0
    assert database.execute("DELETE FROM counts WHERE id = 1") == 1
    assert database.execute("SELECT * FROM counts") == 0
    assert database.fetch_all("SELECT id FROM counts WHERE id = 99") == []
    assert database.fetch_one("SELECT id FROM counts WHERE id = 99") is None
    assert database.fetch_one("SELECT id FROM counts ORDER BY id") == {"id": 2}
    assert database.fetch_all("INSERT INTO counts VALUES (7, 7) RETURNING id, v") == [
        {"id": 7, "v": 7}
    ]


def test_transaction_commits_on_normal_exit(database: Database) -> None:
    database.execute("CREATE TABLE ledger (id int PRIMARY KEY)")
    with database.transaction() as tx:
        tx.execute("INSERT INTO ledger VALUES (1)")
        assert tx.fetch_all("SELECT id FROM ledger") == [{"id": 1}]
        # Outside the transaction the row is not visible yet.
        assert database.fetch_all("SELECT id FROM ledger") == []
    assert database.fetch_all("SELECT id FROM ledger") == [{"id": 1}]


def test_an_exception_inside_a_transaction_leaves_nothing_written(database: Database) -> None:
    database.execute("CREATE TABLE ledger (id int PRIMARY KEY)")

    class BoomError(Exception):
        pass

    with pytest.raises(BoomError), database.transaction() as tx:
        tx.execute("INSERT INTO ledger VALUES (1)")
        tx.execute_batch("INSERT INTO ledger VALUES (:id)", [{"id": 2}, {"id": 3}])
        raise BoomError
    assert database.fetch_all("SELECT id FROM ledger") == []


def test_an_executor_cannot_be_used_after_its_transaction(database: Database) -> None:
    with database.transaction() as tx:
        pass
    with pytest.raises(DatabaseError, match="finished"):
        tx.execute("SELECT 1")


def test_unique_violation_is_an_integrity_violation(database: Database) -> None:
    database.execute("CREATE TABLE people (email text CONSTRAINT people_email_key UNIQUE)")
    database.execute("INSERT INTO people VALUES (:e)", {"e": "a@example.com"})
    with pytest.raises(IntegrityViolationError, match="people_email_key") as caught:
        database.execute("INSERT INTO people VALUES (:e)", {"e": "a@example.com"})
    # The offending value (personal data) is not echoed into the error.
    assert "a@example.com" not in str(caught.value)


def test_integrity_violation_inside_a_transaction_rolls_it_back(database: Database) -> None:
    database.execute("CREATE TABLE people (email text UNIQUE, age int CHECK (age >= 0))")
    with pytest.raises(IntegrityViolationError), database.transaction() as tx:
        tx.execute("INSERT INTO people VALUES ('b@example.com', 1)")
        tx.execute("INSERT INTO people VALUES ('c@example.com', -1)")
    assert database.fetch_all("SELECT * FROM people") == []


def test_batch_execute_inserts_every_set_in_chunks(database: Database) -> None:
    database.execute("CREATE TABLE items (id int PRIMARY KEY, label text, amount numeric)")
    sets = [{"id": n, "label": f"item {n}", "amount": Decimal(n) / 100} for n in range(450)]
    database.execute_batch("INSERT INTO items VALUES (:id, :label, :amount)", sets)
    row = database.fetch_one("SELECT count(*) AS n, sum(amount) AS total FROM items")
    assert row == {"n": 450, "total": sum(s["amount"] for s in sets)}


def test_batch_execute_is_all_or_nothing(database: Database) -> None:
    database.execute("CREATE TABLE items (id int PRIMARY KEY)")
    sets = [{"id": n} for n in range(300)] + [{"id": 5}]
    with pytest.raises(IntegrityViolationError):
        database.execute_batch("INSERT INTO items VALUES (:id)", sets)
    assert database.fetch_one("SELECT count(*) AS n FROM items") == {"n": 0}


BIG_ROWS = 2500  # ~1 KiB each: about 2.5 MiB, past the Data API's 1 MiB response limit


def _fill_big(database: Database) -> None:
    database.execute("CREATE TABLE big (id int PRIMARY KEY, payload text)")
    database.execute(
        "INSERT INTO big SELECT n, repeat(md5(n::text), 32) FROM generate_series(1, :n) AS n",
        {"n": BIG_ROWS},
    )


def test_results_beyond_one_mebibyte_are_returned_whole_and_in_order(database: Database) -> None:
    _fill_big(database)
    rows = database.fetch_all(
        "SELECT id, payload FROM big WHERE id > :min ORDER BY id DESC", {"min": 0}
    )
    assert [row["id"] for row in rows] == list(range(BIG_ROWS, 0, -1))
    assert all(len(row["payload"]) == 1024 for row in rows)
    first = database.fetch_one("SELECT id, payload FROM big ORDER BY id")
    assert first is not None and first["id"] == 1


def test_big_results_inside_a_transaction_see_its_own_writes(database: Database) -> None:
    _fill_big(database)
    with database.transaction() as tx:
        tx.execute("DELETE FROM big WHERE id <= 10")
        rows = tx.fetch_all("SELECT id FROM big, LATERAL (SELECT payload) p ORDER BY id")
        assert len(rows) == BIG_ROWS - 10
        assert rows[0] == {"id": 11}
        tx.execute("INSERT INTO big VALUES (0, 'x')")
    assert database.fetch_one("SELECT count(*) AS n FROM big") == {"n": BIG_ROWS - 9}


def test_a_single_row_over_the_limit(database: Database, request: pytest.FixtureRequest) -> None:
    sql = "SELECT repeat('x', 1100000) AS huge"
    if request.node.callspec.params["database"] == "data_api":
        with pytest.raises(StatementTooLargeError, match="single row"):
            database.fetch_all(sql)
    else:
        assert len(database.fetch_all(sql)[0]["huge"]) == 1_100_000


def test_a_write_returning_too_much(database: Database, request: pytest.FixtureRequest) -> None:
    database.execute("CREATE TABLE blobs (id int, body text)")
    sql = (
        "INSERT INTO blobs SELECT n, repeat('y', 2000) FROM generate_series(1, 1000) n RETURNING *"
    )
    if request.node.callspec.params["database"] == "data_api":
        with pytest.raises(StatementTooLargeError, match="response limit"):
            database.fetch_all(sql)
    else:
        assert len(database.fetch_all(sql)) == 1000
