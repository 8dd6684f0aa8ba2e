"""The benchmarks' Lambda environments stay valid as the service's settings evolve.

A benchmark is not run by the suite, so a required setting added to the service would
otherwise only surface as a crash the next time someone measures.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from service.settings import Settings

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cold_start_bench_environment_passes_the_lambda_startup_checks() -> None:
    settings = Settings.from_env(_load("bench_cold_start").LAMBDA_ENV)
    assert settings.is_lambda
    settings.check()
