"""Local-only secret material (dev issuer key, local master key) kept out of the repo.

Files live under ``Settings.local_dir`` (``.local/``, gitignored), are created atomically
with mode 0600, and are never used in Lambda.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def read_or_create(path: Path, create: Callable[[], bytes]) -> bytes:
    """Return the file's bytes, creating it with ``create()`` first if it does not exist.

    Concurrent callers (several test workers) all end up reading the same content: the
    file is written to a temporary name and linked into place only if still absent.
    """
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(create())
        os.chmod(tmp_name, 0o600)
        with contextlib.suppress(FileExistsError):  # another process won the race
            os.link(tmp_name, path)  # atomic
    finally:
        os.unlink(tmp_name)
    return path.read_bytes()
