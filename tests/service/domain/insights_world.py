"""A family with six months of history for the insights tests (domain and API)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from service.db.port import Database
from service.domain.models import TransactionStatus
from service.repositories import balances as balance_repo
from service.repositories import families as family_repo
from service.repositories import transactions as tx_repo
from service.repositories.transactions import NewTransaction
from service.use_cases import insights as uc
from tests.service.domain.helpers import World, build_world, local_keyring

AS_OF = date(2025, 6, 30)
MONTHS = range(1, 7)


def seed(db: Database, world: World, label: str,
          items: list[tuple[str, date, str, str | None, int, str | None]]) -> None:
    family = world.other_family if label == "other" else world.family
    with db.transaction() as tx:
        assert family_repo.find_membership(
            tx, _holder(db, world, label), family, lock=True) is not None
        tx_repo.insert_transactions(tx, family, world.accounts[label], [
            NewTransaction(provider_transaction_id=pid, status=TransactionStatus.BOOKED,
                           booked_on=day, booked_at=None, description=description,
                           merchant=merchant, amount_minor=minor, currency="GBP",
                           category=raw)
            for pid, day, description, merchant, minor, raw in items
        ])


def _holder(db: Database, world: World, label: str) -> UUID:
    row = db.fetch_one("SELECT holder_user_id FROM accounts WHERE id = :a",
                       {"a": world.accounts[label]})
    assert row is not None
    return UUID(str(row["holder_user_id"]))


def balance(db: Database, world: World, label: str, minor: int) -> None:
    with db.transaction() as tx:
        balance_repo.insert_balances(tx, world.family, world.accounts[label], [
            (datetime.combine(AS_OF, datetime.min.time(), UTC) + timedelta(hours=23), minor,
             "GBP")])


def tesco_days() -> list[date]:
    days, day = [], date(2025, 1, 2)
    while day <= AS_OF:
        days.append(day)
        day += timedelta(days=3 + len(days) % 3)
    return days


def tesco_amount(n: int) -> int:
    return -(1500 + (n * 2371) % 6000)


def build_insights_world(db: Database) -> World:
    """Family A with six months of history on the joint account, a transfer to savings each
    month, a private card subscription and the child's own spending; family B's own."""
    w = build_world(db, local_keyring(db), per_account=0)
    joint: list[tuple[str, date, str, str | None, int, str | None]] = []
    for month in MONTHS:
        joint += [
            (f"salary-{month}", date(2025, month, 25), "ACME LTD SALARY", "ACME Ltd", 250_000,
             None),
            (f"rent-{month}", date(2025, month, 1), "HOMELY LETTINGS RENT", None, -120_000,
             "STANDING_ORDER"),
            (f"netflix-{month}", date(2025, month, 15), "NETFLIX.COM", "Netflix", -1099, None),
            (f"to-savings-{month}", date(2025, month, 26), "TRANSFER TO SAVINGS", None,
             -25_000, "TRANSFER"),
        ]
    joint += [(f"tesco-{n}", day, f"TESCO STORES {1000 + n}", None, tesco_amount(n), None)
              for n, day in enumerate(tesco_days())]
    seed(db, w, "joint", joint)
    seed(db, w, "savings", [
        (f"from-joint-{month}", date(2025, month, 26), "TRANSFER FROM JOINT", None, 25_000,
         "TRANSFER") for month in MONTHS])
    seed(db, w, "private", [
        (f"spotify-{month}", date(2025, month, 3), "SPOTIFY P1234", "Spotify", -1199, None)
        for month in MONTHS])
    seed(db, w, "pocket", [("sweets-1", date(2025, 6, 7), "WHSMITH 0412", "WHSmith", -250,
                             None)] + [
        (f"pocket-{n}", date(2025, 5, 3) + timedelta(weeks=n), "POCKET MONEY", "Olivia Demo",
         500, None) for n in range(9)])
    seed(db, w, "other", [(f"b-netflix-{m}", date(2025, m, 15), "NETFLIX.COM", "Netflix",
                            -1099, None) for m in MONTHS])
    balance(db, w, "joint", 300_000)
    balance(db, w, "savings", 1_000_000)
    balance(db, w, "pocket", 4_000)
    return w


def refresh(world: World, family: UUID | None = None) -> uc.RefreshCounts:
    family = family or world.family
    accounts = [a for label, a in world.accounts.items()
                if (label == "other") == (family == world.other_family)]
    return uc.refresh_after_sync(world.db, family_id=family, account_ids=accounts, as_of=AS_OF)


