"""The Docker-free Lambda asset builder: content hash, cache, lock check, real pip build."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from constructs_lib.lambda_asset import (
    DEFAULT_PLATFORM,
    LambdaPlatform,
    build_lambda_asset,
    pip_install,
)


class CountingInstaller:
    """Stands in for pip: writes a fake installed distribution and counts calls."""

    def __init__(self, dists: tuple[str, ...] = ("tinypkg-1.0",)) -> None:
        self.calls: list[Path] = []
        self.dists = dists
        self._lock = threading.Lock()

    def __call__(self, lock_file: Path, target: Path, platform: LambdaPlatform) -> None:
        with self._lock:
            self.calls.append(target)
        for dist in self.dists:
            (target / f"{dist}.dist-info").mkdir()
            (target / dist.split("-")[0]).mkdir()
            (target / dist.split("-")[0] / "__init__.py").write_text("VALUE = 1\n")
            (target / dist.split("-")[0] / "__pycache__").mkdir()
            (target / dist.split("-")[0] / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"x")
        (target / "bin").mkdir()
        (target / "bin" / "tool").write_text("#!/usr/bin/python3.11\n")


@pytest.fixture
def source_tree(tmp_path: Path) -> Path:
    src = tmp_path / "src" / "service"
    (src / "api").mkdir(parents=True)
    (src / "__init__.py").write_text("")
    (src / "lambda_handler.py").write_text("def handler(event, context):\n    return {}\n")
    (src / "api" / "routes.py").write_text("ROUTES = []\n")
    (src / "schema.sql").write_text("create table t (id int);\n")
    (src / "requirements.lock").write_text("# pinned\ntinypkg==1.0\n")
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "lambda_handler.cpython-311.pyc").write_bytes(b"junk")
    (src / "tests").mkdir()
    (src / "tests" / "test_x.py").write_text("def test(): pass\n")
    (src / "api" / "stale.pyc").write_bytes(b"junk")
    return src


def _build(source: Path, cache: Path, installer: CountingInstaller, **kw: object):  # type: ignore[no-untyped-def]
    return build_lambda_asset(source_dir=source, cache_dir=cache, installer=installer, **kw)  # type: ignore[arg-type]


def test_asset_contains_sources_and_deps_but_no_junk(source_tree: Path, tmp_path: Path) -> None:
    installer = CountingInstaller()
    asset = _build(source_tree, tmp_path / "cache", installer)

    assert asset.built
    assert (asset.path / "service" / "lambda_handler.py").is_file()
    assert (asset.path / "service" / "api" / "routes.py").is_file()
    assert (asset.path / "service" / "schema.sql").is_file()
    assert (asset.path / "tinypkg" / "__init__.py").is_file()
    assert not (asset.path / "service" / "tests").exists()
    assert not (asset.path / "service" / "__pycache__").exists()
    assert not (asset.path / "service" / "api" / "stale.pyc").exists()
    assert not (asset.path / "bin").exists()
    assert not list(asset.path.rglob("__pycache__"))
    assert asset.path.name == asset.asset_hash
    assert len(asset.asset_hash) == 64


def test_cache_hit_does_not_run_the_installer(source_tree: Path, tmp_path: Path) -> None:
    installer = CountingInstaller()
    first = _build(source_tree, tmp_path / "cache", installer)
    second = _build(source_tree, tmp_path / "cache", installer)

    assert len(installer.calls) == 1
    assert first.built and not second.built
    assert first.asset_hash == second.asset_hash
    assert first.path == second.path


def test_hash_is_stable_across_copies_of_the_same_tree(source_tree: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "service"
    shutil.copytree(source_tree, copy)
    a = _build(source_tree, tmp_path / "c1", CountingInstaller())
    b = _build(copy, tmp_path / "c2", CountingInstaller())
    assert a.asset_hash == b.asset_hash


@pytest.mark.parametrize(
    "change",
    ["edit_source", "add_source", "edit_lock", "rename_package", "other_platform"],
)
def test_hash_changes_when_an_input_changes(
    source_tree: Path, tmp_path: Path, change: str
) -> None:
    installer = CountingInstaller()
    before = _build(source_tree, tmp_path / "cache", installer)
    kw: dict[str, object] = {}
    if change == "edit_source":
        (source_tree / "api" / "routes.py").write_text("ROUTES = ['/v1']\n")
    elif change == "add_source":
        (source_tree / "api" / "new.py").write_text("")
    elif change == "edit_lock":
        (source_tree / "requirements.lock").write_text("tinypkg==1.0\nother==2.0\n")
        installer.dists = ("tinypkg-1.0", "other-2.0")
    elif change == "rename_package":
        kw["package_name"] = "app"
    else:
        kw["platform"] = LambdaPlatform(pip_platform="manylinux2014_x86_64")
    after = _build(source_tree, tmp_path / "cache", installer, **kw)

    assert after.asset_hash != before.asset_hash
    assert after.built
    # Dependencies are cached by lock + platform: a source change never re-runs pip.
    reinstalls = {"edit_lock": 1, "other_platform": 1}.get(change, 0)
    assert len(installer.calls) == 1 + reinstalls


def test_ignored_files_do_not_change_the_hash(source_tree: Path, tmp_path: Path) -> None:
    installer = CountingInstaller()
    before = _build(source_tree, tmp_path / "cache", installer)
    (source_tree / "__pycache__" / "more.cpython-311.pyc").write_bytes(b"more junk")
    (source_tree / "tests" / "test_y.py").write_text("")
    after = _build(source_tree, tmp_path / "cache", installer)
    assert after.asset_hash == before.asset_hash
    assert not after.built


def test_concurrent_builds_of_one_hash_run_the_installer_once(
    source_tree: Path, tmp_path: Path
) -> None:
    installer = CountingInstaller()
    barrier = threading.Barrier(4)
    results = []
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            results.append(_build(source_tree, tmp_path / "cache", installer))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not errors
    assert len(installer.calls) == 1
    assert len({r.path for r in results}) == 1
    assert sum(r.built for r in results) == 1
    # No half-built staging directories are left behind.
    leftovers = [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_assets_share_dependency_files_by_hard_link(source_tree: Path, tmp_path: Path) -> None:
    installer = CountingInstaller()
    first = _build(source_tree, tmp_path / "cache", installer)
    (source_tree / "api" / "routes.py").write_text("ROUTES = ['/v2']\n")
    second = _build(source_tree, tmp_path / "cache", installer)
    a = first.path / "tinypkg" / "__init__.py"
    b = second.path / "tinypkg" / "__init__.py"
    assert a.stat().st_ino == b.stat().st_ino
    assert (second.path / "service" / "api" / "routes.py").read_text() == "ROUTES = ['/v2']\n"
    assert (first.path / "service" / "api" / "routes.py").read_text() == "ROUTES = []\n"


def test_failed_build_leaves_no_cache_entry(source_tree: Path, tmp_path: Path) -> None:
    def broken(lock_file: Path, target: Path, platform: LambdaPlatform) -> None:
        (target / "partial").write_text("x")
        raise OSError("network down")

    with pytest.raises(OSError, match="network down"):
        build_lambda_asset(source_dir=source_tree, cache_dir=tmp_path / "cache", installer=broken)
    assert [p.name for p in (tmp_path / "cache").iterdir() if not p.name.endswith(".lock")] == []

    installer = CountingInstaller()
    asset = _build(source_tree, tmp_path / "cache", installer)
    assert asset.built and not (asset.path / "partial").exists()


def test_unpinned_distribution_fails_the_build(source_tree: Path, tmp_path: Path) -> None:
    installer = CountingInstaller(dists=("tinypkg-1.0", "sneaky_dep-0.1"))
    with pytest.raises(RuntimeError, match="sneaky-dep"):
        _build(source_tree, tmp_path / "cache", installer)
    allowed = _build(source_tree, tmp_path / "cache", installer, allowed_unlocked=["sneaky-dep"])
    assert allowed.built


def test_missing_inputs_are_reported(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        build_lambda_asset(source_dir=tmp_path / "nope", cache_dir=tmp_path / "c")
    (tmp_path / "pkg").mkdir()
    with pytest.raises(FileNotFoundError, match="lock"):
        build_lambda_asset(source_dir=tmp_path / "pkg", cache_dir=tmp_path / "c")


def test_real_pip_installs_a_pure_python_wheel_for_the_lambda_platform(
    source_tree: Path, tmp_path: Path
) -> None:
    """Runs real pip (PyPI) for arm64/cp3.14 with a tiny pure-Python wheel."""
    (source_tree / "requirements.lock").write_text("six==1.17.0\n")
    calls: list[Path] = []

    def counting_pip(lock_file: Path, target: Path, platform: LambdaPlatform) -> None:
        calls.append(target)
        pip_install(lock_file, target, platform)

    cache = tmp_path / "cache"
    first = build_lambda_asset(source_dir=source_tree, cache_dir=cache, installer=counting_pip)
    second = build_lambda_asset(source_dir=source_tree, cache_dir=cache, installer=counting_pip)

    assert (first.path / "six.py").is_file()
    assert list(first.path.glob("six-1.17.0.dist-info"))
    assert not list(first.path.rglob("*.pyc"))  # --no-compile: no host byte-code
    assert (first.path / "service" / "lambda_handler.py").is_file()
    assert len(calls) == 1 and not second.built


def test_the_service_lock_builds_for_arm64_python_3_14(tmp_path: Path) -> None:
    """The real ``service/requirements.lock``: native wheels are aarch64 / cp314 builds.

    Uses the real ``service/`` tree once it has a handler, else a minimal tree with
    the real lock; either way the build is cached under ``.cache/lambda-assets``.
    """
    root = Path(__file__).resolve().parents[2]
    source = root / "service"
    kw: dict[str, Path] = {"source_dir": source, "cache_dir": root / ".cache" / "lambda-assets"}
    if not (source / "lambda_handler.py").is_file():
        tree = tmp_path / "service"
        tree.mkdir()
        (tree / "__init__.py").write_text("")
        (tree / "lambda_handler.py").write_text("def handler(event, context):\n    return {}\n")
        kw = {**kw, "source_dir": tree, "lock_file": source / "requirements.lock"}
    asset = build_lambda_asset(**kw)

    assert (asset.path / "service" / "lambda_handler.py").is_file()
    assert (asset.path / "flask").is_dir()
    assert (asset.path / "pydantic_core").is_dir()
    assert not (asset.path / "boto3").exists()  # provided by the Lambda runtime
    native = [p.name for p in asset.path.rglob("*.so")]
    assert native, "expected compiled extensions (pydantic_core, cryptography)"
    assert not [n for n in native if "x86_64" in n]
    assert [n for n in native if "cpython-314-aarch64" in n]
    assert DEFAULT_PLATFORM.python_version == "3.14"


def test_pip_failure_raises_with_pips_own_diagnosis(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("this is not a requirement ==!\n")
    with pytest.raises(RuntimeError, match="pip could not install") as raised:
        pip_install(lock, tmp_path / "target", DEFAULT_PLATFORM)
    assert "requirement" in str(raised.value).lower()  # pip's message is carried along
