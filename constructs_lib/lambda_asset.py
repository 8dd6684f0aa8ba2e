"""Build a Python Lambda asset without Docker, cached by content hash.

The asset is a directory holding the locked runtime dependencies, installed for
the Lambda platform (``manylinux2014_aarch64``, CPython 3.14, binary wheels
only), plus the source of one package (``source_dir``).

Builds are cached under ``./.cache/lambda-assets/<hash>`` (or ``cache_dir``) where the hash
covers the lock file, every copied source file (path and bytes), the builder
version and the target platform. The installed dependencies are cached on their
own (``deps-<hash of lock + builder version + platform>``), so editing the
package source re-assembles the asset (hard links + a copy of the sources) but
never re-runs pip. A cache hit never runs pip, so repeated synths and parallel
test workers are fast. Concurrent builds of the same hash (pytest
workers, two synths) are serialised with a file lock (``fcntl``); a build happens in a
temporary directory that is renamed into place only when complete, so a reader
never sees a half-built asset.

Use the result with a custom asset hash so CDK does not re-hash tens of
megabytes on every synth::

    asset = build_lambda_asset(source_dir=Path("ledger"))
    code = asset.code()  # lambda_.Code.from_asset(path, asset_hash=..., CUSTOM)

Dependencies are resolved by pip from the pinned lock (no ``--no-deps``) and the
result is checked against it: a distribution pip installed that the lock does
not pin fails the build, so the same hash always means the same contents.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_cdk import aws_lambda as lambda_

__all__ = [
    "BUILDER_VERSION",
    "DEFAULT_PLATFORM",
    "LambdaAsset",
    "LambdaPlatform",
    "PipInstaller",
    "build_lambda_asset",
    "pip_install",
]

# Bump when the build recipe changes in a way that alters the produced files.
BUILDER_VERSION = "1"

DEFAULT_CACHE_DIR = Path(".cache") / "lambda-assets"
"""Relative to the working directory (the app's root when ``cdk``/the gate runs)."""

_SKIP_DIRS = frozenset({"__pycache__", "tests", "test", ".mypy_cache", ".pytest_cache",
                        ".ruff_cache"})
_SKIP_SUFFIXES = (".pyc", ".pyo")
_LOCK_LINE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==")


@dataclass(frozen=True, slots=True)
class LambdaPlatform:
    """The Lambda runtime the dependencies are installed for."""

    pip_platform: str = "manylinux2014_aarch64"
    implementation: str = "cp"
    python_version: str = "3.14"

    def key(self) -> str:
        """A stable string identifying this platform in the cache key."""
        return f"{self.implementation}{self.python_version}-{self.pip_platform}"


DEFAULT_PLATFORM = LambdaPlatform()

PipInstaller = Callable[[Path, Path, LambdaPlatform], None]
"""``(lock_file, target_dir, platform) -> None``: installs the locked deps into target."""


def pip_install(lock_file: Path, target: Path, platform: LambdaPlatform) -> None:
    """Install ``lock_file`` into ``target`` for ``platform`` with the current pip.

    ``--no-compile`` because byte-code compiled by the build machine's Python is
    useless (and misleading) on the Lambda runtime.

    Raises
    ------
    RuntimeError
        If pip fails; the message carries pip's output.
    """
    cmd = [
        sys.executable, "-m", "pip", "install",
        "--quiet", "--disable-pip-version-check", "--no-input", "--no-compile",
        "--target", str(target),
        "--platform", platform.pip_platform,
        "--implementation", platform.implementation,
        "--python-version", platform.python_version,
        "--only-binary=:all:",
        "--requirement", str(lock_file),
    ]
    # pip's output is noise on success (synth output is the compliance summary) and the
    # diagnosis on failure, so it is shown only then.
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(
            f"pip could not install {lock_file} for {platform.pip_platform} "
            f"cp{platform.python_version}:\n{result.stdout}{result.stderr}"
        )


@dataclass(frozen=True, slots=True)
class LambdaAsset:
    """A built asset directory and its content hash.

    Attributes
    ----------
    path:
        Directory to zip as the Lambda code (dependencies + package source).
    asset_hash:
        SHA-256 (hex) over lock, sources, builder version and platform.
    built:
        ``True`` if this call ran the build, ``False`` on a cache hit.
    """

    path: Path
    asset_hash: str
    built: bool

    def code(self) -> lambda_.Code:
        """Lambda code for this asset, hashed by :attr:`asset_hash` (not by CDK)."""
        import aws_cdk as cdk  # noqa: PLC0415 - keep CDK (jsii/Node) out of plain builds
        from aws_cdk import aws_lambda as lambda_  # noqa: PLC0415

        return lambda_.Code.from_asset(
            str(self.path),
            asset_hash=self.asset_hash,
            asset_hash_type=cdk.AssetHashType.CUSTOM,
        )


def build_lambda_asset(
    *,
    source_dir: Path,
    lock_file: Path | None = None,
    package_name: str | None = None,
    cache_dir: Path | None = None,
    platform: LambdaPlatform = DEFAULT_PLATFORM,
    installer: PipInstaller = pip_install,
    allowed_unlocked: Sequence[str] = (),
) -> LambdaAsset:
    """Build (or reuse from cache) the Lambda asset for a Python package.

    Parameters
    ----------
    source_dir:
        The package directory to ship (e.g. ``Path("service")``).
    lock_file:
        Pinned requirements (``name==version`` lines); default
        ``<source_dir>/requirements.lock``.
    package_name:
        Directory name of the package inside the asset; default ``source_dir.name``.
    cache_dir:
        Where built assets are kept; default ``./.cache/lambda-assets``.
    platform:
        Target Lambda platform for binary wheels.
    installer:
        Installs the lock into a directory; the default runs pip. Injectable so
        other build tools (or tests) can observe or replace the install step.
    allowed_unlocked:
        Distribution names pip may install although the lock does not pin them.

    Returns
    -------
    LambdaAsset
        The asset directory, its hash, and whether this call built it.

    Examples
    --------
    >>> asset = build_lambda_asset(source_dir=Path("service"))  # doctest: +SKIP
    >>> fn = lambda_.Function(..., code=asset.code())      # doctest: +SKIP
    """
    source = source_dir.resolve()
    lock = (lock_file or source / "requirements.lock").resolve()
    name = package_name or source.name
    cache = (cache_dir or DEFAULT_CACHE_DIR).resolve()
    if not source.is_dir():
        raise FileNotFoundError(f"Lambda source directory {source} does not exist")
    if not lock.is_file():
        raise FileNotFoundError(f"Lambda lock file {lock} does not exist")

    files = sorted(_source_files(source), key=lambda p: p.as_posix())
    deps_digest = _deps_hash(lock, platform, allowed_unlocked)
    digest = _hash(deps_digest, source, files, name)
    final = cache / digest
    if final.is_dir():
        return LambdaAsset(path=final, asset_hash=digest, built=False)

    cache.mkdir(parents=True, exist_ok=True)
    deps, _ = _cached_build(
        cache, f"deps-{deps_digest}",
        lambda staging: _install_deps(installer, lock, staging, platform, allowed_unlocked),
    )

    def assemble(staging: Path) -> None:
        shutil.copytree(deps, staging, dirs_exist_ok=True, copy_function=_link_or_copy)
        for rel in files:
            dest = staging / name / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / rel, dest)

    _, built = _cached_build(cache, digest, assemble)
    return LambdaAsset(path=final, asset_hash=digest, built=built)


def _cached_build(
    cache: Path, name: str, build: Callable[[Path], None]
) -> tuple[Path, bool]:
    """Return ``cache/name`` and whether this call built it; build once if missing.

    The build writes into a private temporary directory that is renamed into
    place only when complete, under a per-entry file lock.
    """
    final = cache / name
    if final.is_dir():
        return final, False
    with _locked(cache / f"{name}.lock"):
        if final.is_dir():  # another process finished it while we waited
            return final, False
        staging = Path(tempfile.mkdtemp(prefix=f".{name[:18]}-", dir=cache))
        try:
            build(staging)
            os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return final, True


def _install_deps(
    installer: PipInstaller,
    lock: Path,
    target: Path,
    platform: LambdaPlatform,
    allowed_unlocked: Sequence[str],
) -> None:
    installer(lock, target, platform)
    _check_against_lock(target, lock, allowed_unlocked)
    _strip(target)


def _link_or_copy(src: str, dst: str) -> object:
    """Hard-link unchanged dependency files into the asset; copy across filesystems."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def _source_files(source: Path) -> Iterator[Path]:
    """Paths (relative to ``source``) of the package files to ship."""
    for root, dirs, names in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        base = Path(root)
        for file_name in names:
            if file_name.endswith(_SKIP_SUFFIXES) or file_name.startswith("."):
                continue
            if file_name.startswith("test_") and file_name.endswith(".py"):
                continue
            yield (base / file_name).relative_to(source)


def _deps_hash(lock: Path, platform: LambdaPlatform, allowed_unlocked: Sequence[str]) -> str:
    h = hashlib.sha256()
    for part in (f"builder={BUILDER_VERSION}", f"platform={platform.key()}",
                 f"unlocked={sorted(_normalise(n) for n in allowed_unlocked)}"):
        h.update(part.encode() + b"\0")
    h.update(lock.read_bytes())
    return h.hexdigest()


def _hash(deps_digest: str, source: Path, files: Sequence[Path], name: str) -> str:
    h = hashlib.sha256()
    h.update(f"deps={deps_digest}\0package={name}\0".encode())
    for rel in files:
        h.update(b"\0file\0" + rel.as_posix().encode() + b"\0")
        h.update((source / rel).read_bytes())
    return h.hexdigest()


def _normalise(dist_name: str) -> str:
    return re.sub(r"[-_.]+", "-", dist_name).lower()


def _locked_names(lock: Path) -> set[str]:
    names: set[str] = set()
    for line in lock.read_text().splitlines():
        match = _LOCK_LINE.match(line)
        if match:
            names.add(_normalise(match.group(1)))
    return names


def _check_against_lock(target: Path, lock: Path, allowed_unlocked: Sequence[str]) -> None:
    installed = {
        _normalise(d.name[: -len(".dist-info")].rsplit("-", 1)[0])
        for d in target.glob("*.dist-info")
    }
    extra = installed - _locked_names(lock) - {_normalise(n) for n in allowed_unlocked}
    if extra:
        raise RuntimeError(
            f"{lock} is incomplete: pip also installed {sorted(extra)}; pin them in the lock "
            "so the asset hash always describes the asset contents."
        )


def _strip(target: Path) -> None:
    """Remove files that only bloat the asset (console scripts, byte-code caches)."""
    shutil.rmtree(target / "bin", ignore_errors=True)
    for cache in list(target.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (other processes building the same hash wait)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
