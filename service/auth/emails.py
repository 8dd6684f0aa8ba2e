"""E-mail addresses: one normal form for every comparison and every stored copy.

:func:`normalize_email` is the only normalisation: Unicode NFKC, then ``casefold``, then
surrounding whitespace removed. :func:`canonical_email` adds the policy: addresses must
be ASCII as sent. NFKC folds distinct characters into ASCII look-alikes (KELVIN SIGN
U+212A into ``K``, FULLWIDTH LATIN SMALL LETTER K into ``k``, the ligature U+FB01 into
``fi``), while mail servers treat local parts as exact strings, so
``\\u212aate@example.com`` and ``kate@example.com`` may well be different mailboxes with
different owners. Normalising them into one identity would let whoever verified the
look-alike accept Kate's invitation; refusing non-ASCII addresses (in tokens and in
invitations alike) closes that and every other confusable, at the cost of
internationalised addresses, which our users (UK families, Cognito with e-mail
verification) do not use today.
"""

from __future__ import annotations

import unicodedata


class UnsupportedEmailError(ValueError):
    """The address cannot be used as an identity (not ASCII, or not an address)."""


def normalize_email(value: str) -> str:
    """The one normal form of an address: NFKC, casefold, stripped."""
    return unicodedata.normalize("NFKC", value).casefold().strip()


def canonical_email(value: str) -> str:
    """``value`` in normal form, refusing what could be confused with another address.

    Raises
    ------
    UnsupportedEmailError
        If the address holds non-ASCII characters (before normalisation), or no ``@``.
    """
    if not value.isascii():
        raise UnsupportedEmailError("e-mail addresses must be ASCII (look-alike characters "
                                    "are refused so two mailboxes never share an identity)")
    normal = normalize_email(value)
    local, at, domain = normal.rpartition("@")
    if not at or not local or not domain:
        raise UnsupportedEmailError("not an e-mail address")
    return normal
