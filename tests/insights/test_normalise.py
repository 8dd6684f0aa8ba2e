"""Merchant normalisation: what banks print becomes one comparable merchant string."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.insights.normalise import normalise_merchant


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # processor prefixes
        ("SQ *THE CORNER CAFE", "the corner cafe"),
        ("Sq *The Corner Cafe", "the corner cafe"),
        ("PAYPAL *SPOTIFY", "spotify"),
        ("CRV*THE RED LION", "the red lion"),
        ("SumUp *JOES BARBERS", "joes barbers"),
        ("SUMUP *JOES BARBERS", "joes barbers"),
        ("ZETTLE_*HARBOUR BOOKS", "harbour books"),
        ("GOOGLE *YOUTUBE PREMIUM", "youtube premium"),
        # card, store and reference numbers; a merchant's own "*reference"
        ("TESCO STORES 3297", "tesco stores"),
        ("NETFLIX.COM CD 1234", "netflix"),
        ("AMAZON.CO.UK*AB12CD", "amazon"),
        ("AMAZON PRIME*2K4LM", "amazon prime"),
        ("UBER* TRIP ABC123", "uber"),
        ("BRITISH GAS 12345678 DD", "british gas"),
        # dates
        ("CARD PAYMENT TO TESCO STORES 3297 ON 12MAR", "tesco stores"),
        ("Tesco Stores 01/02/2024", "tesco stores"),
        ("CASH WITHDRAWAL 12MAR", "cash withdrawal"),
        # locations
        ("PRET A MANGER LEEDS", "pret a manger"),
        ("ALDI 123 MANCHESTER GB", "aldi"),
        ("LIDL GB LONDON", "lidl"),
        # bank rail words, case and punctuation
        ("DD BRITISH GAS", "british gas"),
        ("EASY ACCESS SAVER STO", "easy access saver"),
        ("FAIRFAX GROUP LTD BGC", "fairfax group"),
        ("FASTER PAYMENT TO J SMITH", "j smith"),
        ("))) PRET A MANGER", "pret a manger"),
        ("))) CRV*COULTARDS BISTRO", "coultards bistro"),
        ("SAINSBURY'S 1234", "sainsburys"),
        ("McDonald\u2019s", "mcdonalds"),
        ("B & Q 1234", "bq"),
        ("M&S SIMPLY FOOD 2211", "ms simply food"),
        ("O2 UK", "o2"),
        ("APPLE.COM/BILL", "apple bill"),
    ],
)
def test_normalises(raw: str, expected: str) -> None:
    assert normalise_merchant(raw) == expected


def test_variants_of_one_merchant_agree() -> None:
    variants = [
        "CARD PAYMENT TO SQ *THE CORNER CAFE 4471 LONDON GB ON 12MAR",
        "SQ *THE CORNER CAFE CD 9921",
        "The Corner Cafe",
        "))) SQ *THE CORNER CAFE",
    ]
    assert {normalise_merchant(v) for v in variants} == {"the corner cafe"}


@given(st.text(max_size=60))
def test_output_is_lower_case_words(text: str) -> None:
    result = normalise_merchant(text)
    assert result == result.strip()
    assert "  " not in result
    assert all(c.isascii() and (c.isalnum() or c == " ") for c in result)
    assert result == result.lower()


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=60))
def test_case_does_not_matter(text: str) -> None:
    assert normalise_merchant(text.upper()) == normalise_merchant(text.lower())
