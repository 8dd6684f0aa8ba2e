"""RDS Data API permissions (``rds-data:*``) name exactly one cluster ARN.

The Data API authorises per cluster; a statement listing several clusters,
a wildcard, or an ARN the template cannot resolve lets the function reach
databases it has no business with.
"""

from __future__ import annotations

import re

from constructs_lib.compliance.cfn import Opaque, flatten, render
from constructs_lib.compliance.iam import Statement, policy_statements
from constructs_lib.compliance.model import Compliance, Resource, Template

_CLUSTER_ARN = re.compile(r"^arn:[^:*]+:rds:[^:*]+:[^:*]+:cluster:[^:*/]+$")


def _touches_data_api(statement: Statement) -> bool:
    return any(
        not isinstance(a, str) or a == "*" or a.lower().startswith("rds-data:")
        for a in statement.actions
    )


def _single_cluster(statement: Statement, template: Template) -> bool:
    if "NotResource" in statement.body or len(statement.resources) != 1:
        return False
    parts = flatten(statement.resources[0], template)
    if any(isinstance(p, Opaque) for p in parts):
        return False
    return bool(_CLUSTER_ARN.match(render(parts)))


def check(logical_id: str, resource: Resource, template: Template) -> Compliance:
    """Judge the resource's statements that allow Data API actions."""
    statements = [s for s in policy_statements(resource)
                  if s.allows and s.kind == "identity" and _touches_data_api(s)]
    if not statements:
        return Compliance.NOT_APPLICABLE
    ok = all(_single_cluster(s, template) for s in statements)
    return Compliance.COMPLIANT if ok else Compliance.NON_COMPLIANT
