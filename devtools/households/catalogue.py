"""Merchants, payees and the words that make names: the raw material of generated households.

``KNOWN`` holds national UK brands with the raw strings banks print for them. ``UNSEEN_NOUNS``
and the name parts build invented local businesses ("Hartley's Bakery"), and ``coined_name``
builds opaque brand-like names with no telling word at all: together they are merchants no
built-in list can contain, which is what the accuracy benchmark's evaluation set uses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Merchant:
    """A merchant with its category, the raw strings it appears as, and a clean name."""

    name: str
    category: str
    raw: tuple[str, ...]
    low: float
    high: float


def _m(name: str, category: str, low: float, high: float, *raw: str) -> Merchant:
    return Merchant(name, category, raw or (name.upper(),), low, high)


#: Discretionary spending at national brands, by category.
KNOWN: dict[str, tuple[Merchant, ...]] = {
    "groceries": (
        _m(
            "Tesco",
            "groceries",
            4,
            140,
            "TESCO STORES {n4}",
            "TESCO EXPRESS {n4}",
            "TESCO PFS {n4}",
        ),
        _m(
            "Sainsbury's",
            "groceries",
            4,
            130,
            "SAINSBURYS S/MKTS",
            "SAINSBURY'S {n4}",
            "JS ONLINE GROCERY",
        ),
        _m("Asda", "groceries", 5, 120, "ASDA STORES {n4}", "ASDA SUPERSTORE"),
        _m("Aldi", "groceries", 5, 90, "ALDI {n3} {TOWN}", "ALDI STORES"),
        _m("Lidl", "groceries", 4, 80, "LIDL GB {TOWN}", "LIDL UK"),
        _m("Morrisons", "groceries", 5, 110, "WM MORRISONS STORE", "MORRISONS {n4}"),
        _m("Co-op", "groceries", 3, 40, "CO-OP GROUP {n6}", "COOP FOOD {TOWN}"),
        _m("Waitrose", "groceries", 5, 120, "WAITROSE {n4}", "WAITROSE & PARTNERS"),
        _m("Ocado", "groceries", 40, 160, "OCADO RETAIL LTD", "OCADO.COM"),
        _m("M&S Food", "groceries", 4, 60, "M&S SIMPLY FOOD {n4}", "MARKS&SPENCER PLC SACAT {n4}"),
    ),
    "eating_out": (
        _m("Pret A Manger", "eating_out", 3, 15, "PRET A MANGER {TOWN}", "PRET {n3}"),
        _m("Costa", "eating_out", 2, 12, "COSTA COFFEE {n5}", "COSTA {TOWN}"),
        _m("Starbucks", "eating_out", 2, 12, "STARBUCKS {n5}"),
        _m("Greggs", "eating_out", 2, 10, "GREGGS PLC {n4}", "GREGGS {TOWN}"),
        _m("McDonald's", "eating_out", 3, 25, "MCDONALDS {n5}", "MCDONALD'S RESTAURANT"),
        _m("Nando's", "eating_out", 15, 70, "NANDOS {TOWN}", "NANDO'S CHICKENLAND"),
        _m("Deliveroo", "eating_out", 15, 55, "DELIVEROO", "DELIVEROO.CO.UK"),
        _m("Just Eat", "eating_out", 15, 50, "JUST EAT.CO.UK LTD", "JUSTEAT"),
        _m("Wagamama", "eating_out", 20, 80, "WAGAMAMA {TOWN}"),
        _m("Wetherspoon", "eating_out", 8, 45, "J D WETHERSPOON", "WETHERSPOONS {TOWN}"),
    ),
    "transport": (
        _m("Shell", "transport", 30, 90, "SHELL {TOWN}", "SHELL {n4}"),
        _m("BP", "transport", 30, 90, "BP {TOWN} SERVICE STN", "BP {n4}"),
        _m("Esso", "transport", 30, 85, "ESSO {TOWN}"),
        _m("TfL", "transport", 2, 15, "TFL TRAVEL CH", "TFL.GOV.UK/CP"),
        _m("Trainline", "transport", 8, 120, "TRAINLINE.COM", "TRAINLINE"),
        _m("Uber", "transport", 6, 35, "UBER *TRIP", "UBER* TRIP {ref}"),
        _m("RingGo", "transport", 1, 8, "RINGGO", "RINGGO PARKING"),
    ),
    "shopping": (
        _m("Amazon", "shopping", 5, 90, "AMAZON.CO.UK*{ref}", "AMZNMKTPLACE*{ref}", "AMAZON.CO.UK"),
        _m("Argos", "shopping", 8, 150, "ARGOS LTD", "ARGOS {TOWN}"),
        _m("John Lewis", "shopping", 15, 250, "JOHN LEWIS {n3}", "JOHN LEWIS PLC"),
        _m("Primark", "shopping", 5, 60, "PRIMARK {TOWN}"),
        _m("Next", "shopping", 10, 120, "NEXT RETAIL LTD", "NEXT DIRECTORY"),
        _m("eBay", "shopping", 5, 80, "PAYPAL *EBAY", "EBAY O*{ref}"),
        _m("IKEA", "shopping", 10, 200, "IKEA LTD {TOWN}", "IKEA"),
        _m("B&Q", "shopping", 5, 120, "B&Q {n4}", "B & Q {TOWN}"),
    ),
    "entertainment": (
        _m("Odeon", "entertainment", 8, 45, "ODEON CINEMAS", "ODEON {TOWN}"),
        _m("Vue", "entertainment", 8, 40, "VUE BSL LTD", "VUE CINEMAS"),
        _m("Steam", "entertainment", 3, 50, "STEAMGAMES.COM {n4}", "STEAM PURCHASE"),
        _m("Ticketmaster", "entertainment", 20, 150, "TICKETMASTER UK"),
    ),
    "health": (
        _m("Boots", "health", 3, 40, "BOOTS {n4} {TOWN}", "BOOTS THE CHEMIST"),
        _m("Superdrug", "health", 3, 30, "SUPERDRUG {n4}"),
        _m("Specsavers", "health", 20, 180, "SPECSAVERS {TOWN}"),
    ),
    "personal_care": (
        _m("Toni & Guy", "personal_care", 30, 80, "TONI&GUY {TOWN}"),
        _m("Lush", "personal_care", 5, 40, "LUSH RETAIL {TOWN}"),
    ),
    "travel": (
        _m("easyJet", "travel", 40, 400, "EASYJET {ref}", "EASYJET AIRLINE"),
        _m("Ryanair", "travel", 25, 300, "RYANAIR {ref}"),
        _m("British Airways", "travel", 80, 900, "BRITISH A {ref}", "BRITISH AIRWAYS"),
        _m("Premier Inn", "travel", 50, 250, "PREMIER INN {TOWN}", "PREMIER INN {n5}"),
        _m("Airbnb", "travel", 80, 900, "AIRBNB * {ref}"),
        _m("Booking.com", "travel", 60, 600, "BOOKING.COM", "HOTEL AT BOOKING.COM"),
    ),
    "charity_gifts": (
        _m("JustGiving", "charity_gifts", 5, 50, "JUSTGIVING", "JG *JUSTGIVING"),
        _m("Moonpig", "charity_gifts", 4, 40, "MOONPIG.COM"),
        _m("Interflora", "charity_gifts", 25, 60, "INTERFLORA"),
    ),
    "childcare_education": (
        _m("ParentPay", "childcare_education", 2, 40, "PARENTPAY", "PARENTPAY LTD"),
        _m("WHSmith", "childcare_education", 3, 25, "WHSMITH {TOWN}"),
    ),
    "fees_charges": (),
    "cash": (),
}

#: Telling nouns for invented local businesses, by category.
UNSEEN_NOUNS: dict[str, tuple[str, ...]] = {
    "groceries": (
        "Convenience Store",
        "Food Store",
        "Mini Market",
        "Butchers",
        "Greengrocers",
        "Bakery",
        "Farm Shop",
        "Deli",
        "Fishmonger",
        "Food Hall",
    ),
    "eating_out": (
        "Cafe",
        "Coffee House",
        "Kitchen",
        "Bistro",
        "Pizzeria",
        "Fish Bar",
        "Tandoori",
        "Noodle Bar",
        "Arms",
        "Grill",
        "Takeaway",
        "Tea Rooms",
        "Inn",
    ),
    "transport": ("Service Station", "Garage", "Taxis", "Motors", "Tyres", "Parking"),
    "shopping": (
        "Boutique",
        "Gifts",
        "Hardware",
        "Interiors",
        "Books",
        "Toys",
        "Shoes",
        "Electricals",
        "Garden Centre",
        "Home Store",
    ),
    "entertainment": (
        "Cinema",
        "Bowling",
        "Theatre",
        "Escape Rooms",
        "Trampoline Park",
        "Soft Play",
        "Games",
    ),
    "health": ("Pharmacy", "Chemist", "Dental Practice", "Opticians", "Physiotherapy", "Clinic"),
    "personal_care": ("Barbers", "Hair Salon", "Beauty", "Nails", "Hair & Beauty"),
    "childcare_education": ("Nursery", "Pre-School", "Tutoring", "Swim School", "Dance School"),
    "charity_gifts": ("Hospice", "Charitable Trust", "Foundation"),
    "travel": ("Hotel", "Guest House", "Holiday Park", "Lodge", "Cottages"),
}

_SURNAMES = (
    "Hartley",
    "Whitmore",
    "Ashby",
    "Pennington",
    "Carver",
    "Fairfax",
    "Holloway",
    "Kemble",
    "Lockwood",
    "Marlow",
    "Northcott",
    "Oakley",
    "Prescott",
    "Radley",
    "Sherwood",
    "Thackeray",
    "Underwood",
    "Vickers",
    "Westbrook",
    "Yardley",
    "Aldridge",
    "Bramwell",
    "Coultard",
    "Dunmore",
    "Elstow",
    "Fenwick",
    "Garside",
    "Hebden",
    "Ingham",
    "Jessop",
    "Kirkby",
    "Langdale",
)
_PLACE_WORDS = (
    "Riverside",
    "Old Mill",
    "Market Street",
    "Green Lane",
    "Harbour",
    "Abbey",
    "Castle",
    "Meadow",
    "Orchard",
    "High Street",
    "Station Road",
    "Willow",
    "Oak Tree",
    "Bridge",
    "Crown",
    "Red Lion",
    "Kings Head",
    "Golden",
    "Silver Birch",
    "Hillside",
)
_SYLLABLES = (
    "za",
    "vo",
    "ri",
    "kel",
    "mo",
    "tan",
    "bri",
    "lu",
    "sa",
    "ne",
    "qui",
    "dor",
    "fen",
    "ix",
    "ol",
    "ta",
    "ver",
    "no",
    "ka",
    "ru",
)

#: Towns printed after card merchants.
TOWNS = (
    "LONDON",
    "MANCHESTER",
    "LEEDS",
    "BRISTOL",
    "READING",
    "YORK",
    "NORWICH",
    "DERBY",
    "BATH",
    "EXETER",
    "SHEFFIELD",
    "LUTON",
    "OXFORD",
    "CHESTER",
    "IPSWICH",
    "SWINDON",
)

#: First names and surnames of people paid by transfer.
PEOPLE = (
    "J SMITH",
    "A PATEL",
    "S JONES",
    "M WILLIAMS",
    "K NOWAK",
    "R BROWN",
    "L TAYLOR",
    "D KHAN",
    "E WILSON",
    "H EVANS",
    "C MURPHY",
    "P WRIGHT",
)


#: Nouns kept out of development entirely (and out of the categoriser's keywords), to measure
#: what happens with telling words the categoriser has never been given.
HELD_OUT_NOUNS: dict[str, tuple[str, ...]] = {
    "groceries": ("Provisions", "Larder", "Pantry", "Wholefoods", "Cheesemonger"),
    "eating_out": ("Chophouse", "Smokehouse", "Gastropub", "Creperie", "Dim Sum"),
    "transport": ("Autocentre", "Filling Station", "Minicabs", "Car Hire"),
    "shopping": ("Emporium", "Haberdashery", "Ironmongers", "Bazaar", "Trading Post"),
    "entertainment": ("Playhouse", "Lido", "Laser Quest", "Climbing Wall"),
    "health": ("Podiatry", "Audiology", "Apothecary", "Wellbeing Centre"),
    "personal_care": ("Grooming Lounge", "Brow Bar", "Tattoo Studio"),
    "childcare_education": ("Kindergarten", "Learning Centre", "Music Lessons"),
    "charity_gifts": ("Benevolent Fund", "Relief Fund", "Sanctuary"),
    "travel": ("Inn & Suites", "Glamping", "Caravan Site", "Aparthotel"),
}


def local_business(rng: random.Random, category: str, *, held_out: bool = False) -> Merchant:
    """An invented local business of ``category``, e.g. "Hartley's Bakery"."""
    noun = rng.choice((HELD_OUT_NOUNS if held_out else UNSEEN_NOUNS)[category])
    if noun in {"Arms", "Inn"}:
        name = f"The {rng.choice(_PLACE_WORDS)} {noun}"
    elif rng.random() < 0.5:
        name = (
            f"{rng.choice(_SURNAMES)}'s {noun}"
            if rng.random() < 0.5
            else (f"{rng.choice(_SURNAMES)} {noun}")
        )
    else:
        name = f"{rng.choice(_PLACE_WORDS)} {noun}"
    low, high = _RANGES[category]
    return Merchant(name, category, (name.upper().replace("'", ""),), low, high)


def coined_name(rng: random.Random) -> str:
    """A brand-like invented word with no telling noun ("Kelmora")."""
    word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
    return word.capitalize()


def opaque_business(rng: random.Random, category: str) -> Merchant:
    """An invented brand with nothing in its name that tells its category."""
    name = coined_name(rng)
    low, high = _RANGES[category]
    return Merchant(name, category, (name.upper(), f"{name.upper()} LTD"), low, high)


def employer(rng: random.Random) -> str:
    """An invented employer name."""
    suffix = rng.choice(("Ltd", "Group Ltd", "Holdings Plc", "Solutions Ltd", "& Co LLP"))
    return f"{rng.choice(_SURNAMES)} {coined_name(rng)} {suffix}"


_RANGES: dict[str, tuple[float, float]] = {
    "groceries": (3, 90),
    "eating_out": (3, 60),
    "transport": (3, 80),
    "shopping": (5, 120),
    "entertainment": (6, 60),
    "health": (4, 60),
    "personal_care": (10, 60),
    "childcare_education": (5, 60),
    "charity_gifts": (5, 40),
    "travel": (50, 500),
}
