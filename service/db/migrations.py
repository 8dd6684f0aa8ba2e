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

Roles: migrations run as the owner of the schema. After every run, in one more
transaction under the same lock, :func:`apply_grants` makes the application role
(API and workers) match ``grants.toml`` exactly: created if missing (a race with a
runner in another database of the cluster is tolerated), checked to hold no
attribute or membership beyond LOGIN, everything revoked, then only the listed
table privileges granted. The app role owns nothing, so it can never alter, disable,
drop or truncate.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from service.db.port import Database, DatabaseError, Executor
from service.db.role_rotation import create_role_sql
from service.db.sql import split_statements

if TYPE_CHECKING:
    from service.settings import Settings

DEFAULT_MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
MIGRATIONS_TABLE = "schema_migrations"
# Arbitrary but fixed: int64 from the first 8 bytes of sha256("service.db.migrations").
LOCK_KEY = int.from_bytes(hashlib.sha256(b"service.db.migrations").digest()[:8], "big", signed=True)

GRANTS_FILE = "grants.toml"

_FILE_NAME = re.compile(r"^\d{4}_[A-Za-z0-9_\-]+\.sql$")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PRIVILEGE = re.compile(
    r"^(SELECT|INSERT|DELETE|UPDATE)(?: \(([a-z_][a-z0-9_]*(?:, [a-z_][a-z0-9_]*)*)\))?$"
)

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
    """One checksum over every migration file and the grants (names and contents).

    Keys caches of migrated databases (e.g. the test template).
    """
    digest = hashlib.sha256()
    for migration in load_migrations(migrations_dir) if migrations_dir.is_dir() else []:
        digest.update(f"{migration.name}:{migration.checksum}\n".encode())
    grants = migrations_dir / GRANTS_FILE
    if grants.is_file():
        digest.update(b"grants:" + hashlib.sha256(grants.read_bytes()).hexdigest().encode())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Grants:
    """The application role and its table privileges, as declared in ``grants.toml``."""

    role: str
    tables: Mapping[str, tuple[str, ...]]


def load_grants(migrations_dir: Path) -> Grants | None:
    """Read ``grants.toml`` from ``migrations_dir``; ``None`` if the folder has none.

    Raises
    ------
    MigrationError
        If the file is malformed: a bad role or table name or an unknown privilege.
    """
    path = migrations_dir / GRANTS_FILE
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise MigrationError(f"{GRANTS_FILE} is not valid TOML: {exc}") from exc
    role = data.get("role")
    tables = data.get("tables")
    if not isinstance(role, str) or not _IDENTIFIER.match(role):
        raise MigrationError(f"{GRANTS_FILE}: 'role' must be a lower-case SQL identifier")
    if not isinstance(tables, dict):
        raise MigrationError(f"{GRANTS_FILE}: a [tables] section is required")
    parsed: dict[str, tuple[str, ...]] = {}
    for table, privileges in tables.items():
        if not _IDENTIFIER.match(table):
            raise MigrationError(f"{GRANTS_FILE}: {table!r} is not a table name")
        if not isinstance(privileges, list) or not all(
            isinstance(p, str) and _PRIVILEGE.match(p) for p in privileges
        ):
            raise MigrationError(
                f"{GRANTS_FILE}: privileges of {table!r} must be a list of SELECT, INSERT, "
                "UPDATE or DELETE, optionally with columns: \"UPDATE (a, b)\""
            )
        parsed[table] = tuple(privileges)
    return Grants(role=role, tables=parsed)


_ROLE_STATE = """
SELECT r.rolsuper OR r.rolcreatedb OR r.rolcreaterole OR r.rolreplication OR r.rolbypassrls
           AS privileged,
       EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.member = r.oid) AS member_of_roles,
       EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid
               UNION ALL SELECT 1 FROM pg_proc p WHERE p.proowner = r.oid
               UNION ALL SELECT 1 FROM pg_namespace n WHERE n.nspowner = r.oid) AS owns_objects
FROM pg_roles r WHERE r.rolname = :role
"""

_PUBLIC_TABLES = f"""
SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
  AND c.relname <> '{MIGRATIONS_TABLE}'
ORDER BY c.relname
"""  # noqa: S608

_OWNED_SEQUENCES = """
SELECT s.relname AS name FROM pg_class s
JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass
                 AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE s.relkind = 'S' AND n.nspname = 'public' AND t.relname = :table
"""


def apply_grants(tx: Executor, grants: Grants) -> None:
    """Make the app role hold exactly ``grants`` (call in a transaction, as the owner).

    Raises
    ------
    MigrationError
        If a table in schema ``public`` has no entry (or an entry names no table), or
        the role holds attributes, memberships or objects it must not have.
    """
    role = grants.role
    # Roles are cluster-wide: a runner migrating another database may create it first.
    tx.execute(create_role_sql(role))
    state = tx.fetch_one(_ROLE_STATE, {"role": role})
    if state is None:
        raise MigrationError(f"role {role} could not be created")
    if state["privileged"] or state["member_of_roles"] or state["owns_objects"]:
        raise MigrationError(
            f"the application role {role} must be a plain LOGIN role that owns nothing and "
            "belongs to no other role; fix it by hand (as the owner) before migrating"
        )
    existing = [str(row["name"]) for row in tx.fetch_all(_PUBLIC_TABLES)]
    unlisted = sorted(set(existing) - set(grants.tables))
    unknown = sorted(set(grants.tables) - set(existing))
    if unlisted or unknown:
        raise MigrationError(
            f"{GRANTS_FILE} must list every table of schema public exactly: "
            + "; ".join(
                part
                for part in (
                    f"no entry for {', '.join(unlisted)}" if unlisted else "",
                    f"no such table {', '.join(unknown)}" if unknown else "",
                )
                if part
            )
        )
    tx.execute(
        f"""DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO "{role}"',
                                        current_database()); END $$"""
    )
    tx.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    tx.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
    tx.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"')
    tx.execute(f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM "{role}"')
    tx.execute(f'REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM "{role}"')
    for table, privileges in grants.tables.items():
        if privileges:
            tx.execute(f'GRANT {", ".join(privileges)} ON TABLE "{table}" TO "{role}"')
        if "INSERT" in privileges:
            for row in tx.fetch_all(_OWNED_SEQUENCES, {"table": table}):
                tx.execute(f'GRANT USAGE ON SEQUENCE "{row["name"]}" TO "{role}"')


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
        Folder of ``NNNN_name.sql`` files (and ``grants.toml``, applied after the
        migrations on every call); defaults to ``service/migrations``.

    Raises
    ------
    MigrationError
        If an applied file's checksum changed, or the folder is inconsistent.
        Nothing is applied in that case. Also when the grants do not match the schema.
    """
    folder = migrations_dir or DEFAULT_MIGRATIONS_DIR
    migrations = load_migrations(folder) if folder.is_dir() else []
    grants = load_grants(folder) if folder.is_dir() else None
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
    if grants is not None:
        with db.transaction() as tx:
            _lock_and_read(tx)
            apply_grants(tx, grants)
    return done


def owner_database(settings: Settings, *, rds_data_client: object | None = None) -> Database:
    """The database as its owner: what migrations (and only migrations) run as.

    Aurora: the cluster with ``DB_OWNER_SECRET_ARN``. A URL: ``DATABASE_OWNER_URL``, else
    ``DATABASE_URL`` (a server of your own). Neither: the embedded PostgreSQL's owner.

    Raises
    ------
    MigrationError
        If a cluster is configured without the owner secret.
    """
    from service.db import connect  # noqa: PLC0415 - adapters import lazily

    if settings.db_cluster_arn:
        if not settings.db_owner_secret_arn:
            raise MigrationError("DB_OWNER_SECRET_ARN is required to migrate the cluster")
        return connect(cluster_arn=settings.db_cluster_arn,
                       secret_arn=settings.db_owner_secret_arn,
                       database_name=settings.db_name, rds_data_client=rds_data_client)
    url = settings.database_owner_url or settings.database_url
    if url:
        return connect(database_url=url)
    from devtools.embedded import embedded_postgres_url  # noqa: PLC0415 - laptops only

    return connect(database_url=embedded_postgres_url(settings.local_dir / "pg"))
