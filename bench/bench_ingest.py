"""Bank-sync ingest: a full sync of ~100k sandbox transactions against a plain bulk COPY.

Run: ``.venv/bin/python bench/bench_ingest.py``. Prints figures; asserts nothing.

* **Throughput**: the whole bank-sync workflow (accounts, balances, asynchronous transaction
  requests over HTTP from the sandbox bank, ingest through ``plan_ingest`` with batched JSON
  statements, reconcile, run records; every request, first page or follow-up, answers
  "pending" once, as an asynchronous bank's would) into local PostgreSQL through psycopg,
  against a plain ``COPY`` of the same rows into the same empty table in the same run.
  Median of ``RUNS``; target ≥ 0.3x COPY.
* **Data API statements per 1,000 ingested transactions**: the same sync through the Data API
  adapter (boto3 against the local Data API), every operation counted at the boto3 client
  (``before-call`` hook), run records included; target ≤ 3.
* **Worker peak memory**: the sync runs in a child process (the bank stays in the parent), whose
  peak RSS (``VmHWM``) is reported; target ≤ 256 MiB.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from devtools.embedded import (  # noqa: E402
    create_database,
    drop_database,
    embedded_postgres_url,
    with_database,
)
from devtools.sandbox_bank import SandboxBank, SandboxBankServer  # noqa: E402
from service.db.migrations import upgrade  # noqa: E402
from service.db.postgres import PostgresDatabase  # noqa: E402

RUNS = 3
HISTORY_DAYS = 365 * 136  # the sandbox household's history that holds ~100k transactions
TODAY = date(2026, 11, 30)
MASTER_KEY = b"b" * 32
COPY_COLUMNS = ("family_id", "account_id", "provider_transaction_id", "status", "booked_on",
                "description", "merchant", "amount_minor", "currency", "provider_category",
                "fingerprint", "pending_key", "last_seen_run")


def _seed(db: PostgresDatabase, provider_ref: str) -> str:
    """A family, its owner and an active connection sealing ``provider_ref``; its id."""
    from service.crypto import FamilyKeyring, LocalDataKeyProvider, seal  # noqa: PLC0415
    from service.crypto.family_key_store import PostgresFamilyKeyStore  # noqa: PLC0415
    from service.workflows.targets import provider_ref_aad  # noqa: PLC0415

    user, family, conn = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    db.execute("INSERT INTO users (id, issuer, subject, email) VALUES (:u, 'b', :s, 'b@x.io')",
               {"u": user, "s": str(user)})
    db.execute("INSERT INTO families (id, name) VALUES (:f, 'Bench')", {"f": family})
    db.execute("INSERT INTO memberships (family_id, user_id, role) VALUES (:f, :u, 'owner')",
               {"f": family, "u": user})
    keyring = FamilyKeyring(LocalDataKeyProvider(MASTER_KEY), PostgresFamilyKeyStore(db))
    sealed = seal(keyring.sealing_key(family), provider_ref, provider_ref_aad(family, conn))
    db.execute(
        """INSERT INTO connections (id, family_id, provider, status, created_by,
               provider_ref_ciphertext, provider_ref_nonce, consent_expires_at)
           VALUES (:c, :f, 'truelayer', 'active', :u, :ct, :n, :exp)""",
        {"c": conn, "f": family, "u": user, "ct": sealed.ciphertext, "n": sealed.nonce,
         "exp": datetime(2100, 1, 1, tzinfo=UTC)})
    return str(conn)


def _reset(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM sync_runs")
        conn.execute("DELETE FROM transactions")
        conn.execute("DELETE FROM balances")
        conn.execute("DELETE FROM accounts")
        conn.execute("UPDATE connections SET next_unattended_sync_at = NULL")
        conn.execute("VACUUM ANALYZE transactions")


def _worker(args: dict[str, Any], out: Any) -> None:
    """Child process: one full sync as the worker would run it; reports time, counts, RSS."""
    import boto3  # noqa: PLC0415
    import httpx  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    from service.banking.models import DateWindow  # noqa: PLC0415
    from service.banking.port import ProviderRegistry  # noqa: PLC0415
    from service.banking.truelayer import (  # noqa: PLC0415
        TrueLayerConfig,
        TrueLayerHttp,
        TrueLayerProvider,
    )
    from service.crypto import FamilyKeyring, LocalDataKeyProvider  # noqa: PLC0415
    from service.crypto.family_key_store import PostgresFamilyKeyStore  # noqa: PLC0415
    from service.db.data_api import DataApiDatabase, RetryPolicy  # noqa: PLC0415
    from service.db.port import Database  # noqa: PLC0415
    from service.repositories.bank_ingestion import DatabaseIngestion  # noqa: PLC0415
    from service.repositories.sync_runs import DatabaseRunStore  # noqa: PLC0415
    from service.workflows.bank_sync import (  # noqa: PLC0415
        BANK_SYNC,
        BankSyncDeps,
        bank_sync_input,
        bank_sync_steps,
    )
    from service.workflows.runner import InProcessRunner  # noqa: PLC0415
    from service.workflows.targets import DatabaseSyncTargets  # noqa: PLC0415

    operations: list[str] = []
    db: Database
    if args.get("data_api"):
        client = boto3.client("rds-data", endpoint_url=args["data_api"], region_name="eu-west-2",
                              aws_access_key_id="local", aws_secret_access_key="local",
                              config=Config(retries={"total_max_attempts": 1},
                                            read_timeout=300))
        client.meta.events.register("before-call.rds-data",
                                    lambda model, **_: operations.append(model.name))
        db = DataApiDatabase(cluster_arn="arn:aws:rds:eu-west-2:123456789012:cluster:bench",
                             secret_arn="arn:aws:secretsmanager:eu-west-2:123456789012:secret:bench-AbCdEf",
                             database=args["db_name"], client=client,
                             retry=RetryPolicy(base_delay=0.01, max_delay=0.05))
    else:
        db = PostgresDatabase(args["url"])
    config = TrueLayerConfig(auth_url=args["bank"], api_url=args["bank"],
                             client_id="sandbox-client", client_secret="sandbox-secret",
                             read_timeout=120.0)
    provider = TrueLayerProvider(config, http=TrueLayerHttp(config, client=httpx.Client()))
    keyring = FamilyKeyring(LocalDataKeyProvider(MASTER_KEY), PostgresFamilyKeyStore(db))
    # The sandbox prepares a request by reads, not time: the runner's backoffs and the poll
    # step's follow-up page waits are skipped, so what is timed is our work and the wire.
    deps = BankSyncDeps(providers=ProviderRegistry(provider),
                        targets=DatabaseSyncTargets(db, keyring), ingestion=DatabaseIngestion(db),
                        sleep=lambda _: None)
    runner = InProcessRunner(BANK_SYNC, bank_sync_steps(deps), store=DatabaseRunStore(db),
                             sleep=lambda _: None)
    window = DateWindow(date.fromisoformat(args["start"]), date.fromisoformat(args["end"]))
    start = time.perf_counter()
    run = runner.start(bank_sync_input(args["connection"], window))
    seconds = time.perf_counter() - start
    out.put({
        "status": run.status.value, "error": run.last_error, "seconds": seconds,
        # The poll step ingests every account whose whole chain one attempt read; the ingest
        # step the rest: the sync's counts are the sum over both.
        "counts": dict(sum((Counter(run.step(name).counts)
                            for name in ("poll_transactions", "ingest_transactions")),
                           Counter())),
        "reconciled": run.step("reconcile_pending").counts,
        # The poll step now ingests too: how long it ran tells what its timeout must allow.
        "poll_seconds": _step_seconds(run.step("poll_transactions")),
        "maxrss_mib": _peak_rss_mib(),
        "operations": len(operations),
    })
    db.close()


def _step_seconds(step: Any) -> float:
    if step.started_at is None or step.finished_at is None:
        return float("nan")
    return float((step.finished_at - step.started_at).total_seconds())


def _peak_rss_mib() -> float:
    """This process's peak resident set (``VmHWM``: reset at exec, unlike ``ru_maxrss``,
    which Linux carries over from the parent that forked the child)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_worker(args: dict[str, Any]) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_worker, args=(args, out))
    proc.start()
    result: dict[str, Any] = out.get(timeout=1800)
    proc.join()
    if result["status"] != "succeeded":
        raise SystemExit(f"sync did not succeed: {result}")
    return result


def _copy_seconds(url: str) -> tuple[float, int]:
    """Time a plain COPY of the rows the sync stored into the emptied table."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(f"SELECT {', '.join(COPY_COLUMNS)} FROM transactions").fetchall()
        conn.execute("DELETE FROM transactions")
        conn.execute("VACUUM ANALYZE transactions")
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy(
            f"COPY transactions ({', '.join(COPY_COLUMNS)}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        return time.perf_counter() - start, len(rows)


def main() -> None:
    from devtools.local_data_api import LocalDataApi  # noqa: PLC0415

    admin_url = embedded_postgres_url(ROOT / ".cache" / "pg")
    name = create_database(admin_url, "bench_ingest")
    url = with_database(admin_url, name)
    now = datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC)
    bank = SandboxBank(clock=lambda: now, history_days=HISTORY_DAYS)
    bank.default_quirks.page_size = 5000
    # The sandbox's default: every request (first page or follow-up) answers "pending" once,
    # as an asynchronous bank would.
    assert bank.default_quirks.polls_before_ready == 1
    try:
        owner = PostgresDatabase(url)
        upgrade(owner)
        with SandboxBankServer(bank) as server:
            at_bank = bank.create_connection(scopes=["info", "accounts", "balance",
                                                     "transactions"],
                                             redirect_uri="http://127.0.0.1/cb", state="b")
            bank.decide(at_bank.id, allow=True)
            # The sandbox generates its century of history on first use; that is the test
            # double's cost, not the sync's, so it is paid before anything is timed.
            bank.list_accounts(at_bank.id)
            connection = _seed(owner, at_bank.id)
            args = {"url": url, "bank": server.base_url, "connection": connection,
                    "start": bank.history_start.isoformat(), "end": TODAY.isoformat(),
                    "db_name": name}
            ratios, sync_tps, copy_tps, rss = [], [], [], []
            ingested = 0
            for _ in range(RUNS):
                _reset(url)
                result = _run_worker(args)
                ingested = int(result["counts"].get("inserted", 0))
                copy_s, copied = _copy_seconds(url)
                sync_tps.append(ingested / result["seconds"])
                copy_tps.append(copied / copy_s)
                ratios.append(sync_tps[-1] / copy_tps[-1])
                rss.append(result["maxrss_mib"])
                print(f"  run: {ingested:,} ingested in {result['seconds']:.1f} s (poll step "
                      f"{result['poll_seconds']:.1f} s), COPY {copy_s:.2f} s, peak RSS "
                      f"{result['maxrss_mib']:.0f} MiB", flush=True)
            _reset(url)
            with LocalDataApi(postgres_url=admin_url) as endpoint:
                via_api = _run_worker({**args, "data_api": endpoint})
            per_1000 = via_api["operations"] / (int(via_api["counts"]["inserted"]) / 1000)
        owner.close()
    finally:
        drop_database(admin_url, name)

    print(f"bank sync ingest of {ingested:,} sandbox transactions "
          f"(median of {RUNS}, cpus={os.cpu_count()}):")
    print(f"  full sync incl. reconcile (psycopg) {statistics.median(sync_tps):10,.0f} txn/s")
    print(f"  plain COPY of the same rows         {statistics.median(copy_tps):10,.0f} txn/s")
    print(f"  ratio sync/COPY                     {statistics.median(ratios):10.2f}x"
          "   (target >= 0.3x)")
    print(f"  Data API calls for the sync         {via_api['operations']:10d}"
          f"   ({per_1000:.2f} per 1,000 ingested; target <= 3)")
    print(f"  Data API sync took                  {via_api['seconds']:10.1f} s"
          f"   (of which the poll step {via_api['poll_seconds']:.1f} s)")
    print(f"  worker peak RSS                     {statistics.median(rss):10.1f} MiB"
          "   (target <= 256 MiB)")


if __name__ == "__main__":
    main()
