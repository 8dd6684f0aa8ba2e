# ruff: noqa: S311 - seeded pseudo-randomness is the point: a household per seed
"""Generate labelled UK household histories, deterministic per seed.

Every stream of transactions (one recurring commitment, one category of everyday spending)
draws from its own random generator seeded by ``(seed, stream)`` and lays out its events from
``start`` onwards, so a later ``end`` only appends: ids, dates and amounts of earlier
transactions stay the same (the sandbox bank relies on that when "today" moves on).
Calendar behaviour follows the payment rail: Direct Debits and standing orders due on a
weekend or England-and-Wales bank holiday go on the next working day (BACS), salaries and
benefits are paid on the working day before, card subscriptions bill on their day and are
sometimes booked a day late.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from devtools.households import catalogue
from devtools.households.catalogue import Merchant
from devtools.households.model import (
    Direction,
    Household,
    HouseholdAccount,
    HouseholdProfile,
    HouseholdTransaction,
    TrueSeries,
)
from devtools.households.recurring_plans import (
    CHILD_BENEFIT,
    PENSION,
    PLANS,
    SALARY_LWD,
    SALARY_MONTHLY,
    SAVINGS_INTEREST,
    WAGE_FORTNIGHTLY,
    WAGE_FOUR_WEEKLY,
    WAGE_WEEKLY,
    Plan,
)
from service.insights import working_days as wd

_PENNY = Decimal("0.01")
_DAY = timedelta(days=1)
_PERIOD_DAYS = {"weekly": 7, "fortnightly": 14, "four_weekly": 28}
_MONTH_STEP = {"monthly": 1, "quarterly": 3, "annual": 12}
_ACRONYMS = frozenset(
    {
        "BT",
        "EE",
        "O2",
        "TV",
        "AA",
        "RAC",
        "EDF",
        "OVO",
        "DVLA",
        "HMRC",
        "DWP",
        "RSPCA",
        "NOW",
        "BS",
        "E.ON",
    }
)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")

#: TrueLayer-style ``transaction_classification`` for a true category.
_CLASSIFICATION: dict[str, tuple[str, ...]] = {
    "income": ("Income",),
    "transfers": ("Transfer",),
    "housing": ("Home", "Mortgage & Rent"),
    "bills": ("Bills and Utilities",),
    "groceries": ("Shopping", "Groceries"),
    "eating_out": ("Food & Dining", "Restaurants"),
    "transport": ("Auto & Transport",),
    "shopping": ("Shopping",),
    "entertainment": ("Entertainment",),
    "health": ("Health & Fitness",),
    "childcare_education": ("Education",),
    "insurance": ("Bills and Utilities", "Insurance"),
    "savings_investments": ("Investments",),
    "cash": ("Cash & ATM",),
    "fees_charges": ("Fees & Charges",),
    "charity_gifts": ("Gifts & Donations",),
    "travel": ("Travel",),
    "personal_care": ("Personal Care",),
    "other": ("Uncategorized",),
}

#: Everyday spending: category -> (events per week, share of days that are weekend-heavy).
_EVERYDAY_RATE: dict[str, float] = {
    "groceries": 3.0,
    "eating_out": 2.2,
    "transport": 1.6,
    "shopping": 1.4,
    "entertainment": 0.35,
    "health": 0.3,
    "personal_care": 0.15,
    "childcare_education": 0.2,
    "charity_gifts": 0.08,
    "travel": 0.06,
}


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(_PENNY, rounding=ROUND_HALF_UP)


def _constant(value: Decimal) -> Callable[[int, date], Decimal]:
    return lambda _index, _day: value


def _child_benefit(children: int) -> Callable[[int, date], Decimal]:
    """Four weeks of Child Benefit (eldest rate plus additional children), up 3% a year."""
    return lambda index, _day: _money((25.6 + 17.0 * (children - 1)) * 4 * 1.03 ** (index // 13))


def _txn_id(seed: int, stream: str, index: int) -> str:
    digest = hashlib.sha256(f"{seed}|{stream}|{index}".encode()).hexdigest()
    return f"txn_{digest[:20]}"


@dataclass(slots=True)
class _Event:
    """A transaction before ids are final: the stream and its index make the id."""

    stream: str
    index: int
    account_id: str
    booked: date
    amount: Decimal
    description: str
    merchant_name: str | None
    transaction_category: str
    category: str
    series_id: str | None


class _Builder:
    """Lays out one household's streams."""

    def __init__(self, seed: int, start: date, end: date, profile: HouseholdProfile) -> None:
        self.seed = seed
        self.start = start
        self.end = end
        self.rng = random.Random(f"{seed}:household")
        self.household_id = f"hh-{seed}"
        self.events: list[_Event] = []
        self.series: list[TrueSeries] = []
        self.profile = self._resolve(profile)
        self.style = self.rng.choice(("barclays", "lloyds", "hsbc", "monzo"))
        self.card4 = f"{self.rng.randint(1000, 9999)}"
        self.named: dict[str, bool] = {}
        self.payees: set[str] = set()
        self.cancelled: dict[str, date] = {}

    # -- set-up -------------------------------------------------------------------------------

    def _resolve(self, p: HouseholdProfile) -> HouseholdProfile:
        rng = self.rng
        adults = p.adults if p.adults is not None else rng.choice((1, 2, 2, 2))
        children = p.children if p.children is not None else rng.choice((0, 0, 1, 2, 2, 3))
        return replace(
            p,
            adults=adults,
            children=children,
            owns_home=p.owns_home if p.owns_home is not None else rng.random() < 0.6,
            has_car=p.has_car if p.has_car is not None else rng.random() < 0.75,
            has_credit_card=(
                p.has_credit_card if p.has_credit_card is not None else rng.random() < 0.6
            ),
            subscriptions=p.subscriptions if p.subscriptions is not None else rng.randint(2, 6),
        )

    def accounts(self) -> tuple[HouseholdAccount, ...]:
        """The household's accounts; ids derive from the seed."""
        rng = random.Random(f"{self.seed}:accounts")
        sort_code = f"{rng.randint(10, 99)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"
        accounts = [
            HouseholdAccount(
                f"acc-{self.seed}-current",
                "current",
                "GBP",
                "Joint Current Account",
                _money(rng.uniform(300, 4000)),
                self.style,
                sort_code,
                f"{rng.randint(10**7, 10**8 - 1)}",
            ),
            HouseholdAccount(
                f"acc-{self.seed}-savings",
                "savings",
                "GBP",
                "Easy Access Saver",
                _money(rng.uniform(500, 15000)),
                self.style,
                sort_code,
                f"{rng.randint(10**7, 10**8 - 1)}",
            ),
        ]
        if self.profile.has_credit_card:
            accounts.append(
                HouseholdAccount(
                    f"acc-{self.seed}-credit",
                    "credit",
                    "GBP",
                    "Rewards Credit Card",
                    Decimal("0.00"),
                    self.style,
                    None,
                    None,
                )
            )
        return tuple(accounts)

    # -- naming -------------------------------------------------------------------------------

    def _pool(self, rng: random.Random) -> str:
        pool = self.profile.merchant_pool
        if pool == "mixed":
            return "known" if rng.random() < 0.5 else "unseen"
        return pool

    def _fill(self, template: str, rng: random.Random) -> str:
        text = template
        if "{C}" in text:
            text = text.replace("{C}", catalogue.coined_name(rng).upper())
        if "{S}" in text:
            text = text.replace("{S}", rng.choice(catalogue._SURNAMES).upper())
        if "{person}" in text:
            text = text.replace("{person}", rng.choice(catalogue.PEOPLE))
        if "{plate}" in text:
            letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(4))
            text = text.replace("{plate}", f"{letters[:2]}{rng.randint(10, 73)}{letters[2:]}")
        return text

    def _has_name(self, key: str, known: bool) -> bool:
        if key not in self.named:
            rate = self.profile.merchant_name_rate * (1.0 if known else 0.4)
            self.named[key] = random.Random(f"{self.seed}:name:{key}").random() < rate
        return self.named[key]

    @staticmethod
    def _clean(payee: str) -> str:
        text = re.sub(r"^(PAYPAL|GOOGLE|SQ|SUMUP) \*", "", payee)
        text = re.sub(r"\*\{ref\}|\.COM.*$|/BILL$|-\{plate\}|-[A-Z0-9]+$", "", text)
        text = re.sub(r"\b(LTD|LIMITED|PLC|INS|MBP|UK|GROUP)\b", "", text)
        return " ".join(w if w in _ACRONYMS else w.capitalize() for w in text.split()) or payee

    def _expand(self, raw: str, rng: random.Random) -> str:
        def ref(_: re.Match[str]) -> str:
            return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(6))

        text = re.sub(r"\{ref\}", ref, raw)
        text = text.replace("{TOWN}", rng.choice(catalogue.TOWNS))
        for width in (3, 4, 5, 6):
            text = text.replace(f"{{n{width}}}", str(rng.randint(10 ** (width - 1), 10**width - 1)))
        return text

    def _describe(self, rail: str, payee: str, booked: date, rng: random.Random) -> str:
        style = self.style
        if rail == "card":
            if style == "lloyds":
                return f"{payee} CD {self.card4}"
            if style == "hsbc":
                tap = ")))" if rng.random() < 0.5 else ""
                return f"{tap} {payee}".strip()
            if style == "barclays":
                stamp = f"{booked.day:02d}{_MONTHS[booked.month - 1]}"
                return f"CARD PAYMENT TO {payee} ON {stamp}" if rng.random() < 0.5 else payee
            return payee
        ref = f"{rng.randint(10**5, 10**9)}"
        if rail == "direct_debit":
            return {
                "barclays": f"{payee} DD",
                "lloyds": f"{payee} {ref} DD",
                "hsbc": f"DD {payee}",
                "monzo": payee,
            }[style]
        if rail == "standing_order":
            return {
                "barclays": f"{payee} STO",
                "lloyds": f"{payee} SO",
                "hsbc": f"SO {payee}",
                "monzo": payee,
            }[style]
        if rail == "credit":
            return {
                "barclays": f"{payee} BGC",
                "lloyds": f"{payee} FP {ref}",
                "hsbc": f"BACS {payee}",
                "monzo": payee,
            }[style]
        return payee

    def _classification(self, category: str, rng: random.Random) -> tuple[str, ...]:
        if rng.random() >= self.profile.classification_rate:
            return ()
        if rng.random() < self.profile.classification_noise:
            return _CLASSIFICATION[rng.choice(sorted(_CLASSIFICATION))]
        return _CLASSIFICATION[category]

    # -- recurring ------------------------------------------------------------------------------

    def _nominal_dates(self, plan: Plan, rng: random.Random, first: date) -> Iterator[date]:
        if plan.frequency in _PERIOD_DAYS:
            step = timedelta(days=_PERIOD_DAYS[plan.frequency])
            weekday = (
                0
                if plan is CHILD_BENEFIT
                else rng.randint(0, 4 if plan.direction == "inflow" else 6)
            )
            current = first + timedelta(days=(weekday - first.weekday()) % 7)
            while True:
                yield current
                current += step
        else:
            months = _MONTH_STEP[plan.frequency]
            day = rng.choice((1, 1, 5, 8, 12, 15, 18, 20, 22, 25, 28, 28, 30, 31))
            if plan.category == "income" and plan.rule != "last_working_day":
                day = rng.choice((15, 20, 25, 26, 28, 31))
            year, month = first.year, first.month
            while True:
                if plan.rule == "last_working_day":
                    yield wd.last_working_day_of_month(year, month)
                else:
                    yield wd.clamped_date(year, month, day)
                year, month = wd.add_months(year, month, months)

    def _booked(self, plan: Plan, nominal: date, rng: random.Random) -> date:
        if plan.rule == "next_working_day":
            return wd.next_working_day(nominal)
        if plan.rule == "previous_working_day":
            return wd.previous_working_day(nominal)
        if plan.rule == "card":
            return nominal + _DAY if rng.random() < 0.2 else nominal
        return nominal

    def _amounts(self, plan: Plan, rng: random.Random) -> Callable[[int, date], Decimal]:
        base = rng.uniform(plan.low, plan.high)
        if plan.rail == "card" and plan.category in {"entertainment", "shopping"}:
            base = math.floor(base) + 0.99
        rise_at = (
            rng.randint(3, 30)
            if plan.price_rises and (rng.random() < self.profile.price_rise_rate)
            else None
        )
        rise = rng.uniform(1.06, 1.25)
        seasonal = plan.variability == "seasonal" and rng.random() < 0.6
        review_every = rng.choice((6, 12))
        jitter = {
            "salary": 0.012,
            "salary_lwd": 0.012,
            "wage": 0.08,
            "wage_4w": 0.04,
            "wage_2w": 0.05,
        }.get(plan.key, 0.0)
        state = {"review": base}

        def amount(index: int, booked: date) -> Decimal:
            value = base
            if plan.category == "income" and plan.key.startswith(("salary", "wage")):
                years = index // {"weekly": 52, "fortnightly": 26, "four_weekly": 13}.get(
                    plan.frequency, 12
                )
                value = base * (1.035**years) * (1 + rng.uniform(-jitter, jitter))
            elif plan.variability == "variable":  # drifts with the balance, month to month
                state["review"] = min(max(state["review"] * rng.uniform(0.85, 1.15), 0.2), 40)
                value = state["review"]
            elif seasonal:
                value = base * (1 + 0.4 * math.cos(2 * math.pi * (booked.month - 1) / 12))
                value *= rng.uniform(0.9, 1.1)
            elif plan.variability == "seasonal":
                if index and index % review_every == 0:
                    state["review"] = base * rng.uniform(0.8, 1.3)
                value = state["review"]
            if rise_at is not None and index >= rise_at:
                value *= rise
                if plan.rail == "card":
                    value = math.floor(value) + 0.99
            return _money(max(value, 0.01))

        return amount

    def add_plan(
        self,
        plan: Plan,
        stream: str,
        *,
        account_id: str,
        payee: str | None = None,
        merchant: str | None = None,
        category: str | None = None,
        amount: Callable[[int, date], Decimal] | None = None,
        start_delay: int | None = None,
        rail: str | None = None,
    ) -> None:
        """Lay out one recurring series (and its one-offs) from ``plan``."""
        rng = random.Random(f"{self.seed}:{stream}")
        profile = self.profile
        pool = self._pool(rng)
        if payee is None:
            templates = plan.known if pool == "known" and plan.known else plan.unseen
            payee = self._fill(rng.choice(templates), rng)
            for _ in range(8):  # one subscription per brand
                if payee not in self.payees:
                    break
                payee = self._fill(rng.choice(templates), rng)
        self.payees.add(payee)
        merchant = merchant or self._clean(payee)
        category = category or plan.category
        rail = rail or plan.rail
        delay = (
            start_delay
            if start_delay is not None
            else (rng.randint(0, 500) if rng.random() < 0.3 else 0)
        )
        first = self.start + timedelta(days=delay)
        cancel_after = (
            rng.randint(4, 40)
            if plan.cancellable and (rng.random() < profile.cancel_rate)
            else None
        )
        missed = rng.randint(2, 14) if rng.random() < profile.missed_payment_rate else None
        amount = amount or self._amounts(plan, rng)
        series_id = f"{self.household_id}-{stream}"
        sign = Decimal(1) if plan.direction == "inflow" else Decimal(-1)
        kind = {
            "direct_debit": "DIRECT_DEBIT",
            "standing_order": "STANDING_ORDER",
            "card": "PURCHASE",
            "credit": "CREDIT",
            "interest": "INTEREST",
        }[rail]
        named = self._has_name(merchant, pool == "known")
        ids: list[str] = []
        for index, nominal in enumerate(self._nominal_dates(plan, rng, first)):
            if cancel_after is not None and index >= cancel_after:
                self.cancelled[series_id] = nominal
                break
            booked = self._booked(plan, nominal, rng)
            value = amount(index, booked)
            if booked > self.end:
                break
            if booked < self.start or index == missed:
                continue
            raw = self._expand(payee, rng)
            event = _Event(
                stream,
                index,
                account_id,
                booked,
                sign * value,
                self._describe(rail, raw, booked, rng),
                merchant if named else None,
                kind,
                category,
                series_id,
            )
            self.events.append(event)
            ids.append(_txn_id(self.seed, stream, index))
        rng = random.Random(f"{self.seed}:{stream}:one-offs")  # independent of how far we got
        if plan.one_offs and rng.random() < profile.one_off_rate:
            for k in range(rng.randint(1, 3)):
                day = self.start + timedelta(days=rng.randint(20, 1800))
                value = _money(rng.uniform(plan.low * 0.2, plan.high * 2.5))
                text = self._describe("card", self._expand(payee, rng), day, rng)
                if self.start <= day <= self.end:
                    self.events.append(
                        _Event(
                            f"{stream}-oneoff",
                            k,
                            account_id,
                            day,
                            sign * value,
                            text,
                            merchant if named else None,
                            "PURCHASE",
                            category,
                            None,
                        )
                    )
        if len(ids) >= 2:
            self.series.append(
                TrueSeries(
                    series_id,
                    account_id,
                    plan.direction,
                    merchant,
                    plan.frequency,
                    category,
                    False,
                    tuple(ids),
                )
            )

    # -- everyday spending ----------------------------------------------------------------------

    def merchants_for(self, category: str, rng: random.Random) -> list[Merchant]:
        """The few merchants this household uses for ``category``."""
        chosen: list[Merchant] = []
        for _ in range(rng.randint(2, 5)):
            pool = self._pool(rng)
            known = catalogue.KNOWN.get(category, ())
            if pool == "known" and known:
                chosen.append(rng.choice(known))
            elif rng.random() < self.profile.opaque_merchant_share:
                chosen.append(catalogue.opaque_business(rng, category))
            else:
                held_out = self.profile.held_out_nouns
                chosen.append(catalogue.local_business(rng, category, held_out=held_out))
        return chosen

    def add_everyday(self, category: str, account_id: str) -> None:
        """Irregular purchases of one category (not recurring), with refunds."""
        stream = f"spend-{category}-{account_id[-7:]}"
        rng = random.Random(f"{self.seed}:{stream}")
        merchants = self.merchants_for(category, rng)
        weights = [rng.uniform(0.5, 3) for _ in merchants]
        rate = _EVERYDAY_RATE[category] * self.profile.spend_scale / 7
        if category == "transport" and not self.profile.has_car:
            rate *= 0.6
        day, index = self.start, 0
        while day <= self.end:
            weekend = day.weekday() >= 5
            chance = rate * (1.4 if weekend else 0.85)
            while rng.random() < chance:
                chance *= 0.3
                merchant = rng.choices(merchants, weights)[0]
                value = _money(
                    math.exp(rng.uniform(math.log(merchant.low), math.log(merchant.high)))
                )
                raw = self._expand(rng.choice(merchant.raw), rng)
                if rng.random() < 0.12:
                    raw = f"{rng.choice(('SQ *', 'SUMUP *', 'CRV*', 'PAYPAL *', 'ZETTLE_*'))}{raw}"
                named = self._has_name(merchant.name, merchant in catalogue.KNOWN.get(category, ()))
                name = merchant.name if named else None
                self.events.append(
                    _Event(
                        stream,
                        index,
                        account_id,
                        day,
                        -value,
                        self._describe("card", raw, day, rng),
                        name,
                        "PURCHASE",
                        category,
                        None,
                    )
                )
                index += 1
                if rng.random() < self.profile.refund_rate:
                    back = day + timedelta(days=rng.randint(3, 20))
                    self.events.append(
                        _Event(
                            f"{stream}-refund",
                            index,
                            account_id,
                            back,
                            value,
                            self._describe("card", raw, back, rng),
                            name,
                            "CREDIT",
                            category,
                            None,
                        )
                    )
                    index += 1
            day += _DAY

    def add_cash_fees_transfers(self, current: str, savings: str) -> None:
        """ATM withdrawals, bank fees and one-off transfers to and from people."""
        rng = random.Random(f"{self.seed}:misc")
        day, index = self.start, 0
        while day <= self.end:
            if rng.random() < 0.12:
                value = Decimal(rng.choice((10, 20, 20, 30, 50, 100)))
                text = rng.choice(
                    (
                        f"CASH {rng.choice(('LINK', 'NOTEMACHINE', 'HSBC'))} "
                        f"{rng.choice(catalogue.TOWNS)}",
                        f"ATM WITHDRAWAL {rng.choice(catalogue.TOWNS)}",
                        f"CASH WITHDRAWAL {day.day:02d}{_MONTHS[day.month - 1]}",
                    )
                )
                self.events.append(
                    _Event("cash", index, current, day, -value, text, None, "ATM", "cash", None)
                )
            if rng.random() < 0.01:
                value = _money(rng.choice((5, 6, 10, 15)) + 0.0)
                text = rng.choice(
                    ("OVERDRAFT FEE", "UNARRANGED OD CHARGE", "NON-STERLING TRANSACTION FEE")
                )
                self.events.append(
                    _Event(
                        "fee",
                        index,
                        current,
                        day,
                        -value,
                        text,
                        None,
                        "FEE_CHARGE",
                        "fees_charges",
                        None,
                    )
                )
            if rng.random() < 0.04:
                person = rng.choice(catalogue.PEOPLE)
                value = _money(rng.uniform(5, 200))
                inflow = rng.random() < 0.45
                text = (
                    f"{person} {rng.choice(('FP', 'FASTER PAYMENT', 'PAYBACK'))}"
                    if inflow
                    else rng.choice(
                        (f"TO {person}", f"{person} FPO", f"FASTER PAYMENT TO {person}")
                    )
                )
                self.events.append(
                    _Event(
                        "p2p",
                        index,
                        current,
                        day,
                        value if inflow else -value,
                        text,
                        None,
                        "TRANSFER",
                        "transfers",
                        None,
                    )
                )
            if rng.random() < 0.006:
                value = _money(rng.uniform(100, 1500))
                self.events.append(
                    _Event(
                        "sweep-out",
                        index,
                        savings,
                        day,
                        -value,
                        "TRANSFER TO CURRENT ACCOUNT",
                        None,
                        "TRANSFER",
                        "transfers",
                        None,
                    )
                )
                self.events.append(
                    _Event(
                        "sweep-in",
                        index,
                        current,
                        day,
                        value,
                        "TRANSFER FROM SAVINGS",
                        None,
                        "TRANSFER",
                        "transfers",
                        None,
                    )
                )
            if rng.random() < 0.002:
                value = _money(rng.uniform(50, 900))
                self.events.append(
                    _Event(
                        "hmrc-refund",
                        index,
                        current,
                        day,
                        value,
                        "HMRC TAX REFUND",
                        None,
                        "CREDIT",
                        "income",
                        None,
                    )
                )
            index += 1
            day += _DAY

    def add_credit_card_repayments(self, current: str, credit: str) -> None:
        """Monthly repayment of last month's card spending: a DD out and a credit in."""
        rng = random.Random(f"{self.seed}:cc")
        day = rng.randint(3, 24)
        issuer = (
            rng.choice(("BARCLAYCARD", "AMERICAN EXPRESS", "MBNA LIMITED", "CAPITAL ONE"))
            if self._pool(rng) == "known"
            else f"{catalogue.coined_name(rng).upper()} CREDIT CARD"
        )
        spend: dict[tuple[int, int], Decimal] = {}
        for event in self.events:
            if event.account_id == credit and event.amount < 0:
                key = (event.booked.year, event.booked.month)
                spend[key] = spend.get(key, Decimal(0)) - event.amount
        year, month = wd.add_months(self.start.year, self.start.month, 1)
        index = 0
        out_ids: list[str] = []
        in_ids: list[str] = []
        while True:
            booked = wd.next_working_day(wd.clamped_date(year, month, day))
            if booked > self.end:
                break
            owed = spend.get(wd.add_months(year, month, -1), Decimal(0))
            if owed > 0:
                self.events.append(
                    _Event(
                        "cc-out",
                        index,
                        current,
                        booked,
                        -owed,
                        self._describe("direct_debit", issuer, booked, rng),
                        None,
                        "DIRECT_DEBIT",
                        "transfers",
                        f"{self.household_id}-cc-out",
                    )
                )
                self.events.append(
                    _Event(
                        "cc-in",
                        index,
                        credit,
                        booked,
                        owed,
                        "PAYMENT RECEIVED - THANK YOU",
                        None,
                        "CREDIT",
                        "transfers",
                        f"{self.household_id}-cc-in",
                    )
                )
                out_ids.append(_txn_id(self.seed, "cc-out", index))
                in_ids.append(_txn_id(self.seed, "cc-in", index))
            index += 1
            year, month = wd.add_months(year, month, 1)
        plan_rows: tuple[tuple[str, list[str], str, Direction], ...] = (
            ("cc-out", out_ids, current, "outflow"),
            ("cc-in", in_ids, credit, "inflow"),
        )
        for stream, ids, account, direction in plan_rows:
            if len(ids) >= 2:
                self.series.append(
                    TrueSeries(
                        f"{self.household_id}-{stream}",
                        account,
                        direction,
                        self._clean(issuer),
                        "monthly",
                        "transfers",
                        False,
                        tuple(ids),
                    )
                )


def generate_household(  # noqa: PLR0915 - one household, laid out top to bottom
    seed: int, *, start: date, end: date, profile: HouseholdProfile | None = None
) -> Household:
    """Generate one labelled household history from ``start`` to ``end`` inclusive.

    Parameters
    ----------
    seed
        Everything is a function of the seed (and the profile): same seed, same household.
    start, end
        The booked-date range. A later ``end`` appends transactions and keeps earlier ones.
    profile
        Household knobs; unset fields are drawn from the seed.

    Returns
    -------
    Household
        Accounts, transactions in (date, account, id) order with their labels, and the
        recurring series planted in them.
    """
    if end < start:
        raise ValueError("end must not be before start")
    builder = _Builder(
        seed, start, max(end, start + timedelta(days=366)), profile or HouseholdProfile()
    )
    p = builder.profile
    accounts = builder.accounts()
    current, savings = accounts[0].id, accounts[1].id
    credit = accounts[2].id if len(accounts) > 2 else None
    rng = random.Random(f"{seed}:plans")

    builder.add_plan(
        SAVINGS_INTEREST,
        "interest",
        account_id=savings,
        payee="CREDIT INTEREST",
        merchant="Credit Interest",
        start_delay=0,
    )
    saving = _money(rng.choice((50, 100, 150, 200, 250, 300, 400)))
    save_day = rng.randint(1, 28)
    saving_rows: tuple[tuple[str, str, Direction, str], ...] = (
        ("save-out", current, "outflow", "EASY ACCESS SAVER"),
        ("save-in", savings, "inflow", "FROM JOINT CURRENT ACCOUNT"),
    )
    for stream, account, direction, text in saving_rows:
        plan = replace(
            PLANS[0],
            key=stream,
            category="transfers",
            rail="standing_order",
            frequency="monthly",
            direction=direction,
            one_offs=False,
            cancellable=False,
            price_rises=False,
        )
        builder.add_plan(
            plan,
            stream,
            account_id=account,
            payee=text,
            merchant=text.title(),
            amount=lambda i, d: saving,
            start_delay=save_day,
            rail="standing_order" if direction == "outflow" else "credit",
        )

    by_key = {plan.key: plan for plan in PLANS}
    wanted = [
        "energy",
        "council_tax",
        "broadband",
        "mobile",
        "tv_licence",
        "life_insurance",
        "account_fee" if rng.random() < 0.3 else "",
        "mortgage" if p.owns_home else "rent",
        "water" if rng.random() < 0.7 else "water_quarterly",
        "home_insurance" if p.owns_home or rng.random() < 0.4 else "",
        "charity" if rng.random() < 0.5 else "",
        "gym" if rng.random() < 0.6 else "",
        "dental_plan" if rng.random() < 0.25 else "",
        "pet_insurance" if rng.random() < 0.3 else "",
        "magazine" if rng.random() < 0.2 else "",
        "isa" if rng.random() < 0.5 else "",
        "cleaner" if rng.random() < 0.2 else "",
        "window_cleaner" if rng.random() < 0.3 else "",
        "veg_box" if rng.random() < 0.15 else "",
        "prime" if rng.random() < 0.4 else "",
    ]
    if p.has_car:
        wanted += [
            "car_insurance",
            "car_tax",
            "breakdown",
            "car_finance" if rng.random() < 0.4 else "",
        ]
    if p.children:
        wanted += [
            "nursery" if rng.random() < 0.5 else "",
            "swimming" if rng.random() < 0.5 else "",
            "tutor" if rng.random() < 0.3 else "",
        ]
    for key in filter(None, wanted):
        builder.add_plan(by_key[key], key, account_id=current)
    for n in range(p.subscriptions or 0):
        builder.add_plan(
            by_key["streaming"],
            f"streaming-{n}",
            account_id=credit if credit and n % 2 else current,
        )
    if p.children:
        builder.add_plan(
            replace(by_key["cleaner"], key="pocket", category="transfers", cancellable=False),
            "pocket-money",
            account_id=current,
            payee=f"{rng.choice(catalogue.PEOPLE)} POCKET MONEY",
            amount=_constant(_money(rng.choice((5, 7.5, 10)))),
        )

    card_categories = {"shopping", "travel", "entertainment"} if credit else set()
    for category in _EVERYDAY_RATE:
        builder.add_everyday(
            category, credit if category in card_categories and credit else current
        )
    builder.add_cash_fees_transfers(current, savings)
    if credit:
        builder.add_credit_card_repayments(current, credit)

    # Income last, sized to what this household spends in its first year, so balances stay
    # plausible over any range (the first year is always laid out, whatever ``end`` is).
    year_end = start + timedelta(days=365)
    spent = sum(
        (-e.amount for e in builder.events if e.account_id == current and e.booked <= year_end),
        Decimal(0),
    )
    monthly_need = float(spent) / 12 * rng.uniform(1.0, 1.1)
    if p.children:
        builder.add_plan(
            CHILD_BENEFIT,
            "child-benefit",
            account_id=current,
            start_delay=0,
            amount=_child_benefit(p.children),
        )
        monthly_need -= (25.6 + 17.0 * (p.children - 1)) * 52 / 12
    earners = p.adults or 1
    shares = [rng.uniform(0.3, 0.7) for _ in range(earners)]
    for n in range(earners):
        income = rng.choices(
            (SALARY_MONTHLY, SALARY_LWD, WAGE_WEEKLY, WAGE_FOUR_WEEKLY, WAGE_FORTNIGHTLY, PENSION),
            (5, 3, 1, 1, 1, 0.6),
        )[0]
        employer = catalogue.employer(rng).upper()
        per_month = max(monthly_need, 800.0) * shares[n] / sum(shares)
        per_payment = per_month * {
            "weekly": 12 / 52,
            "fortnightly": 12 / 26,
            "four_weekly": 12 / 13,
        }.get(income.frequency, 1.0)
        builder.add_plan(
            replace(income, low=per_payment, high=per_payment),
            f"income-{n}",
            account_id=current,
            payee=None if income is PENSION else employer,
            start_delay=0,
        )

    cutoff = end - timedelta(days=p.pending_days)
    transactions = []
    for event in builder.events:
        if not start <= event.booked <= end:
            continue
        txn_rng = random.Random(f"{seed}:cls:{event.stream}:{event.index}")
        transactions.append(
            HouseholdTransaction(
                id=_txn_id(seed, event.stream, event.index),
                account_id=event.account_id,
                booked=event.booked,
                amount=event.amount,
                currency="GBP",
                description=event.description,
                merchant_name=event.merchant_name,
                transaction_type="CREDIT" if event.amount > 0 else "DEBIT",
                transaction_category=event.transaction_category,
                transaction_classification=builder._classification(event.category, txn_rng),
                true_category=event.category,
                true_series_id=event.series_id,
                pending=event.transaction_category == "PURCHASE" and event.booked > cutoff,
            )
        )
    transactions.sort(key=lambda t: (t.booked, t.account_id, t.id))
    kept = {t.id for t in transactions}
    series = tuple(
        replace(
            s,
            transaction_ids=tuple(i for i in s.transaction_ids if i in kept),
            ended=s.id in builder.cancelled and builder.cancelled[s.id] <= end,
        )
        for s in sorted(builder.series, key=lambda s: s.id)
    )
    name = f"The {catalogue._SURNAMES[seed % len(catalogue._SURNAMES)]} household"
    return Household(
        builder.household_id,
        seed,
        name,
        start,
        end,
        accounts,
        tuple(transactions),
        tuple(s for s in series if len(s.transaction_ids) >= 2),
    )
