"""Categorisation: one category, a confidence and its source for every transaction.

Evidence is consulted in a fixed order and the first that speaks wins:

1. ``member``   - the category a member chose for this transaction (never overwritten);
2. ``rule``     - the family's rules, highest priority first;
3. ``learned``  - a member's re-categorisation of the same merchant within the family;
4. ``provider`` - decisive provider transaction types (ATM, fees, interest);
5. ``merchant`` - built-in knowledge of UK merchants;
6. ``keyword``  - telling words in the merchant string ("bakery", "insurance");
7. ``provider`` - transfers, a person's name, the provider's classification of the merchant
   (its consensus over the family's transactions) or of the transaction, the payment rail;
8. ``default``  - ``income`` for money in, ``other`` for money out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Final

from service.insights.errors import InvalidRuleError
from service.insights.knowledge import KEYWORDS, MERCHANTS
from service.insights.model import CategoryResult, Direction, Source, Transaction
from service.insights.normalise import normalise_merchant
from service.insights.taxonomy import is_category

#: Confidence of each kind of evidence.
CONFIDENCE: Final[dict[str, float]] = {
    "member": 1.0,
    "rule": 0.95,
    "learned": 0.9,
    "provider_decisive": 0.95,
    "merchant": 0.9,
    "merchant_refund": 0.8,
    "keyword": 0.7,
    "provider_transfer": 0.75,
    "person": 0.6,
    "consensus": 0.6,
    "classification": 0.55,
    "rail": 0.45,
    "default_inflow": 0.35,
    "default": 0.1,
}

#: TrueLayer ``transaction_category`` values.
PROVIDER_TYPES: Final = frozenset(
    {"ATM", "BILL_PAYMENT", "CASH", "CASHBACK", "CHEQUE", "CORRECTION", "CREDIT", "DEBIT",
     "DIRECT_DEBIT", "DIVIDEND", "FEE_CHARGE", "INTEREST", "OTHER", "PURCHASE",
     "STANDING_ORDER", "TRANSFER", "UNKNOWN"}
)  # fmt: skip

#: TrueLayer ``transaction_classification`` (first level, lower case) -> category.
_CLASSIFICATION: Final[dict[str, str]] = {
    "income": "income",
    "transfer": "transfers",
    "transfers": "transfers",
    "home": "housing",
    "mortgage & rent": "housing",
    "bills and utilities": "bills",
    "groceries": "groceries",
    "food & dining": "eating_out",
    "restaurants": "eating_out",
    "auto & transport": "transport",
    "shopping": "shopping",
    "entertainment": "entertainment",
    "health & fitness": "health",
    "education": "childcare_education",
    "kids": "childcare_education",
    "insurance": "insurance",
    "investments": "savings_investments",
    "cash & atm": "cash",
    "fees & charges": "fees_charges",
    "gifts & donations": "charity_gifts",
    "travel": "travel",
    "personal care": "personal_care",
}
_PERSON = re.compile(r"^(?:(?:mr|mrs|ms|miss|dr)\s+)?[a-z]\s+[a-z]{2,}$|^(?:mr|mrs|ms|miss|dr)\s")
_INCOME_RAIL = re.compile(r"\b(?:BGC|BACS|SALARY|WAGES|PAYROLL)\b", re.IGNORECASE)
_DD_RAIL = re.compile(r"(?:^DD\b|\bDD$|\bDIRECT DEBIT\b)", re.IGNORECASE)
_SO_RAIL = re.compile(r"(?:^SO\b|\bSO$|\bSTO$|\bSTANDING ORDER\b)", re.IGNORECASE)
_SPENDING_ONLY_ON_OUTFLOW: Final = frozenset({"income"})


@dataclass(frozen=True, slots=True)
class FamilyRule:
    """A family's rule: transactions matching every given condition get ``category``.

    ``merchant`` matches the normalised merchant (whole leading words), ``text`` is a
    case-insensitive substring of the description or merchant name, and ``min_amount`` /
    ``max_amount`` bound the absolute amount (inclusive); ``direction`` narrows to money in or
    out. Higher ``priority`` wins; ties go to the lower ``id``.
    """

    category: str
    priority: int = 0
    merchant: str | None = None
    text: str | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    direction: Direction | None = None
    id: str = ""

    def __post_init__(self) -> None:
        if not is_category(self.category):
            raise InvalidRuleError(f"unknown category {self.category!r}")
        if (
            not (self.merchant or self.text)
            and self.min_amount is None
            and (self.max_amount is None)
        ):
            raise InvalidRuleError("a rule needs a merchant, a text or an amount range")
        if self.merchant is not None and not normalise_merchant(self.merchant):
            raise InvalidRuleError(f"merchant {self.merchant!r} has nothing to match on")
        if (
            self.min_amount is not None
            and self.max_amount is not None
            and self.min_amount > self.max_amount
        ):
            raise InvalidRuleError("min_amount is greater than max_amount")

    def matches(self, txn: Transaction, merchant: str) -> bool:
        """Whether ``txn`` (whose normalised merchant is ``merchant``) meets every condition."""
        if self.direction is not None and txn.direction != self.direction:
            return False
        size = abs(txn.amount)
        if self.min_amount is not None and size < self.min_amount:
            return False
        if self.max_amount is not None and size > self.max_amount:
            return False
        if self.merchant is not None:
            wanted = normalise_merchant(self.merchant)
            if merchant != wanted and not merchant.startswith(wanted + " "):
                return False
        if self.text is not None:
            needle = self.text.casefold()
            haystack = f"{txn.description} {txn.merchant_name or ''}".casefold()
            if needle not in haystack:
                return False
        return True


def merchant_key(txn: Transaction) -> str:
    """The normalised merchant of a transaction: its merchant name, else its description."""
    if txn.merchant_name:
        named = normalise_merchant(txn.merchant_name)
        if named:
            return named
    return normalise_merchant(txn.description) or txn.description.strip().casefold()


def learn_from_members(choices: Iterable[tuple[Transaction, str]]) -> dict[str, str]:
    """Merchant -> category from members' re-categorisations (later choices win).

    Feed the result to :class:`Categoriser` as ``learned`` to apply a member's choice to the
    same merchant's other transactions within the family.
    """
    learned: dict[str, str] = {}
    for txn, category in choices:
        if not is_category(category):
            raise InvalidRuleError(f"unknown category {category!r}")
        learned[merchant_key(txn)] = category
    return learned


def _phrase_index(table: Mapping[str, tuple[str, ...]]) -> dict[tuple[str, ...], str]:
    index: dict[tuple[str, ...], str] = {}
    for category, phrases in table.items():
        for phrase in phrases:
            index.setdefault(tuple(phrase.split()), category)
    return index


_MERCHANT_INDEX: Final = _phrase_index(MERCHANTS)
_MERCHANT_LENGTHS: Final = sorted({len(k) for k in _MERCHANT_INDEX}, reverse=True)
_KEYWORD_INDEX: Final = _phrase_index(KEYWORDS)


@lru_cache(maxsize=65536)
def known_merchant(merchant: str) -> str | None:
    """The category of a built-in merchant whose alias starts ``merchant``, longest first."""
    tokens = tuple(merchant.split())
    for length in _MERCHANT_LENGTHS:
        if length <= len(tokens):
            category = _MERCHANT_INDEX.get(tokens[:length])
            if category is not None:
                return category
    return None


@lru_cache(maxsize=65536)
def keyword_category(merchant: str, direction: Direction) -> str | None:
    """The category of the right-most telling word (the head noun: "Mill Coffee House")."""
    tokens = merchant.split()
    for i in range(len(tokens) - 1, -1, -1):
        for phrase in ((tokens[i - 1], tokens[i]) if i else None, (tokens[i],)):
            if phrase is None:
                continue
            category = _KEYWORD_INDEX.get(phrase)
            if category is not None and not (
                direction == "outflow" and category in _SPENDING_ONLY_ON_OUTFLOW
            ):
                return category
    return None


class Categoriser:
    """Categorises a family's transactions with its rules and learned merchants.

    Parameters
    ----------
    rules
        The family's rules (any order; priority decides).
    learned
        Merchant -> category from :func:`learn_from_members`.
    consensus
        Merchant -> category from :func:`merchant_consensus` (what the provider's
        classification says about the merchant across the family's transactions).
    """

    def __init__(
        self,
        *,
        rules: Sequence[FamilyRule] = (),
        learned: Mapping[str, str] | None = None,
        consensus: Mapping[str, str] | None = None,
    ) -> None:
        self._rules = sorted(rules, key=lambda r: (-r.priority, r.id))
        self._learned = dict(learned or {})
        self._consensus = dict(consensus or {})

    def categorise(self, txn: Transaction, *, member_category: str | None = None) -> CategoryResult:
        """The category of one transaction; a member's own choice always stands."""
        if member_category is not None:
            return CategoryResult(txn.id, member_category, CONFIDENCE["member"], "member")
        merchant = merchant_key(txn)
        for rule in self._rules:
            if rule.matches(txn, merchant):
                return CategoryResult(txn.id, rule.category, CONFIDENCE["rule"], "rule")
        learned = self._learned.get(merchant)
        if learned is not None:
            return CategoryResult(txn.id, learned, CONFIDENCE["learned"], "learned")
        category, confidence, source = _automatic(txn, merchant, self._consensus.get(merchant))
        return CategoryResult(txn.id, category, confidence, source)

    def categorise_all(
        self,
        transactions: Iterable[Transaction],
        *,
        member_categories: Mapping[str, str] | None = None,
    ) -> list[CategoryResult]:
        """Categorise many transactions; ``member_categories`` maps transaction id -> category."""
        chosen = member_categories or {}
        return [self.categorise(t, member_category=chosen.get(t.id)) for t in transactions]


def categorise(
    transactions: Iterable[Transaction],
    *,
    rules: Sequence[FamilyRule] = (),
    learned: Mapping[str, str] | None = None,
    consensus: Mapping[str, str] | None = None,
    member_categories: Mapping[str, str] | None = None,
) -> list[CategoryResult]:
    """Categorise ``transactions`` (see the module docstring for the order of evidence).

    Without ``consensus``, the merchants' consensus is taken from ``transactions`` themselves.
    """
    rows = list(transactions)
    if consensus is None:
        consensus = merchant_consensus(rows)
    return Categoriser(rules=rules, learned=learned, consensus=consensus).categorise_all(
        rows, member_categories=member_categories
    )


def merchant_consensus(
    transactions: Iterable[Transaction], *, minimum_votes: int = 2, share: float = 0.6
) -> dict[str, str]:
    """Merchant -> the category most of its provider-classified transactions carry.

    A provider classifies some transactions and not others, and sometimes wrongly; where at
    least ``minimum_votes`` of a merchant's transactions are classified and ``share`` of them
    agree, the merchant's other transactions can borrow that category. Persist the result per
    family (like ``learned``) to use it when categorising a sync's few new transactions.
    """
    votes: dict[str, Counter[str]] = {}
    for txn in transactions:
        provider = (txn.provider_category or "").upper()
        classified = _classified(txn, provider, provider if provider in PROVIDER_TYPES else "")
        if classified is not None:
            votes.setdefault(merchant_key(txn), Counter())[classified] += 1
    consensus: dict[str, str] = {}
    for merchant, counter in votes.items():
        (category, top), total = counter.most_common(1)[0], sum(counter.values())
        if total >= minimum_votes and top >= share * total:
            consensus[merchant] = category
    return consensus


def _automatic(
    txn: Transaction, merchant: str, consensus: str | None = None
) -> tuple[str, float, Source]:
    provider = (txn.provider_category or "").upper()
    kind = provider if provider in PROVIDER_TYPES else ""
    inflow = txn.amount > 0
    decisive = _decisive_type(kind, inflow)
    if decisive is not None:
        return decisive, CONFIDENCE["provider_decisive"], "provider"
    known = known_merchant(merchant)
    if known is None and txn.merchant_name:
        known = known_merchant(normalise_merchant(txn.description))
    if known is not None and not (inflow is False and known == "income"):
        refund = inflow and known not in {"income", "transfers"}
        return known, CONFIDENCE["merchant_refund" if refund else "merchant"], "merchant"
    direction: Direction = "inflow" if inflow else "outflow"
    keyword = keyword_category(merchant, direction)
    if keyword is not None:
        return keyword, CONFIDENCE["keyword"], "keyword"
    if kind == "TRANSFER":
        return "transfers", CONFIDENCE["provider_transfer"], "provider"
    if _PERSON.match(merchant):
        return "transfers", CONFIDENCE["person"], "keyword"
    if consensus is not None and not (inflow is False and consensus == "income"):
        return consensus, CONFIDENCE["consensus"], "provider"
    classified = _classified(txn, provider, kind)
    if classified is not None and not (inflow is False and classified == "income"):
        return classified, CONFIDENCE["classification"], "provider"
    if inflow:
        if kind in {"CREDIT", "BILL_PAYMENT"} or _INCOME_RAIL.search(txn.description):
            return "income", CONFIDENCE["rail"], "provider"
        return "income", CONFIDENCE["default_inflow"], "default"
    if kind == "DIRECT_DEBIT" or (not kind and _DD_RAIL.search(txn.description)):
        return "bills", CONFIDENCE["rail"], "provider"
    if kind == "STANDING_ORDER" or (not kind and _SO_RAIL.search(txn.description)):
        return "transfers", CONFIDENCE["rail"], "provider"
    return "other", CONFIDENCE["default"], "default"


def _decisive_type(kind: str, inflow: bool) -> str | None:
    if kind in {"ATM", "CASH"}:
        return "cash"
    if kind == "FEE_CHARGE":
        return "fees_charges"
    if kind == "INTEREST":
        return "income" if inflow else "fees_charges"
    if kind == "DIVIDEND":
        return "income"
    return None


def _classified(txn: Transaction, provider: str, kind: str) -> str | None:
    labels = [label.casefold() for label in txn.provider_classification]
    if provider and not kind:
        labels.append(provider.casefold())
    for label in reversed(labels):  # the most specific level first
        category = _CLASSIFICATION.get(label)
        if category is not None:
            return category
    return None
