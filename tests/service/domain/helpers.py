"""Helpers of the domain tests: principals and a seeded family built through the use cases."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

from devtools.dev_issuer import DEV_ISSUER, DevIssuer
from service.audit import AuditKeys, AuditSigner
from service.banking.consent_state import issue_state
from service.crypto import FamilyKeyring, LocalDataKeyProvider, seal
from service.crypto.family_key_store import PostgresFamilyKeyStore
from service.db.port import Database
from service.domain.models import AccountType, Connection, Role, TransactionStatus, Visibility
from service.domain.principal import Principal
from service.repositories import accounts as account_repo
from service.repositories import audit as audit_sql
from service.repositories import balances as balance_repo
from service.repositories import connections as connection_repo
from service.repositories import families as family_repo
from service.repositories import transactions as tx_repo
from service.repositories.transactions import NewTransaction
from service.use_cases import families as families_uc
from service.use_cases import invitations as invitations_uc
from service.use_cases import me as me_uc
from service.use_cases._common import event, found, require_role
from service.workflows.targets import provider_ref_aad


def principal(name: str) -> Principal:
    """The dev-issuer principal of ``<name>@example.com`` (what API test tokens carry)."""
    email = f"{name}@example.com"
    return Principal(issuer=DEV_ISSUER, subject=DevIssuer.subject_for(email), email=email)


def local_key_provider() -> LocalDataKeyProvider:
    """A local key provider with a random master key (never written anywhere)."""
    return LocalDataKeyProvider(os.urandom(32))


def local_signer() -> AuditSigner:
    """An audit signer with a random key (kept by the test that needs to verify)."""
    return AuditSigner(AuditKeys.generate())


def local_keyring(db: Database) -> FamilyKeyring:
    """Local mode's family keys: a random master key over the ``family_keys`` table."""
    return FamilyKeyring(local_key_provider(), PostgresFamilyKeyStore(db))


@dataclass
class World:
    """Two families and a loner, built through the use cases.

    Family A: ``owner``, ``adult``, ``child``. Accounts: the owner's joint current
    account (family), the adult's savings (family), the adult's private card, the
    child's account (family). Family B: ``outsider`` with one account. ``loner`` has no
    family.
    """

    db: Database
    keys: FamilyKeyring
    signer: AuditSigner
    family: UUID
    other_family: UUID
    memberships: dict[str, UUID]
    accounts: dict[str, UUID]
    transactions: dict[str, list[UUID]] = field(default_factory=dict)
    connection: UUID | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def who(self, name: str) -> Principal:
        return principal(name)


ROLES_IN_A = {"owner": Role.OWNER, "adult": Role.ADULT, "child": Role.CHILD}
ACCOUNTS = {
    # name: (holder, visibility, type)
    "joint": ("owner", Visibility.FAMILY, AccountType.CURRENT),
    "savings": ("adult", Visibility.FAMILY, AccountType.SAVINGS),
    "private": ("adult", Visibility.PRIVATE, AccountType.CREDIT_CARD),
    "pocket": ("child", Visibility.FAMILY, AccountType.CURRENT),
    "other": ("outsider", Visibility.FAMILY, AccountType.CURRENT),
}


def _user_id(db: Database, name: str) -> UUID:
    row = db.fetch_one("SELECT id FROM users WHERE email = :e", {"e": f"{name}@example.com"})
    assert row is not None
    return UUID(str(row["id"]))


def build_world(
    db: Database, keys: FamilyKeyring, *, signer: AuditSigner | None = None, per_account: int = 3
) -> World:
    """Create both families, memberships, accounts and ``per_account`` transactions each.

    ``signer`` keys the audit entries (a fresh random key when omitted; see ``World.signer``).
    """
    signer = signer or local_signer()
    fam_a = families_uc.create_family(db, signer, principal("owner"), name="Family A")
    fam_b = families_uc.create_family(db, signer, principal("outsider"), name="Family B")
    me_uc.get_me(db, principal("loner"))
    for name, role in ROLES_IN_A.items():
        if role is Role.OWNER:
            continue
        issued = invitations_uc.invite(db, signer, principal("owner"), fam_a.id,
                                       email=f"{name}@example.com", role=role)
        invitations_uc.accept_invitation(db, signer, principal(name), issued.token)
    memberships = {
        r["email"].partition("@")[0]: UUID(str(r["id"]))
        for r in db.fetch_all(
            "SELECT m.id, u.email FROM memberships m JOIN users u ON u.id = m.user_id")
    }
    accounts: dict[str, UUID] = {}
    txns: dict[str, list[UUID]] = {}
    start = date(2025, 1, 31)
    for label, (holder, visibility, type_) in ACCOUNTS.items():
        family_id = fam_b.id if holder == "outsider" else fam_a.id
        with db.transaction() as tx:
            account = account_repo.insert_account(
                tx, family_id=family_id, holder_user_id=_user_id(db, holder),
                connection_id=None, provider_account_id=f"acc-{label}", name=f"{label} account",
                type_=type_, currency="GBP", visibility=visibility,
            )
            tx_repo.insert_transactions(tx, family_id, account.id, [
                NewTransaction(
                    provider_transaction_id=f"{label}-{i}",
                    status=TransactionStatus.PENDING if i == 0 else TransactionStatus.BOOKED,
                    booked_on=start - timedelta(days=i), booked_at=None,
                    description=f"{label} purchase {i}", merchant=f"Shop {label}",
                    amount_minor=-(100 * (i + 1)), currency="GBP", category="groceries",
                )
                for i in range(per_account)
            ])
            balance_repo.insert_balances(tx, family_id, account.id, [
                (datetime(2025, 1, 31 - d, tzinfo=UTC), 10_000 - d, "GBP") for d in range(3)
            ])
        accounts[label] = account.id
        txns[label] = [UUID(str(r["id"])) for r in db.fetch_all(
            "SELECT id FROM transactions WHERE account_id = :a ORDER BY booked_on DESC, id DESC",
            {"a": account.id})]
    connection = add_connection(db, signer, keys, principal("owner"), fam_a.id,
                                provider_ref="provider-conn-A")
    return World(db=db, keys=keys, signer=signer, family=fam_a.id, other_family=fam_b.id,
                 memberships=memberships, accounts=accounts, transactions=txns,
                 connection=connection.id)


TABLES = ("users", "families", "memberships", "invitations", "family_keys", "connections",
          "consent_states", "sync_runs", "sync_run_steps", "accounts", "balances",
          "transactions", "audit_log", "audit_heads", "category_rules", "recurring_series",
          "recurring_decisions")


def count_rows(db: Database) -> dict[str, int]:
    """Row count of every domain table (to prove a failed request wrote nothing)."""
    return {t: int(db.fetch_one(f"SELECT count(*) AS n FROM {t}")["n"])  # type: ignore[index]
            for t in TABLES}


def snapshot(db: Database) -> dict[str, list[str]]:
    """Every row of every domain table as text (to prove nothing changed at all)."""
    return {t: [r["r"] for r in db.fetch_all(f"SELECT x::text AS r FROM {t} x ORDER BY 1")]
            for t in TABLES}


def add_connection(
    db: Database, signer: AuditSigner, keyring: FamilyKeyring, who: Principal,
    family_id: UUID, *, provider: str = "truelayer", provider_ref: str | None = None,
    consent_expires_at: datetime | None = None,
) -> Connection:
    """An active connection made through the repositories the consent flow uses (no bank):
    pending with its state and audit entry, then completed. Raises like the use case does
    (404 outside the caller's families, 403 for children)."""
    now = datetime.now(UTC)
    connection_id = uuid4()
    provider_ref = provider_ref or f"provider-conn-{connection_id}"  # unique, like the bank's
    with db.transaction() as tx:
        scope, head = found(family_repo.lock_scope(tx, who, family_id))
        require_role(scope, Role.OWNER, Role.ADULT, to="connect bank accounts")
        sealed = seal(keyring.sealing_key(family_id), provider_ref,
                      provider_ref_aad(family_id, connection_id))
        state = issue_state(now)
        created = connection_repo.create_pending(
            tx, who, scope, connection_id=connection_id, provider=provider,
            visibility=Visibility.FAMILY, provider_ref=sealed,
            provider_ref_digest=connection_repo.provider_digest(provider, provider_ref),
            state_digest=state.digest,
            state_expires_at=state.expires_at, purpose="connect", replaces_id=None,
            entries=signer.seal(head, [event(scope.user_id, "connection.create",
                                             ("connection", connection_id))]),
        )
        assert created is not None
        head = audit_sql.lock_head(tx, family_id)
        done = connection_repo.complete(
            tx, connection_id=connection_id, family_id=family_id,
            consent_expires_at=consent_expires_at or now + timedelta(days=90),
            completed_at=now,
            entries=signer.seal(head, [event(scope.user_id, "connection.complete",
                                             ("connection", connection_id))]),
        )
        assert done is not None
        return done
