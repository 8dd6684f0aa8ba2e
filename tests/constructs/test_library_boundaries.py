"""The library stands alone: imports neither app nor service, holds no path of theirs."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import constructs_lib

LIBRARY = Path(constructs_lib.__file__).resolve().parent
MODULES = sorted(p for p in LIBRARY.rglob("*.py") if "build" not in p.relative_to(LIBRARY).parts)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_the_library_imports_neither_the_app_nor_the_service() -> None:
    offenders = {p.relative_to(LIBRARY).as_posix(): sorted(_imports(p) & {"cdk_app", "service"})
                 for p in MODULES if _imports(p) & {"cdk_app", "service"}}
    assert offenders == {}


def test_the_library_holds_no_construct_path_of_the_platform_app() -> None:
    app_paths = re.compile(r'"(Data|Api|Edge)/[A-Z][A-Za-z]+/')
    offenders = [p.relative_to(LIBRARY).as_posix() for p in MODULES
                 if app_paths.search(p.read_text())]
    assert offenders == []


def test_the_distribution_lists_every_package_and_depends_only_on_cdk() -> None:
    project = tomllib.loads((LIBRARY / "pyproject.toml").read_text())
    packages = set(project["tool"]["setuptools"]["packages"])
    on_disk = {".".join(("constructs_lib", *p.parent.relative_to(LIBRARY).parts))
               for p in LIBRARY.rglob("__init__.py")
               if "build" not in p.relative_to(LIBRARY).parts}
    assert packages == on_disk
    names = {re.split(r"[<>=\[ ]", d, maxsplit=1)[0] for d in project["project"]["dependencies"]}
    assert names == {"aws-cdk-lib", "constructs", "cdk-nag"}
    assert (LIBRARY / "py.typed").exists() and (LIBRARY / "CHANGELOG.md").exists()
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["project"]["version"])
