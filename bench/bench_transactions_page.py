"""Warm latency of one 100-row transactions page through the Flask app.

Measures ``GET /v1/families/{fid}/transactions?limit=100`` with the Flask test client on
the embedded PostgreSQL (a fresh database seeded with a few thousand transactions), and,
in the same process, two baselines: ``GET /health`` (the framework floor) and the raw
repository query (the SQL floor). Then the same page through the RDS Data API adapter
and the local Data API server. Prints medians of several runs and ratios; asserts nothing.

Run: ``.venv/bin/python bench/bench_transactions_page.py``
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from devtools.embedded import embedded_postgres_url, with_database  # noqa: E402
from service import create_app  # noqa: E402
from service.db.migrations import upgrade  # noqa: E402
from service.db.postgres import PostgresDatabase  # noqa: E402
from service.domain.models import (  # noqa: E402
    AccountType,
    Role,
    TransactionStatus,
    Visibility,
)
from service.domain.principal import Principal  # noqa: E402
from service.http.context import SERVICES_KEY  # noqa: E402
from service.repositories import accounts, families, transactions, users  # noqa: E402
from service.repositories.transactions import NewTransaction, TransactionFilter  # noqa: E402
from service.settings import Settings  # noqa: E402

TRANSACTIONS = 4000
RUNS = 7
REQUESTS_PER_RUN = 20
OWNER = "bench.owner@example.com"


def median_ms(fn: Callable[[], object]) -> float:
    """Median over RUNS of the mean time per call of REQUESTS_PER_RUN warm calls."""
    for _ in range(5):
        fn()
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        for _ in range(REQUESTS_PER_RUN):
            fn()
        samples.append((time.perf_counter() - start) / REQUESTS_PER_RUN * 1000)
    return statistics.median(samples)


def seed(db: PostgresDatabase, principal: Principal) -> uuid.UUID:
    from service.use_cases.families import create_family  # noqa: PLC0415

    family = create_family(db, principal, name="Bench family")
    with db.transaction() as tx:
        owner = users.ensure_user(tx, principal)
        scope = families.find_membership(tx, owner.id, family.id)
        assert scope is not None and scope.role is Role.OWNER
        for n in range(4):
            account = accounts.insert_account(
                tx, family_id=family.id, holder_user_id=owner.id, connection_id=None,
                provider_account_id=f"bench-{n}", name=f"Account {n}",
                type_=AccountType.CURRENT, currency="GBP", visibility=Visibility.FAMILY)
            today = date(2025, 6, 30)
            transactions.insert_transactions(tx, family.id, account.id, [
                NewTransaction(
                    provider_transaction_id=f"t{n}-{i}", status=TransactionStatus.BOOKED,
                    booked_on=today - timedelta(days=i % 365),
                    booked_at=datetime(2025, 6, 30, 12, tzinfo=UTC),
                    description=f"CARD PAYMENT TO SHOP {i % 97}", merchant=f"Shop {i % 97}",
                    amount_minor=-(i * 37 % 10_000) - 1, currency="GBP",
                    category=("groceries", "transport", "bills", "eating_out")[i % 4])
                for i in range(TRANSACTIONS // 4)
            ])
    return family.id


def main() -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-2")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    admin_url = embedded_postgres_url(ROOT / ".cache" / "bench-pg")
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"'.encode())
    url = with_database(admin_url, name)
    local_dir = Path(tempfile.mkdtemp(prefix="bench-local-"))
    try:
        run(url, name, local_dir)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def run(url: str, name: str, local_dir: Path) -> None:
    db = PostgresDatabase(url)
    upgrade(db)
    app = create_app(Settings(runtime="local", database_url=url, local_dir=local_dir,
                              dev_issuer=True, log_level="WARNING"))
    services = app.extensions[SERVICES_KEY]
    issuer = services.dev_issuer
    principal = Principal(issuer="http://localhost/dev-issuer",
                          subject=issuer.subject_for(OWNER), email=OWNER)
    fid = seed(db, principal)
    headers = {"Authorization": f"Bearer {issuer.issue(OWNER)}"}
    client = app.test_client()
    path = f"/v1/families/{fid}/transactions?limit=100"

    def page() -> None:
        resp = client.get(path, headers=headers)
        assert resp.status_code == 200 and len(resp.get_json()["items"]) == 100

    def health() -> None:
        assert client.get("/health").status_code == 200

    with db.transaction() as tx:
        scope = families.find_membership(tx, users.ensure_user(tx, principal).id, fid)
    assert scope is not None

    def raw_sql() -> None:
        assert len(transactions.list_transactions(db, scope, TransactionFilter(limit=101))) == 101

    page_ms = median_ms(page)
    health_ms = median_ms(health)
    sql_ms = median_ms(raw_sql)
    print(f"seeded {TRANSACTIONS} transactions; median of {RUNS} runs x "
          f"{REQUESTS_PER_RUN} warm requests")
    print(f"PostgreSQL adapter  GET transactions?limit=100 : {page_ms:8.2f} ms")
    print(f"                    GET /health (baseline)      : {health_ms:8.2f} ms")
    print(f"                    raw repository query        : {sql_ms:8.2f} ms")
    print(f"                    ratio page/health = {page_ms / health_ms:.1f}x, "
          f"page/raw SQL = {page_ms / sql_ms:.1f}x")
    services.close()
    data_api(url, name, local_dir, path, headers)
    db.close()


def data_api(url: str, name: str, local_dir: Path, path: str,
             headers: dict[str, str]) -> None:
    try:
        from devtools.local_data_api import LocalDataApi  # noqa: PLC0415
    except ImportError:
        print("Data API adapter: local Data API server not available; skipped")
        return
    with LocalDataApi(postgres_url=url) as endpoint:
        app = create_app(Settings(
            runtime="local", local_dir=local_dir, dev_issuer=True, log_level="WARNING",
            db_cluster_arn="arn:aws:rds:eu-west-2:123456789012:cluster:bench",
            db_secret_arn="arn:aws:secretsmanager:eu-west-2:123456789012:secret:bench-AbCdEf",
            db_name=name, rds_data_endpoint_url=endpoint))
        client = app.test_client()

        def page() -> None:
            resp = client.get(path, headers=headers)
            assert resp.status_code == 200, resp.get_json()

        ms = median_ms(page)
        print(f"Data API adapter    GET transactions?limit=100 : {ms:8.2f} ms "
              "(boto3 rds-data -> local Data API server -> PostgreSQL)")
        app.extensions[SERVICES_KEY].close()


if __name__ == "__main__":
    main()
