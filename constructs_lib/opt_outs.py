"""Explicit, recorded opt-outs from the library's secure defaults.

Every construct in this library is secure by default. A caller that needs to
weaken a default (for example, no deletion protection on a disposable staging
database) must pass an :class:`OptOut` naming that exact setting and giving a
reason a reviewer can judge. Without it the construct raises
:class:`SecureDefaultError` at construction time.

An accepted opt-out is never silent: it is written to the construct's metadata
(``bank-grade:opt-out``), shown as a synthesis warning, and the compliance
findings it is expected to cause are acknowledged on that construct only, with
the opt-out's reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import aws_cdk as cdk
from constructs import IConstruct

OPT_OUT_METADATA_KEY = "bank-grade:opt-out"


class SecureDefaultError(ValueError):
    """A secure default was weakened without the matching named opt-out."""


@dataclass(frozen=True, slots=True)
class OptOut:
    """Permission to weaken one named secure default.

    Parameters
    ----------
    setting:
        The secure default being weakened, ``"<Construct>.<setting>"``,
        e.g. ``"SecureAuroraCluster.deletion_protection"``.
    reason:
        Why this is acceptable; recorded in metadata and the compliance report.
    finding_ids:
        Compliance rule ids this weakening is expected to trigger on the
        construct (e.g. ``"AwsSolutions-RDS10"``); they are acknowledged on the
        construct's scope only, with ``reason``.
    """

    setting: str
    reason: str
    finding_ids: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.reason.strip()) < 20:
            raise SecureDefaultError(
                f"Opt-out {self.setting!r} needs a reason a reviewer can judge "
                "(at least 20 characters)."
            )


def require_opt_out(
    scope: IConstruct,
    setting: str,
    opt_outs: Iterable[OptOut],
    *,
    weakened: str,
) -> OptOut:
    """Return the opt-out for ``setting`` and record it, or raise.

    Parameters
    ----------
    scope:
        The construct whose default is weakened; the record is attached here.
    setting:
        The named secure default, e.g. ``"PrivateNetwork.max_azs"``.
    opt_outs:
        The opt-outs the caller passed to the construct.
    weakened:
        A short description of what the caller asked for, used in the error.
    """
    for opt_out in opt_outs:
        if opt_out.setting == setting:
            record_opt_out(scope, opt_out)
            return opt_out
    raise SecureDefaultError(
        f"{weakened} weakens the secure default {setting!r}. Pass "
        f"OptOut(setting={setting!r}, reason=...) in opt_outs to accept it explicitly."
    )


def record_opt_out(scope: IConstruct, opt_out: OptOut) -> None:
    """Write ``opt_out`` to metadata, warn, and acknowledge its expected findings."""
    scope.node.add_metadata(
        OPT_OUT_METADATA_KEY,
        {"setting": opt_out.setting, "reason": opt_out.reason,
         "findings": list(opt_out.finding_ids)},
    )
    cdk.Annotations.of(scope).add_warning_v2(
        f"bank-grade:opt-out:{opt_out.setting}",
        f"Secure default {opt_out.setting} weakened: {opt_out.reason}",
    )
    if opt_out.finding_ids:
        cdk.Validations.of(scope).acknowledge(
            *(cdk.Acknowledgment(id=rule_id, reason=opt_out.reason)
              for rule_id in opt_out.finding_ids)
        )


def unused_opt_outs(opt_outs: Iterable[OptOut], known_settings: Iterable[str]) -> list[OptOut]:
    """Opt-outs that name a setting the construct does not have (likely a typo)."""
    known = set(known_settings)
    return [o for o in opt_outs if o.setting not in known]
