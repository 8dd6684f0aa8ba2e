"""A realistic demo family for local runs (``flask --app service run-dev``).

The Demo Family: an owner, an adult and a child (all dev-issuer identities, so
``flask --app service dev-token demo.adult@example.com`` logs in as the adult), a bank
consent with sealed (fake) tokens, family and private accounts, ~200 UK transactions
over the last 90 days (GBP; the last two days pending) and a daily balance history.
Idempotent: a second call finds the family and does nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from service.audit import AuditSigner
from service.crypto import FamilyKeyring
from service.db.port import Database
from service.domain.models import AccountType, Role, TransactionStatus, Visibility
from service.domain.principal import Principal
from service.repositories import accounts, balances, families, transactions, users
from service.repositories.transactions import NewTransaction
from service.use_cases import families as families_uc
from service.use_cases import insights as insights_uc
from service.use_cases import invitations as invitations_uc
from service.use_cases import me as me_uc

DEMO_FAMILY_NAME = "The Demo Family"
DAYS = 90


@dataclass(frozen=True, slots=True)
class _Spend:
    merchant: str
    description: str
    category: str
    low: int  # pence
    high: int
    per_week: float


_EVERYDAY = (
    _Spend("Tesco", "TESCO STORES 2041 LONDON", "groceries", 1200, 9500, 2.0),
    _Spend("Sainsbury's", "SAINSBURYS S/MKT CLAPHAM", "groceries", 800, 6500, 1.0),
    _Spend("Pret A Manger", "PRET A MANGER KINGS X", "eating_out", 350, 1200, 1.5),
    _Spend("TfL", "TFL TRAVEL CH", "transport", 280, 1750, 2.5),
    _Spend("Boots", "BOOTS 1123 CROYDON", "health", 400, 3200, 0.4),
    _Spend("Amazon", "AMAZON.CO.UK*2K4L9", "shopping", 899, 4999, 0.6),
    _Spend("Costa Coffee", "COSTA COFFEE 43110", "eating_out", 290, 690, 1.0),
)
_MONTHLY = (
    # (day of month, merchant, description, category, pence)
    (1, "Octopus Energy", "OCTOPUS ENERGY DD", "bills", 14_250),
    (3, "Thames Water", "THAMES WATER DD", "bills", 3_890),
    (5, "Lambeth Council", "LAMBETH COUNCIL TAX DD", "bills", 18_700),
    (12, "Netflix", "NETFLIX.COM", "subscriptions", 1_099),
    (15, "Vodafone", "VODAFONE LTD DD", "bills", 2_400),
)


def _principal(email: str, issuer: str, subject_for: Callable[[str], str]) -> Principal:
    return Principal(issuer=issuer, subject=subject_for(email), email=email)


def _dev_identity() -> tuple[str, Callable[[str], str]]:
    from devtools.dev_issuer import DEV_ISSUER, DevIssuer  # noqa: PLC0415 - local only

    return DEV_ISSUER, DevIssuer.subject_for


def _existing_demo_family(db: Database, owner: Principal) -> UUID | None:
    with db.transaction() as tx:
        user = users.ensure_user(tx, owner)
        for family in families.families_of(tx, user.id):
            if family.name == DEMO_FAMILY_NAME and family.role is Role.OWNER:
                return family.id
    return None


def seed_demo(
    db: Database, keyring: FamilyKeyring, *, signer: AuditSigner,
    owner_email: str = "demo.owner@example.com",
    issuer: str | None = None, subject_for: Callable[[str], str] | None = None,
    today: date | None = None,
) -> UUID:
    """Create the demo family unless the owner already has it; return its id.

    Parameters
    ----------
    db, keyring:
        The application's database and family data keys.
    owner_email:
        The owner's email; the adult and child are ``demo.adult@`` / ``demo.child@`` the
        same domain.
    issuer, subject_for:
        Identity of the seeded users; defaults to the local dev issuer's, so dev tokens
        log in as them.
    today:
        Last day of the generated history (default: today, UTC).
    """
    if issuer is None or subject_for is None:
        issuer, subject_for = _dev_identity()
    domain = owner_email.partition("@")[2] or "example.com"
    people = {
        "owner": _principal(owner_email, issuer, subject_for),
        "adult": _principal(f"demo.adult@{domain}", issuer, subject_for),
        "child": _principal(f"demo.child@{domain}", issuer, subject_for),
    }
    existing = _existing_demo_family(db, people["owner"])
    if existing is not None:
        return existing
    family = families_uc.create_family(db, signer, people["owner"], name=DEMO_FAMILY_NAME)
    for name, role in (("adult", Role.ADULT), ("child", Role.CHILD)):
        issued = invitations_uc.invite(db, signer, people["owner"], family.id,
                                       email=people[name].email, role=role)
        invitations_uc.accept_invitation(db, signer, people[name], issued.token)
    for name, display in (("owner", "Olivia Demo"), ("adult", "Adam Demo"),
                          ("child", "Chloe Demo")):
        me_uc.update_me(db, people[name], display_name=display)
    # The demo history has no bank connection behind it (connections are made through the
    # consent flow against the sandbox bank); its accounts are unconnected.
    del keyring
    seeded = _seed_accounts(db, family.id, None, people, today or datetime.now(UTC).date())
    # What a sync's post-processing does: categories, recurring series (runway reads them).
    insights_uc.refresh_after_sync(db, family_id=family.id, account_ids=seeded, as_of=today)
    return family.id


def _seed_accounts(
    db: Database, family_id: UUID, connection_id: UUID | None, people: dict[str, Principal],
    today: date,
) -> list[UUID]:
    rng = random.Random(20250101)  # noqa: S311 - demo data, not security
    plan = (
        # label, holder, type, visibility, opening pence, salary pence, everyday share
        ("Joint Current Account", "owner", AccountType.CURRENT, Visibility.FAMILY,
         245_000, 310_000, 1.0),
        ("Family Savings", "adult", AccountType.SAVINGS, Visibility.FAMILY, 1_250_000, 0, 0.0),
        ("Adam's Credit Card", "adult", AccountType.CREDIT_CARD, Visibility.PRIVATE, 0, 0, 0.35),
        ("Chloe's Pocket Money", "child", AccountType.CURRENT, Visibility.FAMILY, 4_500, 0, 0.1),
    )
    start = today - timedelta(days=DAYS - 1)
    seeded: list[UUID] = []
    with db.transaction() as tx:
        for label, holder, type_, visibility, opening, salary, share in plan:
            holder_id = users.ensure_user(tx, people[holder]).id
            account = accounts.insert_account(
                tx, family_id=family_id, holder_user_id=holder_id, connection_id=connection_id,
                provider_account_id=f"demo-{label.lower().replace(' ', '-')}", name=label,
                type_=type_, currency="GBP", visibility=visibility,
            )
            items = _history(rng, label, start, today, salary=salary, share=share,
                             pocket=type_ is AccountType.CURRENT and holder == "child",
                             savings=type_ is AccountType.SAVINGS)
            transactions.insert_transactions(tx, family_id, account.id, items)
            balances.insert_balances(tx, family_id, account.id,
                                     _daily_balances(opening, items, start, today))
            seeded.append(account.id)
    return seeded


def _history(
    rng: random.Random, label: str, start: date, today: date, *, salary: int, share: float,
    pocket: bool, savings: bool,
) -> list[NewTransaction]:
    out: list[NewTransaction] = []

    def add(day: date, merchant: str, description: str, category: str, pence: int) -> None:
        pending = (today - day).days < 2
        out.append(NewTransaction(
            provider_transaction_id=f"{label[:8]}-{day.isoformat()}-{len(out)}",
            status=TransactionStatus.PENDING if pending else TransactionStatus.BOOKED,
            booked_on=day,
            booked_at=None if pending else datetime.combine(day, time(12), UTC)
            + timedelta(minutes=rng.randrange(600)),
            description=description, merchant=merchant, amount_minor=pence, currency="GBP",
            category=category,
        ))

    for offset in range((today - start).days + 1):
        day = start + timedelta(days=offset)
        if salary and day.day == 25:
            add(day, "ACME Ltd", "ACME LTD SALARY", "income", salary)
        if share == 1.0:
            for dom, merchant, description, category, pence in _MONTHLY:
                if day.day == dom:
                    add(day, merchant, description, category, -pence)
        if savings and day.day == 26:
            add(day, "Joint Current Account", "TRANSFER FROM JOINT", "transfer", 25_000)
        if pocket and day.weekday() == 5:
            add(day, "Olivia Demo", "POCKET MONEY", "income", 500)
            if rng.random() < 0.6:
                add(day, "WHSmith", "WHSMITH 0412", "shopping", -rng.randrange(199, 899))
        for spend in _EVERYDAY if share else ():
            if rng.random() < spend.per_week * share / 7:
                add(day, spend.merchant, spend.description, spend.category,
                    -rng.randrange(spend.low, spend.high))
    return out


def _daily_balances(
    opening: int, items: list[NewTransaction], start: date, today: date
) -> list[tuple[datetime, int, str]]:
    by_day: dict[date, int] = {}
    for item in items:
        if item.status is TransactionStatus.BOOKED:
            by_day[item.booked_on] = by_day.get(item.booked_on, 0) + item.amount_minor
    points = []
    balance = opening
    for offset in range((today - start).days + 1):
        day = start + timedelta(days=offset)
        balance += by_day.get(day, 0)
        points.append((datetime.combine(day, time(23, 59), UTC), balance, "GBP"))
    return points
