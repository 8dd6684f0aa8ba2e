"""The insights post-sync hook on a real PostgreSQL: families found from the synced
accounts, refreshed once each, and a retried step changes nothing."""

from __future__ import annotations

from datetime import date

from service.banking.models import DateWindow
from service.db.port import Database
from service.workflows.bank_sync import PostSyncEvent
from service.workflows.insights_hook import insights_post_sync_hook
from tests.service.domain.insights_world import build_insights_world


def _categorised(db: Database) -> dict[str, int]:
    rows = db.fetch_all("""SELECT CAST(family_id AS text) AS f, count(category_id) AS n
                           FROM transactions GROUP BY family_id""")
    return {r["f"]: int(r["n"]) for r in rows}


def test_the_hook_refreshes_each_family_of_the_synced_accounts(postgres_db: Database) -> None:
    world = build_insights_world(postgres_db)
    hook = insights_post_sync_hook(postgres_db)
    event = PostSyncEvent(
        run_id="run-1", connection_ref=str(world.connection),
        account_ids=(str(world.accounts["joint"]), str(world.accounts["other"]),
                     "00000000-0000-0000-0000-000000000000"),
        window=DateWindow(date(2025, 1, 1), date(2025, 6, 30)))
    assert _categorised(postgres_db) == {str(world.family): 0, str(world.other_family): 0}
    hook(event)
    counts = _categorised(postgres_db)
    total = {r["f"]: int(r["n"]) for r in postgres_db.fetch_all(
        "SELECT CAST(family_id AS text) AS f, count(*) AS n FROM transactions GROUP BY 1")}
    assert counts == total  # every transaction of both families, not only the synced account
    series = postgres_db.fetch_all("SELECT CAST(family_id AS text) AS f, id, updated_at "
                                   "FROM recurring_series ORDER BY id")
    assert {r["f"] for r in series} == {str(world.family), str(world.other_family)}
    hook(event)  # the step retried: nothing changes
    assert postgres_db.fetch_all("SELECT CAST(family_id AS text) AS f, id, updated_at "
                                 "FROM recurring_series ORDER BY id") == series
    hook(PostSyncEvent(run_id="run-2", connection_ref="c", account_ids=(),
                       window=event.window))
