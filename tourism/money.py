"""Money is integer cents plus a currency code. Conversion and formatting live only here."""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import format_currency
from flask_babel import get_locale

CENTS_PER_UNIT = 100
#: Regional conventions for money: Spanish here means Ecuador's ``$1.234,50``.
FORMAT_LOCALES = {"es": "es_EC", "en": "en_US"}
MAX_CENTS = 10**11  # a billion dollars: far above any booking, below any integer column limit


def to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) / CENTS_PER_UNIT).quantize(Decimal("0.01"))


def format_money(cents: int, currency: str = "USD") -> str:
    """Format for the current locale: ``$1.234,50`` in Spanish, ``$1,234.50`` in English."""
    language = str(get_locale() or "es")
    return format_currency(
        to_decimal(cents), currency, locale=FORMAT_LOCALES.get(language, language)
    )


_AMOUNT = re.compile(r"(?P<units>[0-9]{1,9})(?:[.,](?P<cents>[0-9]{1,2}))?")


def parse_amount(text: str) -> int:
    """Parse a visitor-typed amount in currency units ("25", "25.50", "25,50", "$25") into
    cents.

    Raises ``ValueError`` for anything else (negative, more than two decimals, exponents,
    digit separators, non-ASCII digits); callers turn it into a translated message.
    """
    cleaned = text.strip().removeprefix("$").strip()
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        raise ValueError("not a valid amount")
    cents = int(match["units"]) * CENTS_PER_UNIT + int((match["cents"] or "0").ljust(2, "0"))
    if cents > MAX_CENTS:
        raise ValueError("too large")
    return cents
