"""Forward-only schema migrations that run through either adapter.

Files are named ``NNNN_description.sql`` and applied in name order, each once,
each in its own transaction, and recorded in ``schema_migrations`` (name,
SHA-256 checksum, applied_at). A file may hold several statements separated by
``;`` — the script is split outside string literals, quoted identifiers,
dollar-quoted bodies and comments, because the Data API runs one statement per
call. Statements that cannot run inside a transaction block (``CREATE INDEX
CONCURRENTLY``, ``VACUUM``) are therefore not supported.

Concurrency: every migration transaction first takes
``pg_advisory_xact_lock(key)``. Both adapters keep one database session for the
whole transaction (the Data API does too, between ``BeginTransaction`` and
``CommitTransaction``), so the lock serialises runners and is released by the
commit or rollback — no session-level lock that a stateless Data API call could
leak. Under the lock the runner re-reads ``schema_migrations``, so a file that
a concurrent runner applied meanwhile is skipped.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from service.db.port import Database, DatabaseError, Executor
from service.db.sql import split_statements

DEFAULT_MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
MIGRATIONS_TABLE = "schema_migrations"
# Arbitrary but fixed: int64 from the first 8 bytes of sha256("service.db.migrations").
LOCK_KEY = int.from_bytes(hashlib.sha256(b"service.db.migrations").digest()[:8], "big", signed=True)

_FILE_NAME = re.compile(r"^\d{4}_[A-Za-z0-9_\-]+\.sql$")

_CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(DatabaseError):
    """The migrations directory or the recorded history is inconsistent."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file."""

    name: str
    checksum: str
    statements: tuple[str, ...]


def load_migrations(migrations_dir: Path) -> list[Migration]:
    """Read ``NNNN_name.sql`` files from ``migrations_dir`` in order.

    Raises
    ------
    MigrationError
        If two files share a number, or a ``.sql`` file is misnamed.
    """
    migrations: list[Migration] = []
    seen_numbers: dict[str, str] = {}
    for path in sorted(migrations_dir.glob("*.sql")):
        if not _FILE_NAME.match(path.name):
            raise MigrationError(f"migration file {path.name!r} is not named NNNN_name.sql")
        number = path.name[:4]
        if number in seen_numbers:
            raise MigrationError(
                f"migrations {seen_numbers[number]!r} and {path.name!r} share number {number}"
            )
        seen_numbers[number] = path.name
        raw = path.read_bytes()
        migrations.append(
            Migration(
                name=path.name,
                checksum=hashlib.sha256(raw).hexdigest(),
                statements=tuple(split_statements(raw.decode("utf-8"))),
            )
        )
    return migrations


def migrations_checksum(migrations_dir: Path) -> str:
    """One checksum over every migration file (names and contents), e.g. to key a cache."""
    digest = hashlib.sha256()
    for migration in load_migrations(migrations_dir) if migrations_dir.is_dir() else []:
        digest.update(f"{migration.name}:{migration.checksum}\n".encode())
    return digest.hexdigest()


def _lock_and_read(tx: Executor) -> dict[str, str]:
    tx.execute("SELECT pg_advisory_xact_lock(:key)", {"key": LOCK_KEY})
    tx.execute(_CREATE_TABLE)
    rows = tx.fetch_all(f"SELECT name, checksum FROM {MIGRATIONS_TABLE}")  # noqa: S608
    return {str(row["name"]): str(row["checksum"]) for row in rows}


def _verify(applied: dict[str, str], migrations: list[Migration]) -> None:
    for migration in migrations:
        recorded = applied.get(migration.name)
        if recorded is not None and recorded != migration.checksum:
            raise MigrationError(
                f"migration {migration.name} was changed after it was applied "
                f"(recorded checksum {recorded[:12]}…, file {migration.checksum[:12]}…); "
                "add a new migration instead of editing an applied one"
            )


def upgrade(db: Database, migrations_dir: Path | None = None) -> list[str]:
    """Apply every pending migration and return the names applied by this call.

    Parameters
    ----------
    db:
        Either adapter.
    migrations_dir:
        Folder of ``NNNN_name.sql`` files; defaults to ``service/migrations``.

    Raises
    ------
    MigrationError
        If an applied file's checksum changed, or the folder is inconsistent.
        Nothing is applied in that case.
    """
    folder = migrations_dir or DEFAULT_MIGRATIONS_DIR
    migrations = load_migrations(folder) if folder.is_dir() else []
    with db.transaction() as tx:
        applied = _lock_and_read(tx)
    _verify(applied, migrations)

    done: list[str] = []
    for migration in migrations:
        if migration.name in applied:
            continue
        with db.transaction() as tx:
            applied = _lock_and_read(tx)
            _verify(applied, migrations)
            if migration.name in applied:
                continue  # a concurrent runner got here first
            for statement in migration.statements:
                tx.execute(statement)
            tx.execute(
                f"INSERT INTO {MIGRATIONS_TABLE} (name, checksum) VALUES (:name, :checksum)",  # noqa: S608
                {"name": migration.name, "checksum": migration.checksum},
            )
        done.append(migration.name)
    return done
