"""Warm latency of one 100-row transactions page through the Flask app.

Measures ``GET /v1/families/{fid}/transactions?limit=100`` with the Flask test client on
the embedded PostgreSQL (a fresh database seeded with a few thousand transactions), and,
in the same process, two baselines: ``GET /health`` (the framework floor) and the raw
repository query (the SQL floor: the scoped statement the page runs, caller and membership
resolved inside it). Then the same page through the RDS Data API adapter and the local
Data API server, with the Data API calls one read (the page) and one write (annotating a
transaction) make, counted at the boto3 client. Prints medians of several runs, ratios
and call counts; asserts nothing.

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


from devtools.embedded import (  # noqa: E402
    create_database,
    drop_database,
    embedded_postgres_url,
    with_database,
)
from service import create_app  # noqa: E402
from service.audit import AuditSigner  # noqa: E402
from service.bootstrap import AwsClients, Services  # noqa: E402
from service.db.migrations import upgrade  # noqa: E402
from service.db.postgres import PostgresDatabase  # noqa: E402
from service.domain.models import (  # noqa: E402
    AccountType,
    Role,
    TransactionStatus,
    Visibility,
)
from service.domain.principal import Principal  # noqa: E402
from service.domain.queries import TransactionQuery  # noqa: E402
from service.http.context import SERVICES_KEY  # noqa: E402
from service.repositories import accounts, transactions, users  # noqa: E402
from service.repositories.transactions import NewTransaction  # noqa: E402
from service.settings import Settings  # noqa: E402
from tests.fixtures.data_api_calls import DataApiCalls  # noqa: E402

TRANSACTIONS = 4000
RUNS = 7
REQUESTS_PER_RUN = 20
OWNER = "bench.owner@example.com"


def interleaved_medians(fns: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Median over RUNS of the mean time per call of REQUESTS_PER_RUN warm calls, per function.

    Each run times every function in turn, so a change of machine load (this machine is
    shared) hits all of them alike and the differences between them stay meaningful.
    """
    for fn in fns.values():
        for _ in range(5):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(RUNS):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(REQUESTS_PER_RUN):
                fn()
            samples[name].append((time.perf_counter() - start) / REQUESTS_PER_RUN * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def seed(db: PostgresDatabase, signer: AuditSigner, principal: Principal) -> uuid.UUID:
    from service.use_cases.families import create_family  # noqa: PLC0415

    family = create_family(db, signer, principal, name="Bench family")
    with db.transaction() as tx:
        owner = users.ensure_user(tx, principal)
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
    name = create_database(admin_url, "bench")
    url = with_database(admin_url, name)
    local_dir = Path(tempfile.mkdtemp(prefix="bench-local-"))
    try:
        run(url, name, local_dir)
    finally:
        drop_database(admin_url, name)


def run(url: str, name: str, local_dir: Path) -> None:
    db = PostgresDatabase(url)
    upgrade(db)
    app = create_app(Settings(runtime="local", database_url=url, local_dir=local_dir,
                              dev_issuer=True, log_level="WARNING"))
    services = app.extensions[SERVICES_KEY]
    issuer = services.dev_issuer
    principal = Principal(issuer="http://localhost/dev-issuer",
                          subject=issuer.subject_for(OWNER), email=OWNER)
    fid = seed(db, services.audit_signer, principal)
    headers = {"Authorization": f"Bearer {issuer.issue(OWNER)}"}
    client = app.test_client()
    path = f"/v1/families/{fid}/transactions?limit=100"

    def page() -> None:
        resp = client.get(path, headers=headers)
        assert resp.status_code == 200 and len(resp.get_json()["items"]) == 100

    def health() -> None:
        assert client.get("/health").status_code == 200

    query = TransactionQuery(limit=100)

    def raw_sql() -> None:
        scope, rows = transactions.list_transactions(db, principal, fid, query)
        assert scope is not None and scope.role is Role.OWNER and len(rows) == 101

    medians = interleaved_medians({"page": page, "health": health, "raw": raw_sql})
    page_ms, health_ms, sql_ms = medians["page"], medians["health"], medians["raw"]
    print(f"seeded {TRANSACTIONS} transactions; median of {RUNS} interleaved runs x "
          f"{REQUESTS_PER_RUN} warm requests")
    print(f"PostgreSQL adapter  GET transactions?limit=100 : {page_ms:8.2f} ms")
    print(f"                    GET /health (baseline)      : {health_ms:8.2f} ms")
    print(f"                    raw repository query        : {sql_ms:8.2f} ms")
    print(f"                    ratio page/health = {page_ms / health_ms:.1f}x, "
          f"page/raw SQL = {page_ms / sql_ms:.1f}x, page - raw SQL = {page_ms - sql_ms:.2f} ms")
    services.close()
    tid = db.fetch_one("SELECT id FROM transactions WHERE family_id = :f LIMIT 1",
                       {"f": fid})["id"]  # type: ignore[index]
    data_api(url, name, local_dir, path, headers, f"/v1/transactions/{tid}",
             f"/v1/families/{fid}")
    db.close()


def data_api(url: str, name: str, local_dir: Path, path: str,
             headers: dict[str, str], write_path: str, family_path: str) -> None:
    try:
        from devtools.local_data_api import LocalDataApi  # noqa: PLC0415
    except ImportError:
        print("Data API adapter: local Data API server not available; skipped")
        return
    import boto3  # noqa: PLC0415

    with LocalDataApi(postgres_url=url) as endpoint:
        rds_data = boto3.client("rds-data", endpoint_url=endpoint, region_name="eu-west-2")
        calls = DataApiCalls(rds_data)
        app = create_app(services=Services(Settings(
            runtime="local", local_dir=local_dir, dev_issuer=True, log_level="WARNING",
            db_cluster_arn="arn:aws:rds:eu-west-2:123456789012:cluster:bench",
            db_secret_arn="arn:aws:secretsmanager:eu-west-2:123456789012:secret:bench-AbCdEf",
            db_name=name), clients=AwsClients(rds_data=rds_data)))
        client = app.test_client()

        def page() -> None:
            resp = client.get(path, headers=headers)
            assert resp.status_code == 200, resp.get_json()

        def annotate() -> None:
            resp = client.patch(write_path, headers=headers, json={"note": "bench"})
            assert resp.status_code == 200, resp.get_json()

        timed = interleaved_medians({"page": page, "annotate": annotate})
        ms, write_ms = timed["page"], timed["annotate"]
        print(f"Data API adapter    GET transactions?limit=100 : {ms:8.2f} ms "
              "(boto3 rds-data -> local Data API server -> PostgreSQL)")
        print(f"                    PATCH transaction (write)   : {write_ms:8.2f} ms")
        for label, request in (("read  GET transactions?limit=100", page),
                               ("write PATCH /v1/transactions/{tid}", annotate)):
            with calls.measure() as made:
                request()
            print(f"Data API calls per request, {label}: {len(made)} ({', '.join(made)})")
        with calls.measure() as made:  # last: it deletes the seeded family
            resp = client.delete(family_path, headers=headers)
            assert resp.status_code == 204, resp.get_json()
        print(f"Data API calls per request, write DELETE /v1/families/{{fid}}: {len(made)} "
              f"({', '.join(made)}; locally the family key store is a table, so shredding "
              "is the last statement; in AWS it is one DynamoDB DeleteItem after the commit)")
        app.extensions[SERVICES_KEY].close()


if __name__ == "__main__":
    main()
