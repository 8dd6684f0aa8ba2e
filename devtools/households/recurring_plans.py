"""The recurring commitments a household can have: who is paid, how often, on which rule.

A plan is data: the generator picks plans for a household, draws payees from the known or
unseen pools, then lays out dates with the payment rail's own calendar behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from devtools.households.model import Direction, Frequency

Rail = Literal["direct_debit", "standing_order", "card", "credit", "interest"]
DateRule = Literal[
    "next_working_day",  # BACS: a collection due on a non-working day is taken on the next one
    "previous_working_day",  # payroll and benefits: paid early rather than late
    "last_working_day",  # "paid on the last working day of the month"
    "card",  # card billing: the nominal day, sometimes booked a day later
]
Variability = Literal["fixed", "variable", "seasonal"]


@dataclass(frozen=True, slots=True)
class Plan:
    """One kind of recurring commitment."""

    key: str
    category: str
    direction: Direction
    rail: Rail
    frequency: Frequency
    rule: DateRule
    low: float
    high: float
    known: tuple[str, ...]
    unseen: tuple[str, ...]
    variability: Variability = "fixed"
    price_rises: bool = False
    one_offs: bool = False
    cancellable: bool = False


def _p(  # noqa: PLR0917 - a table row: positional reads best in the table below
    key: str,
    category: str,
    rail: Rail,
    frequency: Frequency,
    rule: DateRule,
    low: float,
    high: float,
    known: tuple[str, ...],
    unseen: tuple[str, ...],
    *,
    variability: Variability = "fixed",
    price_rises: bool = False,
    one_offs: bool = False,
    cancellable: bool = False,
) -> Plan:
    inflow = category == "income" or rail in {"credit", "interest"}
    return Plan(
        key,
        category,
        "inflow" if inflow else "outflow",
        rail,
        frequency,
        rule,
        low,
        high,
        known,
        unseen,
        variability,
        price_rises,
        one_offs,
        cancellable,
    )


DD: Rail = "direct_debit"
SO: Rail = "standing_order"
CARD: Rail = "card"
NWD: DateRule = "next_working_day"
PWD: DateRule = "previous_working_day"  # noqa: S105 - not a password
LWD: DateRule = "last_working_day"

#: Every plan; ``{C}`` in an unseen name is replaced by a coined word, ``{S}`` by a surname.
PLANS: tuple[Plan, ...] = (
    _p(
        "mortgage",
        "housing",
        DD,
        "monthly",
        NWD,
        650,
        1600,
        ("NATIONWIDE BS MORTGAGE", "HALIFAX MORTGAGE", "SANTANDER MORTGAGE"),
        ("{C} BUILDING SOCIETY MORTGAGE", "{C} HOME LOANS"),
    ),
    _p(
        "rent",
        "housing",
        SO,
        "monthly",
        NWD,
        750,
        1800,
        ("FOXTONS LETTINGS", "COUNTRYWIDE RES LETTINGS"),
        ("{S} LETTINGS", "{S} PROPERTY MANAGEMENT"),
    ),
    _p(
        "energy",
        "bills",
        DD,
        "monthly",
        NWD,
        70,
        240,
        ("BRITISH GAS", "OCTOPUS ENERGY", "EDF ENERGY", "OVO ENERGY", "E.ON NEXT"),
        ("{C} ENERGY", "{C} POWER AND GAS"),
        variability="seasonal",
        one_offs=True,
    ),
    _p(
        "water",
        "bills",
        DD,
        "monthly",
        NWD,
        25,
        60,
        ("THAMES WATER", "SEVERN TRENT WATER", "ANGLIAN WATER"),
        ("{C} WATER",),
    ),
    _p(
        "water_quarterly",
        "bills",
        DD,
        "quarterly",
        NWD,
        90,
        160,
        ("UNITED UTILITIES", "YORKSHIRE WATER"),
        ("{C} WATER SERVICES",),
    ),
    _p(
        "council_tax",
        "bills",
        DD,
        "monthly",
        NWD,
        120,
        260,
        ("LEEDS CITY COUNCIL", "BRISTOL CITY COUNCIL", "READING BOROUGH COUNCIL"),
        ("{S} DISTRICT COUNCIL",),
    ),
    _p(
        "broadband",
        "bills",
        DD,
        "monthly",
        NWD,
        25,
        65,
        ("BT GROUP PLC", "VIRGIN MEDIA", "SKY DIGITAL", "TALKTALK"),
        ("{C} BROADBAND", "{C} FIBRE"),
        price_rises=True,
        one_offs=True,
    ),
    _p(
        "mobile",
        "bills",
        DD,
        "monthly",
        NWD,
        8,
        45,
        ("EE LIMITED", "VODAFONE LTD", "O2 UK", "THREE UK", "GIFFGAFF"),
        ("{C} MOBILE",),
        price_rises=True,
    ),
    _p("tv_licence", "bills", DD, "monthly", NWD, 13, 15, ("TV LICENCE MBP",), ("TV LICENCE MBP",)),
    _p(
        "streaming",
        "entertainment",
        CARD,
        "monthly",
        "card",
        5,
        18,
        (
            "NETFLIX.COM",
            "DISNEY PLUS",
            "NOW TV",
            "PAYPAL *SPOTIFY",
            "GOOGLE *YOUTUBE PREMIUM",
            "APPLE.COM/BILL",
        ),
        ("{C} TV", "{C} MUSIC", "{C} STREAM"),
        price_rises=True,
        cancellable=True,
    ),
    _p(
        "prime",
        "shopping",
        CARD,
        "annual",
        "card",
        79,
        95,
        ("AMAZON PRIME*{ref}",),
        ("{C} PLUS MEMBERSHIP",),
        price_rises=True,
    ),
    _p(
        "gym",
        "health",
        DD,
        "monthly",
        NWD,
        20,
        60,
        ("PUREGYM LTD", "THE GYM GROUP", "DAVID LLOYD"),
        ("{C} FITNESS", "{S} LEISURE CENTRE"),
        price_rises=True,
        one_offs=True,
        cancellable=True,
    ),
    _p(
        "dental_plan",
        "health",
        DD,
        "monthly",
        NWD,
        15,
        30,
        ("DENPLAN LTD",),
        ("{S} DENTAL CARE PLAN",),
    ),
    _p(
        "car_insurance",
        "insurance",
        DD,
        "monthly",
        NWD,
        35,
        110,
        ("ADMIRAL INSURANCE", "DIRECT LINE INS", "AVIVA INSURANCE"),
        ("{C} INSURANCE",),
    ),
    _p(
        "home_insurance",
        "insurance",
        CARD,
        "annual",
        "card",
        150,
        420,
        ("LV INSURANCE", "AVIVA HOME INS", "CHURCHILL INSURANCE"),
        ("{C} HOME INSURANCE",),
    ),
    _p(
        "life_insurance",
        "insurance",
        DD,
        "monthly",
        NWD,
        10,
        45,
        ("LEGAL & GENERAL", "VITALITYLIFE"),
        ("{C} LIFE ASSURANCE",),
    ),
    _p(
        "pet_insurance",
        "insurance",
        DD,
        "monthly",
        NWD,
        12,
        40,
        ("PETPLAN",),
        ("{C} PET INSURE",),
        price_rises=True,
        cancellable=True,
    ),
    _p(
        "breakdown",
        "transport",
        CARD,
        "annual",
        "card",
        80,
        180,
        ("THE AA", "RAC MOTORING"),
        ("{C} BREAKDOWN COVER",),
    ),
    _p("car_tax", "transport", DD, "monthly", NWD, 10, 16, ("DVLA-{plate}",), ("DVLA-{plate}",)),
    _p(
        "car_finance",
        "transport",
        DD,
        "monthly",
        NWD,
        180,
        380,
        ("BLACK HORSE LTD", "VOLKSWAGEN FINANCIAL"),
        ("{C} MOTOR FINANCE",),
    ),
    _p(
        "nursery",
        "childcare_education",
        DD,
        "monthly",
        NWD,
        450,
        1200,
        ("BRIGHT HORIZONS", "BUSY BEES NURSERIES"),
        ("{S} DAY NURSERY", "{S} PRE-SCHOOL"),
    ),
    _p(
        "tutor",
        "childcare_education",
        SO,
        "fortnightly",
        NWD,
        40,
        80,
        ("KUMON",),
        ("{S} TUTORING",),
        cancellable=True,
    ),
    _p(
        "swimming",
        "childcare_education",
        DD,
        "monthly",
        NWD,
        25,
        45,
        ("PUDDLE DUCKS", "WATER BABIES"),
        ("{S} SWIM SCHOOL",),
        one_offs=True,
    ),
    _p(
        "isa",
        "savings_investments",
        SO,
        "monthly",
        NWD,
        50,
        500,
        ("VANGUARD ASSET MGMT", "NUTMEG SAVING", "MONEYBOX"),
        ("{C} INVEST", "{C} WEALTH"),
    ),
    _p(
        "charity",
        "charity_gifts",
        DD,
        "monthly",
        NWD,
        5,
        25,
        ("OXFAM", "BRITISH RED CROSS", "CANCER RESEARCH UK", "RSPCA"),
        ("{S} HOSPICE", "{S} CHARITABLE TRUST"),
    ),
    _p(
        "veg_box",
        "groceries",
        CARD,
        "weekly",
        "card",
        18,
        32,
        ("RIVERFORD ORGANIC",),
        ("{S} FARM VEG BOX",),
        cancellable=True,
    ),
    _p(
        "magazine",
        "entertainment",
        DD,
        "quarterly",
        NWD,
        15,
        30,
        ("THE ECONOMIST",),
        ("{C} MAGAZINE",),
        price_rises=True,
    ),
    _p(
        "account_fee",
        "fees_charges",
        DD,
        "monthly",
        NWD,
        3,
        15,
        ("MONTHLY ACCOUNT FEE",),
        ("MONTHLY ACCOUNT FEE",),
    ),
    _p(
        "cleaner",
        "other",
        SO,
        "weekly",
        NWD,
        30,
        60,
        ("{person} CLEANING",),
        ("{person} CLEANING",),
        cancellable=True,
    ),
    _p(
        "window_cleaner",
        "other",
        SO,
        "four_weekly",
        NWD,
        12,
        25,
        ("{person} WINDOWS",),
        ("{person} WINDOWS",),
    ),
)

#: Income plans, chosen per earner.
SALARY_MONTHLY = _p("salary", "income", "credit", "monthly", PWD, 1800, 4200, (), ())
SALARY_LWD = _p("salary_lwd", "income", "credit", "monthly", LWD, 1800, 4200, (), ())
WAGE_WEEKLY = _p("wage", "income", "credit", "weekly", PWD, 380, 620, (), ())
WAGE_FOUR_WEEKLY = _p("wage_4w", "income", "credit", "four_weekly", PWD, 1500, 2600, (), ())
WAGE_FORTNIGHTLY = _p("wage_2w", "income", "credit", "fortnightly", PWD, 700, 1300, (), ())
CHILD_BENEFIT = _p(
    "child_benefit",
    "income",
    "credit",
    "four_weekly",
    PWD,
    100,
    100,
    ("HMRC CHILD BENEFIT",),
    ("HMRC CHILD BENEFIT",),
)
PENSION = _p(
    "pension",
    "income",
    "credit",
    "monthly",
    PWD,
    300,
    900,
    ("DWP STATE PENSION", "AVIVA PENSION"),
    ("{C} PENSION",),
)
SAVINGS_INTEREST = _p(
    "interest", "income", "interest", "monthly", LWD, 0.5, 12, (), (), variability="variable"
)
