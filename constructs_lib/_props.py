"""Tiny helpers shared by constructs: secure defaults under caller props, gated opt-outs.

The API is deliberately small and stable (other constructs import it):

- :func:`merge_defaults` -- secure defaults with the caller's extra props laid on top,
  refusing to let the caller silently replace a *locked* (security-relevant) key.
- :func:`weaken_if` -- call :func:`~constructs_lib.opt_outs.require_opt_out` only when a
  requested value actually weakens a default.
- :func:`reject_unknown_opt_outs` -- fail fast on an opt-out addressed to this construct
  that names a setting it does not have (a typo would otherwise be silently ignored).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from constructs import IConstruct

from constructs_lib.opt_outs import OptOut, SecureDefaultError, require_opt_out, unused_opt_outs

__all__ = ["merge_defaults", "reject_unknown_opt_outs", "weaken_if"]


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
