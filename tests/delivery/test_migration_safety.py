"""The expand/contract check of migrations: one fixture per destructive kind, the marker."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from devtools.migration_safety import (
    ContractMarker,
    check_file,
    check_folder,
    check_text,
    main,
)
from service.db.migrations import DEFAULT_MIGRATIONS_DIR
from service.db.postgres import PostgresDatabase
from service.db.sql import split_statements

FIXTURES = Path(__file__).parent / "fixtures" / "migrations"


def kinds(name: str) -> list[tuple[int, str]]:
    return [(f.line, f.kind) for f in check_file(FIXTURES / name).findings]


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("drop_table.sql", [(2, "drop")]),
        ("drop_column.sql", [(1, "drop")]),
        ("drop_column_shorthand.sql", [(1, "drop")]),
        ("rename_table.sql", [(1, "rename")]),
        ("rename_column.sql", [(1, "rename")]),
        ("type_narrowing.sql", [(1, "type-change")]),
        ("set_data_type.sql", [(1, "type-change")]),
        ("set_not_null.sql", [(1, "not-null")]),
        ("add_not_null_without_default.sql", [(1, "not-null")]),
        ("several_in_one.sql", [(2, "drop"), (2, "not-null")]),
        ("do_block.sql", [(1, "opaque")]),
        ("composite_type_attributes.sql", [(2, "drop"), (3, "type-change")]),
    ],
)
def test_each_destructive_kind_fails_without_a_marker(
    fixture: str, expected: list[tuple[int, str]]
) -> None:
    report = check_file(FIXTURES / fixture)
    assert kinds(fixture) == expected
    assert report.marker is None
    assert not report.passed


def test_expanding_statements_and_lookalikes_in_literals_and_comments_pass() -> None:
    report = check_file(FIXTURES / "expand_only.sql")
    assert report.findings == ()
    assert report.passed


def test_a_reviewed_marker_accepts_the_contract_and_names_the_reviewer() -> None:
    report = check_file(FIXTURES / "reviewed_contract.sql")
    assert [f.kind for f in report.findings] == ["drop", "rename"]
    assert report.marker == ContractMarker(
        "alice",
        date(2026, 11, 30),
        "release 0.9 (the oldest that can be rolled back to) never reads legacy_weight or label",
    )
    assert report.passed


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("malformed_marker.sql", "line 1: malformed contract marker"),
        ("marker_below_header.sql", "line 2: the contract marker must be in the header"),
        ("impossible_date.sql", "'2026-02-30' is not a date"),
    ],
)
def test_a_malformed_or_misplaced_marker_is_an_error_not_an_acceptance(
    fixture: str, message: str
) -> None:
    report = check_file(FIXTURES / fixture)
    assert report.marker is None
    assert any(message in error for error in report.marker_errors), report.marker_errors
    assert not report.passed


def test_a_second_marker_is_refused() -> None:
    text = (
        "-- contract: reviewed-by alice 2026-11-30: first\n"
        "-- contract: reviewed-by bob 2026-11-30: second\n"
        "DROP TABLE widgets;\n"
    )
    report = check_text(text, Path("0009_x.sql"))
    assert report.marker is not None and report.marker.reviewer == "alice"
    assert report.marker_errors == ("line 2: a second contract marker",)
    assert not report.passed


def test_the_shipped_migrations_are_expand_only_or_reviewed() -> None:
    reports = check_folder(DEFAULT_MIGRATIONS_DIR)
    assert reports, "no migrations found"
    failing = [f.text() for r in reports if not r.passed for f in r.findings]
    errors = [e for r in reports for e in r.marker_errors]
    assert (failing, errors) == ([], [])


def test_the_command_exits_non_zero_and_prints_the_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE widgets (id int);")
    (tmp_path / "0002_bad.sql").write_text("\n\nALTER TABLE widgets RENAME TO gadgets;")
    assert main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL 0002_bad.sql:3: rename: ALTER TABLE widgets RENAME TO gadgets" in out
    assert "add the new name alongside the old one" in out
    assert "2 migration(s) checked, 1 failing" in out

    (tmp_path / "0002_bad.sql").write_text(
        "-- contract: reviewed-by bob 2026-12-01: nothing reads widgets since 0.8\n"
        "ALTER TABLE widgets RENAME TO gadgets;"
    )
    assert main([str(tmp_path)]) == 0
    assert "contract 0002_bad.sql: reviewed by bob on 2026-12-01" in capsys.readouterr().out


class _RollbackError(Exception):
    pass


def test_every_fixture_is_sql_postgresql_accepts(owner_postgres_db: PostgresDatabase) -> None:
    # The fixtures must be real statements, or the check would be tested against fiction.
    for path in sorted(FIXTURES.glob("*.sql")):
        with pytest.raises(_RollbackError), owner_postgres_db.transaction() as tx:
            tx.execute(
                "CREATE TABLE widgets (id bigint PRIMARY KEY, label text, legacy_weight int)"
            )
            for statement in split_statements(path.read_text()):
                tx.execute(statement)
            raise _RollbackError(path.name)


def test_an_alter_table_the_check_cannot_read_is_not_assumed_safe() -> None:
    report = check_text("ALTER TABLE widgets;", Path("0009_x.sql"))
    assert [f.kind for f in report.findings] == ["opaque"]
