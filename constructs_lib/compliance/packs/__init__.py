"""Every compliance pack the gate runs, as CDK validation plugins."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import cdk_nag

from constructs_lib.compliance.packs import bank_grade

# Pack name (as reported by the plugin, and the prefix of its rule ids) -> factory.
_FACTORIES: dict[str, Callable[[], cdk.IPolicyValidationPlugin]] = {
    "AwsSolutions": cdk_nag.AwsSolutionsChecks,
    "NIST.800.53.R5": cdk_nag.NIST80053R5Checks,
    "PCI.DSS.321": cdk_nag.PCIDSS321Checks,
    "HIPAA.Security": cdk_nag.HIPAASecurityChecks,
    "Serverless": cdk_nag.ServerlessChecks,
}

PACK_NAMES: tuple[str, ...] = (*_FACTORIES, bank_grade.PACK_NAME)
"""Names of the packs the gate runs, in report order."""


def new_packs() -> list[cdk.IPolicyValidationPlugin]:
    """Fresh instances of every pack (cdk-nag packs, then BankGrade)."""
    from constructs_lib.compliance.plugin import RulePackPlugin  # noqa: PLC0415 - cycle

    return [factory() for factory in _FACTORIES.values()] + [RulePackPlugin.bank_grade()]
