"""Merchant normalisation: from what a bank prints to a stable, comparable merchant string.

``"CARD PAYMENT TO SQ *THE CORNER CAFE 4471 LONDON GB ON 12MAR"`` and ``"Sq *The Corner Cafe"``
both become ``"the corner cafe"``. The steps, in order: case; the bank's own wrapping (rail
words such as ``DD``/``STO``/``BGC``, "card payment to", card suffixes ``CD 1234``); payment
processor prefixes (``SQ *``, ``PAYPAL *``, ``CRV*``, ``SumUp *``, ...) and the reference after
a merchant's own ``*``; dates; web domains; punctuation; tokens holding digits (card, store and
reference numbers); legal suffixes and trailing place names.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"

#: Payment processors and marketplaces that prefix the real merchant's name.
_PROCESSOR = re.compile(
    r"^(?:sq|sumup|crv|paypal|pp|zettle|izettle|iz|sp|gc|jg|google|stripe|wpy|ptp|pret\*?)"
    r"\s*[*_]+\s*(?=\S)"
)
_BANK_PREFIX = re.compile(
    r"^(?:\){2,}\s*|(?:card payment to|card purchase|contactless(?: payment)?|debit card purchase|"
    r"visa purchase|pos|dd|so|bacs|bill payment to|direct debit(?: payment)? to|"
    r"standing order to|faster payments?(?: to| from)?|payment to|fpo|fpi|to|from)\b\s*)"
)
_BANK_SUFFIX = re.compile(
    r"\s+(?:dd|sto|so|bgc|fpo|fpi|fp|bp|cd|tfr|cr|dr|ft|mandate no|ref|reference)\b.*$"
)
_CARD_SUFFIX = re.compile(r"\s+cd\s+\d{4}\b")
_DATES = re.compile(
    rf"\bon\s+\d{{1,2}}\s*{_MONTH}(?:\s*\d{{2,4}})?\b|\bon\s+\d{{1,2}}[/.-]\d{{1,2}}(?:[/.-]\d{{2,4}})?\b"
    rf"|\b\d{{1,2}}[/.-]\d{{1,2}}(?:[/.-]\d{{2,4}})?\b|\b\d{{1,2}}{_MONTH}\d{{0,4}}\b"
)
_STAR_REFERENCE = re.compile(r"\s*\*.*$")
_DOMAIN = re.compile(r"\b(?:www\.)|\.(?:co\.uk|org\.uk|gov\.uk|com|org|net|uk|io)\b")
_INITIALS_AND = re.compile(r"\b([a-z])\s*&\s*([a-z])\b")
_APOSTROPHE = re.compile(r"['\u2019`]")
_NON_WORD = re.compile(r"[^a-z0-9]+")

_KEEP_WITH_DIGITS: Final = frozenset({"o2", "e4", "a1", "3m", "02"})
_LEGAL: Final = frozenset(
    {"ltd", "limited", "plc", "llp", "inc", "uk", "gb", "gbr", "gbp", "eng", "lp", "intl"}
)
#: Place names dropped from the end of a merchant string (a store's town is not the merchant).
_PLACES: Final = frozenset(
    (
        "london",
        "manchester",
        "leeds",
        "bristol",
        "reading",
        "york",
        "norwich",
        "derby",
        "bath",
        "exeter",
        "sheffield",
        "luton",
        "oxford",
        "chester",
        "ipswich",
        "swindon",
        "birmingham",
        "liverpool",
        "glasgow",
        "edinburgh",
        "cardiff",
        "belfast",
        "nottingham",
        "leicester",
        "coventry",
        "brighton",
        "southampton",
        "portsmouth",
        "plymouth",
        "newcastle",
        "sunderland",
        "cambridge",
        "milton",
        "keynes",
        "northampton",
        "peterborough",
        "bournemouth",
        "aberdeen",
        "dundee",
        "swansea",
        "hull",
        "bradford",
        "wakefield",
        "stoke",
        "preston",
        "blackpool",
        "bolton",
        "wigan",
        "warrington",
        "slough",
        "watford",
        "croydon",
        "guildford",
        "woking",
        "basingstoke",
        "cheltenham",
        "gloucester",
        "worcester",
        "hereford",
        "lincoln",
        "durham",
        "harrogate",
        "canterbury",
        "maidstone",
        "chelmsford",
        "colchester",
        "southend",
        "st",
        "albans",
        "stevenage",
    )
)
_MAX_TOKENS: Final = 5


@lru_cache(maxsize=65536)
def normalise_merchant(text: str) -> str:
    """Normalise a merchant name or bank description (see the module docstring).

    Returns an empty string when nothing merchant-like is left.
    """
    value = _APOSTROPHE.sub("", text.lower()).strip()
    value = _CARD_SUFFIX.sub(" ", value)
    for _ in range(3):  # wrappings nest: "CARD PAYMENT TO SQ *..." / "))) PAYPAL *..."
        stripped = _PROCESSOR.sub("", _BANK_PREFIX.sub("", value).lstrip())
        if stripped == value:
            break
        value = stripped
    value = _DATES.sub(" ", value)
    value = _STAR_REFERENCE.sub("", value) or value
    value = _DOMAIN.sub(" ", value)
    value = _BANK_SUFFIX.sub("", value)
    value = _INITIALS_AND.sub(r"\1\2", value)
    tokens = [
        token
        for token in _NON_WORD.split(value)
        if token and (token.isalpha() or token in _KEEP_WITH_DIGITS)
    ]
    while tokens and tokens[-1] in _LEGAL:
        tokens.pop()
    while len(tokens) > 1 and (tokens[-1] in _PLACES or tokens[-1] in _LEGAL):
        tokens.pop()
    return " ".join(tokens[:_MAX_TOKENS])
