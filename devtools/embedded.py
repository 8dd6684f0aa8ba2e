"""An embedded PostgreSQL from the ``pgserver`` wheel: no system install, no Docker.

Several processes (pytest-xdist workers, the dev server, other test sessions)
may ask for the same data directory at once. ``pgserver`` serialises start-up
with a machine-wide lock and keeps a shared list of the processes using a data
directory, stopping the server when the last of them exits. The only race it
leaves is creating the directory itself, which is done here first, under a
file lock next to it.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from filelock import FileLock


def embedded_postgres_url(data_dir: Path, *, database: str = "postgres") -> str:
    """Start (or join) the embedded PostgreSQL in ``data_dir`` and return its URL.

    Parameters
    ----------
    data_dir:
        The cluster's data directory; created (with parents) if missing.
    database:
        The database the returned URL points at.

    Returns
    -------
    str
        A libpq URL reaching the server over a Unix socket, e.g.
        ``postgresql://postgres:@/postgres?host=/path/to/data``.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers) and falls back to /tmp.
        warnings.simplefilter("ignore")
        # Heavy import, and only the local profile installs it.
        from pgserver.postgres_server import get_server  # noqa: PLC0415

    data_dir = data_dir.expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(data_dir.parent / f".{data_dir.name}.lock")):
        data_dir.mkdir(exist_ok=True)
        server = get_server(data_dir, cleanup_mode="stop")
    url: str = server.get_uri(database)
    return url


def with_database(url: str, database: str) -> str:
    """Return ``url`` pointing at ``database`` instead (query, host and user kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(database, safe="")))
