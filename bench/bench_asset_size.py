"""Size of the API Lambda asset: unzipped and zipped (MiB), largest top-level entries.

Builds (or reuses from ``.cache/``) the asset with ``constructs_lib.lambda_asset`` —
``service/requirements.lock`` installed for manylinux2014_aarch64 / CPython 3.14 plus the
``service/`` sources — and zips it with deflate like the CDK asset bundler would. Falls back
to ``pip install --target`` when the builder is not available.

Lambda limits for reference: 250 MiB unzipped (code + layers), 50 MiB zipped direct upload.

Run: ``.venv/bin/python bench/bench_asset_size.py``
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
MIB = 1024 * 1024


def build_asset_dir(scratch: Path) -> Path:
    try:
        from constructs_lib.lambda_asset import build_lambda_asset  # noqa: PLC0415
    except ImportError:
        target = scratch / "asset"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target),
             "--platform", "manylinux2014_aarch64", "--implementation", "cp",
             "--python-version", "3.14", "--only-binary=:all:",
             "-r", str(REPO / "service" / "requirements.lock")],
            check=True,
        )
        shutil.copytree(REPO / "service", target / "service",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        return target
    asset = build_lambda_asset(source_dir=REPO / "service",
                               cache_dir=REPO / ".cache" / "lambda-assets")
    print(f"asset {asset.asset_hash[:12]} ({'built now' if asset.built else 'cache hit'})")
    return asset.path


def tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def zipped_size(root: Path, scratch: Path) -> int:
    archive = scratch / "asset.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(root).as_posix())
    return archive.stat().st_size


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        root = build_asset_dir(scratch)
        unzipped = tree_size(root)
        zipped = zipped_size(root, scratch)
        files = sum(1 for p in root.rglob("*") if p.is_file())
        print(f"unzipped: {unzipped / MIB:7.2f} MiB  ({files} files)")
        print(f"zipped:   {zipped / MIB:7.2f} MiB  (deflate level 6)")
        entries = sorted(
            ((tree_size(p) if p.is_dir() else p.stat().st_size, p.name) for p in root.iterdir()),
            reverse=True,
        )
        print("largest top-level entries:")
        for size, name in entries[:8]:
            print(f"  {size / MIB:6.2f} MiB  {name}")
        service_dir = root / "service"
        if service_dir.is_dir():
            print(f"service sources: {tree_size(service_dir) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
