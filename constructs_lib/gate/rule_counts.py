"""How many rules each pack evaluates, for the "rules evaluated" column.

cdk-nag packs do not expose their rule list (``ruleIds`` is unset), so the
count is read from the installed cdk-nag bundle: one ``this.applyRule(`` call
per rule in ``lib/packs/<pack>.js``.
"""

from __future__ import annotations

import functools
import tarfile
from pathlib import Path

from constructs_lib.compliance.packs import bank_grade

_PACK_FILES = {
    "AwsSolutions": "aws-solutions.js",
    "NIST.800.53.R5": "nist-800-53-r5.js",
    "PCI.DSS.321": "pci-dss-321.js",
    "HIPAA.Security": "hipaa-security.js",
    "Serverless": "serverless.js",
}


@functools.cache
def _cdk_nag_counts() -> dict[str, int]:
    import cdk_nag  # noqa: PLC0415 - only needed for its install location

    bundles = sorted((Path(cdk_nag.__file__).parent / "_jsii").glob("cdk-nag@*.jsii.tgz"))
    if not bundles:
        return {}
    counts: dict[str, int] = {}
    with tarfile.open(bundles[-1]) as bundle:
        for pack, filename in _PACK_FILES.items():
            member = bundle.extractfile(f"package/lib/packs/{filename}")
            if member is not None:
                counts[pack] = member.read().decode().count("this.applyRule(")
    return counts


def rules_in_pack(pack: str) -> int | None:
    """Number of rules ``pack`` evaluates, or ``None`` when unknown."""
    if pack == bank_grade.PACK_NAME:
        return len(bank_grade.RULES)
    return _cdk_nag_counts().get(pack)
