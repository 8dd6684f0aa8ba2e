"""The DESIGN section of the registry: every entry is used, every use names an entry."""

from __future__ import annotations

import re
from pathlib import Path

import constructs_lib
from constructs_lib.compliance.acknowledgements import DESIGN

LIBRARY = Path(constructs_lib.__file__).parent
_NAME = re.compile(r'"([A-Z][A-Za-z]+\.[a-z_]+)"')


def _names_used_by_constructs() -> set[str]:
    used: set[str] = set()
    for module in LIBRARY.glob("*.py"):
        used |= {n for n in _NAME.findall(module.read_text()) if n in DESIGN}
    return used


def test_every_design_entry_is_applied_by_a_construct() -> None:
    unused = set(DESIGN) - _names_used_by_constructs()
    assert not unused, f"stale DESIGN entries (no construct applies them): {sorted(unused)}"


def test_every_design_entry_has_a_reviewable_reason_and_rule_ids() -> None:
    for name, entry in DESIGN.items():
        assert entry.rule_ids, name
        assert len(entry.reason) >= 40, name
        assert name.split(".")[0] in entry.applies_to, name
