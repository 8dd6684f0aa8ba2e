"""Rule ids qualified by their pack's validation namespace.

cdk-nag 3 drops an acknowledged finding before the CDK sees it, so the audit
trail (which finding, where, why) is lost. An acknowledgement id qualified with
the pack's namespace (``"AwsSolutions::AwsSolutions-L1"``) is instead ignored by
cdk-nag and applied by aws-cdk-lib itself, which then lists the finding under
``suppressedViolations`` in ``validation-report.json`` with its reason and the
construct path it was acknowledged at. Matching is the same as cdk-nag's: the
exact id, on the resource or any ancestor.

:func:`constructs_lib.acceptance.accept` qualifies every id it records this way.
"""

from __future__ import annotations

from collections.abc import Iterable


def namespace_of(pack_name: str) -> str:
    """The validation namespace aws-cdk-lib derives from a plugin name."""
    return pack_name.replace(" ", "-")


def has_namespace(rule_id: str) -> bool:
    """Whether ``rule_id`` already names a namespace (``ns::rule``, outside brackets)."""
    head = rule_id.split("[", 1)[0]
    return "::" in head


def qualify(rule_id: str, pack_names: Iterable[str]) -> str:
    """``"<namespace>::<rule_id>"`` when ``rule_id`` belongs to one of ``pack_names``."""
    if has_namespace(rule_id):
        return rule_id
    for pack in pack_names:
        if rule_id.startswith(f"{pack}-"):
            return f"{namespace_of(pack)}::{rule_id}"
    return rule_id


def unqualify(rule_id: str) -> str:
    """The rule id without its namespace."""
    head, sep, tail = rule_id.partition("[")
    if "::" in head:
        head = head.split("::", 1)[1]
    return head + sep + tail
