"""The audit hash chain: appended in the use case's transaction, append-only, verifiable."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from service.audit import AuditEvent, append, verify_chain
from service.db.port import Database, DatabaseError
from service.db.postgres import PostgresDatabase
from service.domain.errors import PermissionDeniedError
from service.use_cases import families as families_uc
from service.use_cases import invitations as invitations_uc
from service.use_cases import transactions as tx_uc
from tests.service.domain.helpers import build_world, local_keyring, principal


def _tamper(url: str, sql: str) -> None:
    """Change audit rows as a superuser would: disable the guard trigger, change, re-enable."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
        conn.execute(sql.encode())
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete")


def test_intact_chain_verifies(postgres_db: Database) -> None:
    build_world(postgres_db, local_keyring(postgres_db))
    result = verify_chain(postgres_db)
    assert result.ok, result.problems
    assert result.families_checked == 2
    assert result.entries_checked == int(
        postgres_db.fetch_one("SELECT count(*) AS n FROM audit_log")["n"])  # type: ignore[index]


@pytest.mark.parametrize("sql, expected", [
    ("UPDATE audit_log SET action = 'nothing.happened' WHERE chain_index = 2",
     "does not match its hash"),
    ("UPDATE audit_log SET actor = 'user:someone-else' WHERE chain_index = 1",
     "does not match its hash"),
    ("UPDATE audit_log SET at = at + interval '1 second' WHERE chain_index = 2",
     "does not match its hash"),
    ("DELETE FROM audit_log WHERE chain_index = 2", "entry missing"),
    ("DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)", "head records"),
])
def test_tampering_is_detected(postgres_db: Database, postgres_owner_url: str, sql: str,
                               expected: str) -> None:
    build_world(postgres_db, local_keyring(postgres_db))
    assert verify_chain(postgres_db).ok
    _tamper(postgres_owner_url, sql)
    result = verify_chain(postgres_db)
    assert not result.ok
    assert any(expected in p for p in result.problems), result.problems


def test_rehashing_an_edit_still_breaks_the_next_link(postgres_db: Database,
                                                      postgres_owner_url: str) -> None:
    build_world(postgres_db, local_keyring(postgres_db))
    _tamper(postgres_owner_url, "UPDATE audit_log SET hash = repeat('a', 64) WHERE chain_index = 1")
    problems = verify_chain(postgres_db).problems
    assert any("prev_hash does not match" in p for p in problems)


@pytest.mark.parametrize("sql", [
    "UPDATE audit_log SET action = 'x'",
    "DELETE FROM audit_log",
    "TRUNCATE audit_log",
])
def test_audit_log_is_append_only_even_for_its_owner(postgres_db: Database, sql: str) -> None:
    build_world(postgres_db, local_keyring(postgres_db))
    with pytest.raises(DatabaseError):
        postgres_db.execute(sql)
    assert verify_chain(postgres_db).ok


def test_concurrent_appends_do_not_fork_the_chain(postgres_url: str) -> None:
    db = PostgresDatabase(postgres_url)
    try:
        family = families_uc.create_family(db, principal("owner"), name="Busy")

        def work(n: int) -> None:
            for i in range(8):
                with db.transaction() as tx:
                    append(tx, family.id, AuditEvent(f"user:{n}", "test.append", "n", str(i)))

        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(work, range(6)))
        result = verify_chain(db, family_id=family.id)
        assert result.ok, result.problems
        assert result.entries_checked == 1 + 6 * 8
        indexes = [r["chain_index"] for r in db.fetch_all(
            "SELECT chain_index FROM audit_log WHERE family_id = :f ORDER BY seq",
            {"f": family.id})]
        assert indexes == list(range(1, 50))
    finally:
        db.close()


def test_failed_use_case_leaves_no_audit_entry(postgres_db: Database) -> None:
    world = build_world(postgres_db, local_keyring(postgres_db))
    before = postgres_db.fetch_all("SELECT seq FROM audit_log")
    with pytest.raises(PermissionDeniedError):
        invitations_uc.invite(postgres_db, principal("adult"), world.family,
                              email="x@example.com", role=invitations_uc.Role.CHILD)
    assert postgres_db.fetch_all("SELECT seq FROM audit_log") == before


def test_reads_of_financial_data_are_audited_without_amounts(postgres_db: Database) -> None:
    world = build_world(postgres_db, local_keyring(postgres_db))
    tx_uc.list_transactions(postgres_db, principal("child"), world.family,
                            tx_uc.TransactionSearch())
    last = postgres_db.fetch_one("SELECT x::text AS r, actor, action, target_type, target_id "
                                 "FROM audit_log x ORDER BY seq DESC LIMIT 1")
    assert last is not None
    assert (last["action"], last["target_type"], last["target_id"]) == (
        "transactions.list", "family", str(world.family))
    assert last["actor"].startswith("user:") and "@" not in last["r"]
    assert "-100" not in last["r"] and "1.00" not in last["r"]
