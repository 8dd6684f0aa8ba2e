"""Deleting a family while its members write to it: all or nothing (issue 7, finding 4).

Real concurrency on the embedded PostgreSQL: twelve consent writes (each creating a
connection row and, the first, the family's data key) race one deletion, for several
rounds. Every write holds the family row ``FOR SHARE`` until it commits and the deletion
takes it ``FOR UPDATE``, so after each round nothing of the family is left but its
tombstone and its audit chain.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.audit import AuditKeys, AuditSigner, verify_chain
from service.crypto import FamilyKeyring
from service.crypto.family_key_store import PostgresFamilyKeyStore
from service.db.postgres import PostgresDatabase
from service.domain.errors import NotFoundError
from service.domain.models import Role
from service.use_cases import families as families_uc
from service.use_cases import invitations as invitations_uc
from tests.service.domain.helpers import add_connection, local_key_provider, principal

ROUNDS = 7
WRITERS = 12
SIGNER = AuditSigner(AuditKeys.generate())


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_deletion_racing_consent_writes_leaves_nothing_behind(
    postgres_url: str, round_: int
) -> None:
    db = PostgresDatabase(postgres_url, max_idle_connections=WRITERS + 2)
    keyring = FamilyKeyring(local_key_provider(), PostgresFamilyKeyStore(db))
    owner, adult = principal("owner"), principal("adult")
    try:
        family = families_uc.create_family(db, SIGNER, owner, name=f"Race {round_}")
        issued = invitations_uc.invite(db, SIGNER, owner, family.id,
                                       email="adult@example.com", role=Role.ADULT)
        invitations_uc.accept_invitation(db, SIGNER, adult, issued.token)
        start = threading.Barrier(WRITERS + 1)

        def consent(n: int) -> str:
            start.wait()
            try:
                add_connection(db, SIGNER, keyring, adult if n % 2 else owner, family.id,
                               provider_ref=f"ref-{n}")
            except NotFoundError:
                return "refused"
            return "written"

        def delete() -> str:
            start.wait()
            families_uc.delete_family(db, SIGNER, keyring, owner, family.id)
            return "deleted"

        with ThreadPoolExecutor(max_workers=WRITERS + 1) as pool:
            writes = [pool.submit(consent, n) for n in range(WRITERS)]
            deletion = pool.submit(delete)
            outcomes = [w.result() for w in writes]
            assert deletion.result() == "deleted"

        left = {table: db.fetch_all(f"SELECT 1 FROM {table} WHERE family_id = :f",
                                    {"f": family.id})
                for table in ("connections", "memberships", "accounts", "invitations")}
        assert left == {key: [] for key in left}, (outcomes, left)
        assert keyring.store.get(family.id) is None, outcomes
        tomb = db.fetch_one("SELECT deleted_at FROM families WHERE id = :f", {"f": family.id})
        assert tomb is not None and tomb["deleted_at"] is not None
        result = verify_chain(db, SIGNER.keys, family_id=family.id)
        assert result.ok, result.problems
        actions = [r["action"] for r in db.fetch_all(
            "SELECT action FROM audit_log WHERE family_id = :f ORDER BY chain_index",
            {"f": family.id})]
        assert actions[-2:] == ["family.delete", "family.key.destroy"]
        assert actions.count("connection.create") == outcomes.count("written")
    finally:
        db.close()
