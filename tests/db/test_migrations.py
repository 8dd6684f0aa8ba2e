"""Migration runner, through both adapters."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from service.db.migrations import (
    DEFAULT_MIGRATIONS_DIR,
    MigrationError,
    load_migrations,
    migrations_checksum,
    upgrade,
)
from service.db.port import Database
from service.db.postgres import PostgresDatabase


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


SCRIPTS = {
    "9001_create_widgets.sql": """
        -- several statements, one of them with a ';' in a literal
        CREATE TABLE widgets (id bigint PRIMARY KEY, label text NOT NULL DEFAULT 'a;b');
        CREATE INDEX widgets_label ON widgets (label);
    """,
    "9002_slow_then_seed.sql": """
        SELECT pg_sleep(0.2);
        INSERT INTO widgets (id) VALUES (1);
        CREATE FUNCTION widget_count() RETURNS bigint LANGUAGE sql
            AS $$ SELECT count(*) FROM widgets; $$;
    """,
}


def test_upgrade_applies_each_file_once_in_order(database: Database, tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", SCRIPTS)
    assert upgrade(database, folder) == ["9001_create_widgets.sql", "9002_slow_then_seed.sql"]
    assert upgrade(database, folder) == []
    assert database.fetch_one("SELECT widget_count() AS n, (SELECT label FROM widgets) AS l") == {
        "n": 1,
        "l": "a;b",
    }
    recorded = database.fetch_all(
        "SELECT name, checksum, applied_at FROM schema_migrations"
        " WHERE name LIKE '9%' ORDER BY name"
    )
    assert [row["name"] for row in recorded] == list(SCRIPTS)
    checksums = {m.name: m.checksum for m in load_migrations(folder)}
    assert all(row["checksum"] == checksums[row["name"]] for row in recorded)
    assert all(row["applied_at"].tzinfo is not None for row in recorded)


def test_concurrent_runners_apply_each_file_exactly_once(
    database: Database, tmp_path: Path
) -> None:
    folder = _write(tmp_path / "m", SCRIPTS)
    results: list[list[str]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def run() -> None:
        start.wait()
        try:
            results.append(upgrade(database, folder))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    applied = sorted(name for result in results for name in result)
    assert applied == sorted(SCRIPTS)
    assert database.fetch_one("SELECT count(*) AS n FROM widgets") == {"n": 1}


def test_a_changed_applied_file_is_refused(database: Database, tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {"9001_create_widgets.sql": SCRIPTS["9001_create_widgets.sql"]})
    upgrade(database, folder)
    (folder / "9001_create_widgets.sql").write_text("CREATE TABLE widgets (id int);")
    _write(folder, {"9002_more.sql": "CREATE TABLE more_widgets (id int);"})
    with pytest.raises(MigrationError, match=r"9001_create_widgets\.sql was changed"):
        upgrade(database, folder)
    assert database.fetch_one("SELECT to_regclass('more_widgets') IS NULL AS absent") == {
        "absent": True
    }


def test_a_failing_migration_leaves_no_trace(database: Database, tmp_path: Path) -> None:
    folder = _write(
        tmp_path / "m",
        {"9001_half_broken.sql": "CREATE TABLE half (id int);\nSELECT no_such_function();"},
    )
    with pytest.raises(Exception, match="no_such_function"):
        upgrade(database, folder)
    assert database.fetch_one(
        "SELECT to_regclass('half') IS NULL AS absent,"
        " (SELECT count(*) FROM schema_migrations WHERE name LIKE '9%') AS n"
    ) == {"absent": True, "n": 0}


def test_upgrade_on_an_empty_database_creates_the_history(
    empty_postgres_url: str, tmp_path: Path
) -> None:
    db = PostgresDatabase(empty_postgres_url)
    try:
        folder = _write(tmp_path / "m", {"0001_first.sql": "CREATE TABLE first (id int);"})
        assert upgrade(db, folder) == ["0001_first.sql"]
        assert db.fetch_all("SELECT name FROM schema_migrations") == [{"name": "0001_first.sql"}]
    finally:
        db.close()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"1_bad.sql": "SELECT 1"}, "not named NNNN_name.sql"),
        ({"0001_a.sql": "SELECT 1", "0001_b.sql": "SELECT 1"}, "share number 0001"),
    ],
)
def test_inconsistent_folders_are_refused(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    with pytest.raises(MigrationError, match=message):
        load_migrations(_write(tmp_path / "m", files))


def test_the_migrations_checksum_covers_the_grants(tmp_path: Path) -> None:
    # Caches of migrated databases (the test template) must rebuild when only grants change.
    folder = tmp_path / "m"
    folder.mkdir()
    for path in DEFAULT_MIGRATIONS_DIR.iterdir():
        if path.is_file():
            (folder / path.name).write_bytes(path.read_bytes())
    before = migrations_checksum(folder)
    grants = folder / "grants.toml"
    grants.write_text(grants.read_text().replace('"UPDATE (chain_index, hash)"', ""))
    assert migrations_checksum(folder) != before
