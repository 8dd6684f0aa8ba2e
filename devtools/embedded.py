"""An embedded PostgreSQL from the ``pgserver`` wheel: no system install, no Docker.

Several processes (pytest-xdist workers, the dev server, other test sessions)
may ask for the same data directory at once. ``pgserver`` serialises start-up
with a machine-wide lock and keeps a shared list of the processes using a data
directory, stopping the server when the last of them exits. The only race it
leaves is creating the directory itself, which is done here first, under a
file lock next to it.

Roles as in Aurora: the ``postgres`` superuser plays the owner that migrates; every
other role must log in with its password (``pg_hba.conf`` is rewritten to
``scram-sha-256`` for them), so the application role's credentials are real here
too and a wrong or rotated-away password fails.
"""

from __future__ import annotations

import secrets
import warnings
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from filelock import FileLock

OWNER = "postgres"
_HBA = f"""# Written by devtools.embedded: the owner over the socket, everyone else by password.
local   all             {OWNER}                                 trust
local   all             all                                     scram-sha-256
host    all             {OWNER}         127.0.0.1/32            trust
host    all             all             127.0.0.1/32            scram-sha-256
"""


def _data_dir_lock(data_dir: Path) -> FileLock:
    return FileLock(str(data_dir.parent / f".{data_dir.name}.lock"))


def embedded_postgres_url(data_dir: Path, *, database: str = "postgres") -> str:
    """Start (or join) the embedded PostgreSQL in ``data_dir`` and return the owner's URL.

    Parameters
    ----------
    data_dir:
        The cluster's data directory; created (with parents) if missing.
    database:
        The database the returned URL points at.

    Returns
    -------
    str
        A libpq URL reaching the server over a Unix socket as the owner, e.g.
        ``postgresql://postgres:@/postgres?host=/path/to/data``.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers) and falls back to /tmp.
        warnings.simplefilter("ignore")
        # Heavy import, and only the local profile installs it.
        from pgserver.postgres_server import get_server  # noqa: PLC0415

    data_dir = data_dir.expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with _data_dir_lock(data_dir):
        data_dir.mkdir(exist_ok=True)
        server = get_server(data_dir, cleanup_mode="stop")
        url: str = server.get_uri(database)
        _require_passwords(data_dir, url)
    return url


def _require_passwords(data_dir: Path, owner_url: str) -> None:
    hba = data_dir / "pg_hba.conf"
    if hba.read_text() == _HBA:
        return
    import psycopg  # noqa: PLC0415 - local profile only

    hba.write_text(_HBA)
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute("SELECT pg_reload_conf()")


def with_database(url: str, database: str) -> str:
    """Return ``url`` pointing at ``database`` instead (query, host and user kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(database, safe="")))


def create_database(admin_url: str, prefix: str) -> str:
    """Create an empty database named ``<prefix>_<random>`` (benches); returns its name."""
    import psycopg  # noqa: PLC0415 - only these two helpers need the client library

    name = f"{prefix}_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"'.encode())
    return name


def drop_database(admin_url: str, name: str) -> None:
    """Drop database ``name`` if it exists, closing its connections."""
    import psycopg  # noqa: PLC0415

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def with_user(url: str, user: str, password: str) -> str:
    """Return ``url`` logging in as ``user`` with ``password`` (host, database kept)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    login = f"{quote(user, safe='')}:{quote(password, safe='')}@"
    return urlunsplit(parts._replace(netloc=login + host))


def ensure_role_password(owner_url: str, role: str, password_file: Path) -> str:
    """Give ``role`` the password kept in ``password_file`` (created once, 0600).

    Sets it only when logging in with it fails, under a file lock, so concurrent
    processes (test workers) neither race on ``ALTER ROLE`` nor reset each other.
    Returns the password.
    """
    import psycopg  # noqa: PLC0415 - local profile only

    from service.db.role_rotation import set_password_sql  # noqa: PLC0415
    from service.local_files import read_or_create  # noqa: PLC0415

    password = read_or_create(password_file, lambda: secrets.token_urlsafe(24).encode()).decode()
    role_url = with_user(owner_url, role, password)
    with FileLock(str(password_file) + ".lock"):
        try:
            psycopg.connect(role_url).close()
        except psycopg.OperationalError:
            with psycopg.connect(owner_url, autocommit=True) as conn:
                conn.execute(set_password_sql(role, password).encode())
    return password


def embedded_app_database_url(data_dir: Path, *, database: str = "postgres") -> str:
    """The embedded database migrated by its owner, as a URL of the application role.

    What ``make dev`` and local runs without ``DATABASE_URL`` use: migrations and grants
    run as the owner, the app connects as the role of ``service/migrations/grants.toml``.
    """
    from service.db.migrations import DEFAULT_MIGRATIONS_DIR, load_grants, upgrade  # noqa: PLC0415
    from service.db.postgres import PostgresDatabase  # noqa: PLC0415

    owner_url = embedded_postgres_url(data_dir, database=database)
    owner = PostgresDatabase(owner_url)
    try:
        upgrade(owner)
    finally:
        owner.close()
    grants = load_grants(DEFAULT_MIGRATIONS_DIR)
    assert grants is not None, "service/migrations/grants.toml is missing"
    folder = data_dir.expanduser().resolve().parent
    password_file = folder / f"{data_dir.name}-{grants.role}.password"
    password = ensure_role_password(owner_url, grants.role, password_file)
    return with_user(owner_url, grants.role, password)
