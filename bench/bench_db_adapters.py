"""Cost of the database layer itself: per-call latency of each adapter, paging past 1 MiB,
and creating a fresh database from the migrated template (what every DB test pays).

Run: ``.venv/bin/python bench/bench_db_adapters.py``. Prints medians; asserts nothing.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
import psycopg  # noqa: E402
from botocore.config import Config  # noqa: E402

from devtools.embedded import (  # noqa: E402
    create_database,
    drop_database,
    embedded_postgres_url,
    with_database,
)
from devtools.local_data_api import LocalDataApi  # noqa: E402
from service.db.data_api import DataApiDatabase  # noqa: E402
from service.db.migrations import upgrade  # noqa: E402
from service.db.port import Database  # noqa: E402
from service.db.postgres import PostgresDatabase  # noqa: E402

RUNS = 7
BIG_ROWS = 2500  # ~1 KiB each, ~2.5 MiB in all


def median_ms(fn: Callable[[], object], *, repeat: int) -> float:
    fn()
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        samples.append((time.perf_counter() - start) / repeat * 1000)
    return statistics.median(samples)


def measure(label: str, db: Database) -> None:
    one = median_ms(lambda: db.fetch_one("SELECT :n::int AS n", {"n": 1}), repeat=50)

    def tx() -> None:
        with db.transaction() as t:
            t.execute("INSERT INTO bench_rows (payload) VALUES (:p)", {"p": "x"})

    txn = median_ms(tx, repeat=20)
    big = median_ms(lambda: db.fetch_all("SELECT id, payload FROM big ORDER BY id"), repeat=1)
    print(
        f"{label:<10} fetch_one {one:7.2f} ms | 1-insert transaction {txn:7.2f} ms"
        f" | {BIG_ROWS}-row ~2.5 MiB fetch_all {big:8.1f} ms"
    )


def main() -> None:
    admin_url = embedded_postgres_url(ROOT / ".cache" / "pg")
    name = create_database(admin_url, "bench")
    url = with_database(admin_url, name)
    try:
        pg = PostgresDatabase(url)
        upgrade(pg)
        pg.execute("CREATE TABLE bench_rows (id bigserial PRIMARY KEY, payload text)")
        pg.execute("CREATE TABLE big (id int PRIMARY KEY, payload text)")
        pg.execute(
            "INSERT INTO big SELECT n, repeat(md5(n::text), 32) FROM generate_series(1, :n) AS n",
            {"n": BIG_ROWS},
        )
        measure("psycopg", pg)
        with LocalDataApi(postgres_url=admin_url) as endpoint:
            client = boto3.client(
                "rds-data",
                endpoint_url=endpoint,
                region_name="eu-west-2",
                aws_access_key_id="bench",
                aws_secret_access_key="bench",
                config=Config(retries={"total_max_attempts": 1}),
            )
            data_api = DataApiDatabase(
                cluster_arn="arn:aws:rds:eu-west-2:123456789012:cluster:bench",
                secret_arn="arn:aws:secretsmanager:eu-west-2:123456789012:secret:bench-AbCdEf",
                database=name,
                client=client,
            )
            measure("data_api", data_api)
        clone = f"{name}_c"

        def clone_and_drop() -> None:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{clone}" TEMPLATE "{name}"'.encode())
                admin.execute(f'DROP DATABASE "{clone}" WITH (FORCE)'.encode())

        pg.close()
        print(
            f"fresh database from a migrated template + drop: "
            f"{median_ms(clone_and_drop, repeat=1):7.1f} ms"
        )
    finally:
        drop_database(admin_url, name)


if __name__ == "__main__":
    main()
