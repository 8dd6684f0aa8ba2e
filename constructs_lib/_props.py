"""Tiny helpers shared by constructs: secure defaults under caller props, gated opt-outs.

The API is deliberately small and stable (other constructs import it):

- :func:`merge_defaults` -- secure defaults with the caller's extra props laid on top,
  refusing to let the caller silently replace a *locked* (security-relevant) key.
- :func:`weaken_if` -- call :func:`~constructs_lib.opt_outs.require_opt_out` only when a
  requested value actually weakens a default.
- :func:`as_retention` / :func:`retention_days` -- CloudWatch Logs retention from and to days
  (the jsii enum carries no day count).
- :func:`reject_unknown_opt_outs` -- fail fast on an opt-out addressed to this construct
  that names a setting it does not have (a typo would otherwise be silently ignored).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from aws_cdk import aws_logs as logs
from constructs import IConstruct

from constructs_lib.opt_outs import OptOut, SecureDefaultError, require_opt_out, unused_opt_outs

__all__ = [
    "MIN_LOG_RETENTION_DAYS",
    "as_retention",
    "merge_defaults",
    "reject_unknown_opt_outs",
    "retention_days",
    "weaken_if",
]

_RETENTION_BY_DAYS: dict[int, str] = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS",
    30: "ONE_MONTH", 60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS",
    150: "FIVE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR", 400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1096: "THREE_YEARS", 1827: "FIVE_YEARS",
    2192: "SIX_YEARS", 2557: "SEVEN_YEARS", 2922: "EIGHT_YEARS", 3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}
_DAYS_BY_NAME = {name: days for days, name in _RETENTION_BY_DAYS.items()}

#: The floor for every log group the library creates: a year of evidence (PCI DSS 10.7).
MIN_LOG_RETENTION_DAYS = 365


def merge_defaults(
    defaults: Mapping[str, Any],
    overrides: Mapping[str, Any] | None = None,
    *,
    locked: Collection[str] = (),
) -> dict[str, Any]:
    """Return ``defaults`` updated with ``overrides``.

    Parameters
    ----------
    defaults:
        The construct's secure defaults.
    overrides:
        Extra props from the caller (``None`` means none).
    locked:
        Keys of ``defaults`` the caller may not replace through ``overrides``; such a
        setting has a dedicated typed prop (gated by an opt-out) instead.

    Raises
    ------
    SecureDefaultError
        If ``overrides`` tries to set a locked key.
    """
    extra = dict(overrides or {})
    clash = sorted(set(extra) & set(locked))
    if clash:
        raise SecureDefaultError(
            f"Props {clash} are security-relevant and cannot be overridden directly; "
            "use the construct's typed prop together with an OptOut."
        )
    return {**defaults, **extra}


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


def reject_unknown_opt_outs(opt_outs: Iterable[OptOut], known_settings: Iterable[str]) -> None:
    """Raise if an opt-out addresses this construct but names a setting it does not have.

    A stage passes one list of opt-outs to all its constructs, so opt-outs for *other*
    constructs are ignored: only those whose ``"<Construct>."`` prefix matches one of
    ``known_settings`` are checked (this catches typos such as
    ``"SecureAuroraCluster.deletion_protect"``).

    Raises
    ------
    SecureDefaultError
        Listing the unknown settings and the known ones.
    """
    known = sorted(set(known_settings))
    prefixes = {setting.split(".", 1)[0] + "." for setting in known}
    mine = [o for o in opt_outs if any(o.setting.startswith(p) for p in prefixes)]
    unknown = unused_opt_outs(mine, known)
    if unknown:
        names = ", ".join(repr(o.setting) for o in unknown)
        raise SecureDefaultError(f"Unknown opt-out setting(s) {names}; known settings: {known}.")


def as_retention(value: logs.RetentionDays | int) -> logs.RetentionDays:
    """``value`` as a :class:`~aws_cdk.aws_logs.RetentionDays` (ints are day counts).

    Raises
    ------
    ValueError
        If ``value`` is a day count CloudWatch Logs does not offer.
    """
    if isinstance(value, logs.RetentionDays):
        return value
    try:
        return logs.RetentionDays[_RETENTION_BY_DAYS[int(value)]]
    except KeyError:
        raise ValueError(
            f"{value} is not a CloudWatch Logs retention; use one of {sorted(_RETENTION_BY_DAYS)}."
        ) from None


def retention_days(value: logs.RetentionDays | int) -> float:
    """Days kept by ``value`` (``math.inf`` for ``RetentionDays.INFINITE``)."""
    resolved = as_retention(value)
    if resolved == logs.RetentionDays.INFINITE:
        return math.inf
    return float(_DAYS_BY_NAME[resolved.name])
