"""The embedded server and the per-test database fixtures."""

from __future__ import annotations

import psycopg

from devtools.embedded import with_database
from service.db.postgres import PostgresDatabase


def test_with_database_keeps_host_and_query() -> None:
    url = "postgresql://postgres:@/postgres?host=/tmp/pg"
    assert with_database(url, "test_x") == "postgresql://postgres:@/test_x?host=/tmp/pg"


def test_postgres_url_is_a_fresh_migrated_database(postgres_url: str, pg_template: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        name = conn.execute("SELECT current_database()").fetchone()
        has_table = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    assert name is not None and name[0].startswith("test_")
    assert has_table == (True,)


def test_each_test_gets_its_own_database(postgres_db: PostgresDatabase) -> None:
    postgres_db.execute("CREATE TABLE only_here (x int)")
    postgres_db.execute("INSERT INTO only_here VALUES (1)")
    assert postgres_db.fetch_all("SELECT x FROM only_here") == [{"x": 1}]


def test_a_second_test_does_not_see_the_first_ones_table(postgres_db: PostgresDatabase) -> None:
    row = postgres_db.fetch_one("SELECT to_regclass('only_here') IS NULL AS missing")
    assert row == {"missing": True}
