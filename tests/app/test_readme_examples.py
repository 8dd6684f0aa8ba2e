"""The README's construct examples are the example app's code, verbatim."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "examples" / "ledger_app" / "ledger" / "stack.py"
_REGION = re.compile(r"# --8<-- \[start:(\w+)\]\n(.*?)\n\s*# --8<-- \[end:\1\]", re.S)


def _regions() -> dict[str, str]:
    return {m.group(1): textwrap.dedent(m.group(2)) for m in _REGION.finditer(STACK.read_text())}


def test_the_example_marks_the_regions_the_readme_shows() -> None:
    assert set(_regions()) == {"data", "api"}


@pytest.mark.parametrize("name", ["data", "api"])
def test_readme_block_is_copied_from_the_example(name: str) -> None:
    assert f"```python\n{_regions()[name]}\n```" in (ROOT / "README.md").read_text()
