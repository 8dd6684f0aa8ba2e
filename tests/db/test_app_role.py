"""The application role: what the API and workers connect as can change data, never the schema.

Every refusal is checked through both adapters (psycopg as the app role's URL, and the
Data API with the app role's secret) on a migrated database with a real audit chain.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import psycopg
import pytest

from devtools.embedded import with_database, with_user
from service.audit import AuditEvent, append, init_chain, verify_chain
from service.db.migrations import (
    DEFAULT_MIGRATIONS_DIR,
    MigrationError,
    load_grants,
    upgrade,
)
from service.db.port import Database, DatabaseError
from service.db.postgres import PostgresDatabase
from tests.fixtures.postgres import _create_database, _drop_database

FORBIDDEN = [
    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete",
    "ALTER TABLE audit_log DISABLE TRIGGER ALL",
    "SET session_replication_role = replica",
    "DROP TRIGGER audit_log_no_update_delete ON audit_log",
    "DROP TRIGGER audit_heads_forward_only ON audit_heads",
    "TRUNCATE audit_log",
    "TRUNCATE audit_heads",
    "TRUNCATE transactions",
    "UPDATE audit_log SET action = 'nothing.happened'",
    "DELETE FROM audit_log",
    "DELETE FROM audit_heads",
    "UPDATE audit_heads SET family_id = gen_random_uuid()",
    "DROP TABLE audit_log",
    "ALTER TABLE families ADD COLUMN x int",
    "CREATE TABLE scratch (x int)",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "ALTER FUNCTION audit_log_append_only() OWNER TO CURRENT_USER",
    "CREATE ROLE intruder",
    "SELECT * FROM schema_migrations",
    "GRANT postgres TO CURRENT_USER",
    "SET ROLE postgres",
]


def _family(owner: Database) -> uuid.UUID:
    row = owner.fetch_one("INSERT INTO families (name) VALUES ('Chain') RETURNING id")
    assert row is not None
    return uuid.UUID(str(row["id"]))


def _chain(db: Database, family_id: uuid.UUID, entries: int) -> None:
    with db.transaction() as tx:
        init_chain(tx, family_id)
        for n in range(entries):
            append(tx, family_id, AuditEvent(actor="user:test", action=f"test.{n}",
                                             target_type="family", target_id=str(family_id)))


@pytest.mark.parametrize("sql", FORBIDDEN)
def test_the_app_role_cannot_alter_disable_drop_or_rewrite(
    app_database: Database, owner_postgres_db: Database, sql: str
) -> None:
    family_id = _family(owner_postgres_db)
    _chain(app_database, family_id, 2)
    before = owner_postgres_db.fetch_all("SELECT * FROM audit_log ORDER BY seq")

    with pytest.raises(DatabaseError):
        app_database.execute(sql)

    assert owner_postgres_db.fetch_all("SELECT * FROM audit_log ORDER BY seq") == before
    assert owner_postgres_db.fetch_one(
        "SELECT count(*) AS n FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass "
        "AND tgenabled = 'O' AND NOT tgisinternal") == {"n": 3}


@pytest.mark.parametrize("sql", [
    # Back to an earlier entry (a rewind hides the tail).
    "UPDATE audit_heads SET chain_index = 1, hash = (SELECT hash FROM audit_log "
    "WHERE chain_index = 1 AND family_id = audit_heads.family_id)",
    # Forward, but to an index with no entry / a hash that is not the entry's.
    "UPDATE audit_heads SET chain_index = 9, hash = repeat('a', 64)",
    "UPDATE audit_heads SET chain_index = chain_index + 1, hash = repeat('b', 64)",
    # An entry appended without moving the head.
    "INSERT INTO audit_log (family_id, chain_index, actor, action, target_type, at, "
    "prev_hash, hash) SELECT family_id, chain_index + 1, 'user:x', 'forged', 'family', now(), "
    "hash, repeat('c', 64) FROM audit_heads",
])
def test_the_app_role_cannot_move_a_head_off_the_chain_tail(
    app_database: Database, owner_postgres_db: Database, sql: str
) -> None:
    family_id = _family(owner_postgres_db)
    _chain(app_database, family_id, 2)
    heads = owner_postgres_db.fetch_all("SELECT * FROM audit_heads")

    with pytest.raises(DatabaseError):
        app_database.execute(sql)

    assert owner_postgres_db.fetch_all("SELECT * FROM audit_heads") == heads
    assert owner_postgres_db.fetch_one("SELECT count(*) AS n FROM audit_log") == {"n": 2}


def test_a_new_head_must_start_at_index_zero(
    app_database: Database, owner_postgres_db: Database
) -> None:
    family_id = _family(owner_postgres_db)
    with pytest.raises(DatabaseError):
        app_database.execute(
            "INSERT INTO audit_heads (family_id, chain_index, hash) VALUES (:f, 5, :h)",
            {"f": family_id, "h": "d" * 64},
        )


def test_appends_by_the_app_role_still_verify(app_database: Database,
                                              owner_postgres_db: Database) -> None:
    family_id = _family(owner_postgres_db)
    _chain(app_database, family_id, 3)
    _chain(app_database, family_id, 2)
    assert owner_postgres_db.fetch_one(
        "SELECT chain_index FROM audit_heads WHERE family_id = :f", {"f": family_id}
    ) == {"chain_index": 5}
    assert verify_chain(app_database, family_id=family_id).ok


def test_the_app_role_is_a_plain_login_that_owns_nothing(
    postgres_url: str, app_role: str
) -> None:
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (app_role,)
        row = conn.execute(
            """SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls,
                      rolcanlogin FROM pg_roles WHERE rolname = current_user"""
        ).fetchone()
        owned = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
        ).fetchone()
        memberships = conn.execute(
            "SELECT count(*) FROM pg_auth_members WHERE member = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
        ).fetchone()
    assert row == (False, False, False, False, False, True)
    assert owned == (0,) and memberships == (0,)


def test_the_app_role_needs_its_password(postgres_url: str, app_role: str) -> None:
    wrong = with_user(postgres_url, app_role, "wrong-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong).close()


def test_every_table_has_exactly_the_declared_privileges(
    owner_postgres_db: Database, app_role: str
) -> None:
    grants = load_grants(DEFAULT_MIGRATIONS_DIR)
    assert grants is not None
    rows = owner_postgres_db.fetch_all(
        """SELECT table_name, privilege_type FROM information_schema.role_table_grants
           WHERE grantee = :role ORDER BY 1, 2""", {"role": app_role})
    held: dict[str, set[str]] = {}
    for row in rows:
        held.setdefault(row["table_name"], set()).add(row["privilege_type"])
    declared = {t: {p.split(" ")[0] for p in ps if " " not in p} for t, ps in grants.tables.items()}
    assert {t: ps for t, ps in held.items() if ps} == {t: ps for t, ps in declared.items() if ps}
    assert "TRUNCATE" not in set().union(*held.values())
    columns = owner_postgres_db.fetch_all(
        """SELECT column_name FROM information_schema.column_privileges
           WHERE grantee = :role AND table_name = 'audit_heads' AND privilege_type = 'UPDATE'
           ORDER BY 1""", {"role": app_role})
    assert [c["column_name"] for c in columns] == ["chain_index", "hash"]


def _copy_migrations(tmp_path: Path, grants_text: str) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for sql in DEFAULT_MIGRATIONS_DIR.glob("*.sql"):
        (folder / sql.name).write_bytes(sql.read_bytes())
    (folder / "grants.toml").write_text(grants_text)
    return folder


def test_a_table_without_a_grants_line_fails_the_run(
    empty_postgres_url: str, tmp_path: Path
) -> None:
    text = (DEFAULT_MIGRATIONS_DIR / "grants.toml").read_text()
    folder = _copy_migrations(tmp_path, text)
    (folder / "0099_new_table.sql").write_text("CREATE TABLE budgets (id int PRIMARY KEY)")
    db = PostgresDatabase(empty_postgres_url)
    try:
        with pytest.raises(MigrationError, match="no entry for budgets"):
            upgrade(db, folder)
        (folder / "grants.toml").write_text(text + 'budgets = ["SELECT"]\n')
        upgrade(db, folder)
        assert db.fetch_one(
            "SELECT has_table_privilege('app_runtime', 'budgets', 'SELECT') AS r, "
            "has_table_privilege('app_runtime', 'budgets', 'INSERT') AS w"
        ) == {"r": True, "w": False}
    finally:
        db.close()


def test_grants_are_reapplied_by_every_run(empty_postgres_url: str) -> None:
    db = PostgresDatabase(empty_postgres_url)
    try:
        upgrade(db)
        db.execute("GRANT TRUNCATE, UPDATE ON audit_log TO app_runtime")  # drift
        assert upgrade(db) == []
        assert db.fetch_one(
            "SELECT has_table_privilege('app_runtime', 'audit_log', 'TRUNCATE') AS t, "
            "has_table_privilege('app_runtime', 'audit_log', 'UPDATE') AS u"
        ) == {"t": False, "u": False}
    finally:
        db.close()


def test_a_privileged_app_role_stops_the_run(empty_postgres_url: str, pg_admin_url: str,
                                             tmp_path: Path) -> None:
    role = f"app_{uuid.uuid4().hex[:12]}"
    text = (DEFAULT_MIGRATIONS_DIR / "grants.toml").read_text()
    folder = _copy_migrations(tmp_path, text.replace('role = "app_runtime"', f'role = "{role}"'))
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN CREATEROLE'.encode())
    db = PostgresDatabase(empty_postgres_url)
    try:
        with pytest.raises(MigrationError, match="plain LOGIN role"):
            upgrade(db, folder)
    finally:
        db.close()
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(f'DROP OWNED BY "{role}"'.encode())
            admin.execute(f'DROP ROLE "{role}"'.encode())


def test_concurrent_runs_in_different_databases_create_the_role_once(
    pg_admin_url: str, tmp_path: Path
) -> None:
    # Roles are cluster-wide and advisory locks per database: both runs race on CREATE ROLE.
    role = f"app_{uuid.uuid4().hex[:12]}"
    text = (DEFAULT_MIGRATIONS_DIR / "grants.toml").read_text()
    folder = _copy_migrations(tmp_path, text.replace('role = "app_runtime"', f'role = "{role}"'))
    names = [f"test_{uuid.uuid4().hex}" for _ in range(3)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(names))

    def run(name: str) -> None:
        db = PostgresDatabase(with_database(pg_admin_url, name))
        try:
            barrier.wait()
            upgrade(db, folder)
        except BaseException as exc:
            errors.append(exc)
        finally:
            db.close()

    for name in names:
        _create_database(pg_admin_url, name)
    try:
        threads = [threading.Thread(target=run, args=(name,)) for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with psycopg.connect(pg_admin_url) as admin:
            assert admin.execute(
                "SELECT count(*) FROM pg_roles WHERE rolname = %s", [role]).fetchone() == (1,)
    finally:
        for name in names:
            _drop_database(pg_admin_url, name)
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(f'DROP ROLE IF EXISTS "{role}"'.encode())
