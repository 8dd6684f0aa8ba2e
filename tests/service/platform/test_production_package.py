"""The Lambda asset (``service/``) holds production code only; dev tools live in ``devtools/``."""

from __future__ import annotations

import ast
from pathlib import Path

import devtools

REPO = Path(__file__).resolve().parents[3]
MOVED = ("local_data_api", "db/embedded.py", "demo.py", "auth/dev_issuer.py")


def test_dev_tools_are_not_in_the_service_package() -> None:
    assert [m for m in MOVED if (REPO / "service" / m).exists()] == []
    assert devtools.__doc__ == (
        "Tools for laptops and tests only; never shipped in the Lambda asset.")


def _module_level_devtools_imports(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), str(path))
    lines = []
    for node in tree.body:  # top level only: imports inside functions run on laptops only
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        if any(name == "devtools" or name.startswith("devtools.") for name in names):
            lines.append(node.lineno)
    return lines


def test_no_service_module_imports_devtools_at_import_time() -> None:
    offenders = {
        str(path.relative_to(REPO)): lines
        for path in sorted((REPO / "service").rglob("*.py"))
        if (lines := _module_level_devtools_imports(path))
    }
    assert offenders == {}
