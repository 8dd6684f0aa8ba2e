"""One chat turn with two tool calls: Data API calls and wall time, model time excluded.

``POST /v1/conversations/{cid}/messages`` through the Flask app, the RDS Data API adapter
and the local Data API server on the embedded PostgreSQL (the demo family seeded). The
model is an in-process stand-in behind the provider port that answers instantly (turn
1: ``list_accounts`` and ``search_transactions``; turn 2: the answer), so what is timed
is the service's own work: quota claim, unsealing, both tools, sealing and the audited
write. Baseline in the same process: ``GET /health`` and one transactions page. Prints
medians of interleaved runs, ratios and the calls of one turn; asserts nothing.

Run: ``.venv/bin/python bench/bench_chat_turn.py``
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from devtools.demo import DEMO_FAMILY_NAME, seed_demo  # noqa: E402
from devtools.embedded import (  # noqa: E402
    create_database,
    drop_database,
    embedded_postgres_url,
    with_database,
)
from service import create_app  # noqa: E402
from service.bootstrap import AwsClients, Services  # noqa: E402
from service.chat import ModelRequest, ModelTurn, StopReason, ToolCall  # noqa: E402
from service.db.migrations import upgrade  # noqa: E402
from service.db.postgres import PostgresDatabase  # noqa: E402
from service.settings import Settings  # noqa: E402
from tests.fixtures.data_api_calls import DataApiCalls  # noqa: E402

RUNS = 5
REQUESTS_PER_RUN = 8
OWNER = "bench.chat@example.com"


class InstantModel:
    """The provider port answering at once: two tool calls, then a short answer."""

    def complete(self, request: ModelRequest, *, timeout: float) -> ModelTurn:
        if request.messages and type(request.messages[-1]).__name__ == "UserMessage":
            return ModelTurn("", (ToolCall("c1", "list_accounts", {}),
                                  ToolCall("c2", "search_transactions",
                                           {"text": "tesco", "limit": 20})),
                             StopReason.TOOL_USE)
        return ModelTurn("Here are your figures.", (), StopReason.END_TURN)


def interleaved_medians(fns: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Median over RUNS of the mean ms per call of REQUESTS_PER_RUN warm calls, interleaved."""
    for fn in fns.values():
        for _ in range(2):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(RUNS):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(REQUESTS_PER_RUN):
                fn()
            samples[name].append((time.perf_counter() - start) / REQUESTS_PER_RUN * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-2")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    admin_url = embedded_postgres_url(ROOT / ".cache" / "bench-pg")
    name = create_database(admin_url, "bench_chat")
    try:
        run(with_database(admin_url, name), name, Path(tempfile.mkdtemp(prefix="bench-chat-")))
    finally:
        drop_database(admin_url, name)


def run(url: str, name: str, local_dir: Path) -> None:
    import boto3  # noqa: PLC0415

    from devtools.local_data_api import LocalDataApi  # noqa: PLC0415

    db = PostgresDatabase(url)
    upgrade(db)
    with LocalDataApi(postgres_url=url) as endpoint:
        rds_data = boto3.client("rds-data", endpoint_url=endpoint, region_name="eu-west-2")
        calls = DataApiCalls(rds_data)
        settings = Settings(
            runtime="local", local_dir=local_dir, dev_issuer=True, log_level="WARNING",
            db_cluster_arn="arn:aws:rds:eu-west-2:123456789012:cluster:bench",
            db_secret_arn="arn:aws:secretsmanager:eu-west-2:123456789012:secret:bench-AbCdEf",
            db_name=name, chat_provider="bedrock", chat_model="bench",
            chat_daily_messages=10_000)
        services = Services(settings, clients=AwsClients(rds_data=rds_data),
                            chat_model=InstantModel())
        app = create_app(services=services)
        issuer = services.dev_issuer
        assert issuer is not None
        seed_demo(services.database, services.keyring, signer=services.audit_signer,
                  owner_email=OWNER, today=date(2025, 3, 31))
        fid = db.fetch_one("SELECT id FROM families WHERE name = :n",
                           {"n": DEMO_FAMILY_NAME})["id"]  # type: ignore[index]
        headers = {"Authorization": f"Bearer {issuer.issue(OWNER)}"}
        client = app.test_client()

        def conversations() -> Iterator[str]:
            while True:
                response = client.post(f"/v1/families/{fid}/conversations", headers=headers)
                assert response.status_code == 201, response.get_json()
                yield response.get_json()["id"]

        fresh = conversations()

        def turn(cid: str | None = None) -> None:
            target = cid or next(fresh)
            response = client.post(f"/v1/conversations/{target}/messages", headers=headers,
                                   json={"text": "What did we spend at Tesco?"})
            body = response.get_json()
            assert response.status_code == 200, body
            assert body["tools"] == ["list_accounts", "search_transactions"], body

        def page() -> None:
            assert client.get(f"/v1/families/{fid}/transactions?limit=20",
                              headers=headers).status_code == 200

        def health() -> None:
            assert client.get("/health").status_code == 200

        # Conversations are created outside the timed calls: a turn starts a fresh one each
        # time so history does not grow across runs.
        pending = [next(fresh) for _ in range((RUNS + 1) * REQUESTS_PER_RUN + 2)]
        medians = interleaved_medians({"turn": lambda: turn(pending.pop()), "page": page,
                                       "health": health})
        print(f"demo family seeded; median of {RUNS} interleaved runs x {REQUESTS_PER_RUN} "
              "warm requests; Data API adapter -> local Data API server -> PostgreSQL; "
              "model time excluded (in-process instant model)")
        print(f"chat turn, 2 tool calls        : {medians['turn']:8.2f} ms")
        print(f"GET transactions?limit=20      : {medians['page']:8.2f} ms")
        print(f"GET /health (baseline)         : {medians['health']:8.2f} ms")
        print(f"ratio turn/page = {medians['turn'] / medians['page']:.1f}x, "
              f"turn/health = {medians['turn'] / medians['health']:.1f}x")
        cid = pending.pop()
        with calls.measure() as made:
            turn(cid)
        print(f"Data API calls of one chat turn: {len(made)} ({', '.join(made)})")
        with calls.measure() as second:
            turn(cid)
        print(f"Data API calls of a second turn in the same conversation: {len(second)}")
        services.close()
    db.close()


if __name__ == "__main__":
    main()
