"""The family's accounts with each one's latest balance, read in one statement (chat tool)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from service.db.data_api import DataApiDatabase
from service.db.port import Database
from service.domain.errors import NotFoundError
from service.repositories import balances as balance_repo
from service.use_cases import accounts as accounts_uc
from tests.fixtures.data_api_calls import DataApiCalls
from tests.service.domain.helpers import build_world, local_keyring, principal


def _latest_by_name(db: Database, who: str, family: UUID) -> dict[str, int | None]:
    rows = accounts_uc.list_accounts_with_balances(db, principal(who), family)
    return {view.account.name: None if b is None else b.amount.amount_minor for view, b in rows}


def test_each_visible_account_comes_with_its_own_latest_balance(database: Database) -> None:
    world = build_world(database, local_keyring(database))
    with database.transaction() as tx:  # a newer point on one account only
        balance_repo.insert_balances(tx, world.family, world.accounts["savings"], [
            (datetime(2025, 2, 3, tzinfo=UTC), 4_321, "GBP")])
    assert _latest_by_name(database, "owner", world.family) == {
        "joint account": 10_000, "savings account": 4_321, "pocket account": 10_000}
    # The adult also sees their private card; the child sees no private account of another.
    assert _latest_by_name(database, "adult", world.family)["private account"] == 10_000
    assert "private account" not in _latest_by_name(database, "child", world.family)
    listed = {v.account.id for v in accounts_uc.list_accounts(
        database, principal("adult"), world.family)}
    paired = {v.account.id for v, _ in accounts_uc.list_accounts_with_balances(
        database, principal("adult"), world.family)}
    assert paired == listed


def test_an_account_without_balances_has_none(database: Database) -> None:
    world = build_world(database, local_keyring(database))
    database.execute("DELETE FROM balances WHERE account_id = :a",
                     {"a": world.accounts["joint"]})
    assert _latest_by_name(database, "owner", world.family)["joint account"] is None


def test_outsiders_get_not_found(database: Database) -> None:
    world = build_world(database, local_keyring(database))
    with pytest.raises(NotFoundError):
        accounts_uc.list_accounts_with_balances(database, principal("outsider"), world.family)


def test_one_data_api_call_however_many_accounts(data_api_db: DataApiDatabase) -> None:
    world = build_world(data_api_db, local_keyring(data_api_db))
    calls = DataApiCalls(data_api_db.client)  # the worker's shared client: unhooked after
    try:
        with calls.measure() as made:
            rows = accounts_uc.list_accounts_with_balances(data_api_db, principal("adult"),
                                                           world.family)
    finally:
        calls.close()
    assert len(rows) == 4
    assert made == ["ExecuteStatement"]
