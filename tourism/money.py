"""Money is integer cents plus a currency code. Conversion and formatting live only here."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

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


def parse_amount(text: str) -> int:
    """Parse a visitor-typed amount in currency units ("25", "25.50", "25,50") into cents.

    Raises ``ValueError`` for anything that is not a non-negative amount with at most two
    decimals; callers turn it into a translated message.
    """
    cleaned = text.strip().replace("$", "").replace(" ", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError("not a number") from exc
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:
        raise ValueError("not a valid amount")
    cents = int(amount * CENTS_PER_UNIT)
    if cents > MAX_CENTS:
        raise ValueError("too large")
    return cents
