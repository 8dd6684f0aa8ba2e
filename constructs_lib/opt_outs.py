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

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import aws_cdk as cdk
from constructs import IConstruct

from constructs_lib.acceptance import accept

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
    accept(scope, opt_out.finding_ids, opt_out.reason, source="opt-out")


def unused_opt_outs(opt_outs: Iterable[OptOut], known_settings: Iterable[str]) -> list[OptOut]:
    """Opt-outs that name a setting the construct does not have (likely a typo)."""
    known = set(known_settings)
    return [o for o in opt_outs if o.setting not in known]


def weaken_if(
    scope: IConstruct,
    weakens: bool,
    *,
    setting: str,
    opt_outs: Iterable[OptOut],
    weakened: str,
) -> OptOut | None:
    """Require and record the opt-out for ``setting`` when ``weakens`` is true.

    Returns the matching :class:`OptOut`, or ``None`` when nothing is weakened.

    Raises
    ------
    SecureDefaultError
        If ``weakens`` is true and no opt-out names ``setting``.
    """
    if not weakens:
        return None
    return require_opt_out(scope, setting, opt_outs, weakened=weakened)


def reject_unknown_opt_outs(
    opt_outs: Iterable[OptOut], known_settings: Iterable[str], *,
    patterns: Iterable[str] = (),
) -> list[OptOut]:
    r"""The opt-outs addressed to this construct; raise if one names a setting it lacks.

    This is the one opt-out gate every construct calls first. A stage passes one list
    of opt-outs to all its constructs, so opt-outs for *other* constructs are ignored:
    only those whose ``"<Construct>."`` prefix matches one of ``known_settings`` are
    checked (this catches typos such as ``"SecureAuroraCluster.deletion_protect"``).

    Parameters
    ----------
    opt_outs:
        Everything the caller passed.
    known_settings:
        The construct's settings, ``"<Construct>.<setting>"``.
    patterns:
        Regular expressions for parameterised settings
        (``r"ServiceFunction\.environment\[[A-Z_]+\]"``).

    Raises
    ------
    SecureDefaultError
        Listing the unknown settings and the known ones.
    """
    known = sorted(set(known_settings))
    shapes = [re.compile(p) for p in patterns]
    prefixes = {setting.split(".", 1)[0] + "." for setting in known}
    mine = [o for o in opt_outs if any(o.setting.startswith(p) for p in prefixes)]
    unknown = [o for o in unused_opt_outs(mine, known)
               if not any(shape.fullmatch(o.setting) for shape in shapes)]
    if unknown:
        names = ", ".join(repr(o.setting) for o in unknown)
        raise SecureDefaultError(f"Unknown opt-out setting(s) {names}; known settings: "
                                 f"{known + [s.pattern for s in shapes]}.")
    return mine
