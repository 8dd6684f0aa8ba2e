"""End-to-end smoke of the use cases on a fresh database (both adapters where cheap)."""

from __future__ import annotations

from service.db.port import Database
from service.domain.queries import TransactionQuery
from service.use_cases import accounts as accounts_uc
from service.use_cases import transactions as tx_uc
from tests.service.domain.helpers import build_world, local_keyring, principal


def test_world_builds_and_owner_sees_family_accounts(postgres_db: Database) -> None:
    world = build_world(postgres_db, local_keyring(postgres_db))
    views = accounts_uc.list_accounts(postgres_db, principal("owner"), world.family)
    seen = {v.account.name for v in views}
    assert seen == {"joint account", "savings account", "pocket account"}
    page = tx_uc.list_transactions(postgres_db, principal("owner"), world.family,
                                   TransactionQuery(limit=5))
    assert len(page.items) == 5 and page.next_cursor is not None
