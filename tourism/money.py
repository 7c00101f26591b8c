"""Money is integer cents plus a currency code. Conversion, formatting and allocation live only
here."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from babel.numbers import format_currency
from flask_babel import get_locale

CENTS_PER_UNIT = 100
#: Regional conventions for money: Spanish here means Ecuador's ``$1.234,50``.
FORMAT_LOCALES = {"es": "es_EC", "en": "en_US"}
MAX_CENTS = 10**11  # a billion dollars: far above any booking, below any integer column limit


def to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) / CENTS_PER_UNIT).quantize(Decimal("0.01"))


def decimal_text(cents: int) -> str:
    """Cents as plain decimal text, ``"1234.50"``: what CSV cells and amount fields hold
    (no currency sign, no grouping, a point whatever the language)."""
    return str(to_decimal(cents))


def format_money(cents: int, currency: str = "USD") -> str:
    """Format for the current locale: ``$1.234,50`` in Spanish, ``$1,234.50`` in English."""
    language = str(get_locale() or "es")
    return format_currency(
        to_decimal(cents), currency, locale=FORMAT_LOCALES.get(language, language)
    )


def format_parts(currency: str = "USD") -> dict[str, str]:
    """How ``format_money`` writes amounts in the current locale, in pieces a script can use
    to write them the same way: ``prefix``, ``group`` and ``decimal`` separators, ``suffix``
    (``$``, ``.``, ``,``, ``""`` for Spanish)."""
    sample = format_money(123456789, currency)  # 1,234,567.89
    first, last = sample.index("1"), sample.rindex("9")
    body = sample[first : last + 1]
    return {
        "prefix": sample[:first],
        "suffix": sample[last + 1 :],
        "group": "" if body[1].isdigit() else body[1],
        "decimal": body[-3],
    }


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


def percent_of(amount_cents: int, percent: int) -> int:
    """``percent`` % of ``amount_cents``, rounded half up to the cent (deposits, refunds by
    policy). The one place a percentage of money is taken."""
    return (amount_cents * percent + 50) // 100


def basis_points_of(amount_cents: int, basis_points: int) -> int:
    """``basis_points`` (1/100 of a percent) of ``amount_cents``, rounded half up."""
    return (amount_cents * basis_points + 5_000) // 10_000


def allocate(amount_cents: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount_cents`` by integer ``weights`` so the shares sum exactly to the amount.

    Largest-remainder method: each share starts at the floor of its exact pro-rata part
    (``amount * weight / total``); the cents left over go one each to the shares with the
    largest remainders, ties to the lower index. So every share is the floor or the ceiling
    of its exact part, a zero weight always gets 0, and the same input always gives the same
    output. Integer arithmetic only.

    Raises ``ValueError`` for a negative amount, a negative weight, no weights, or weights
    that are all zero (there is no one to give the money to), and ``TypeError`` for
    anything that is not an integer.
    """
    weights = list(weights)
    for value in (amount_cents, *weights):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"allocate works on integers, not {type(value).__name__}")
    if amount_cents < 0:
        raise ValueError("cannot allocate a negative amount")
    if not weights:
        raise ValueError("no weights to allocate by")
    if any(weight < 0 for weight in weights):
        raise ValueError("weights cannot be negative")
    total = sum(weights)
    if total == 0:
        raise ValueError("all weights are zero")
    parts = [divmod(amount_cents * weight, total) for weight in weights]
    shares = [quotient for quotient, _ in parts]
    # sum(remainders) == leftover * total and each remainder < total, so at least `leftover`
    # remainders are positive: the extra cents never reach a zero weight.
    leftover = amount_cents - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-parts[i][1], i))
    for index in by_remainder[:leftover]:
        shares[index] += 1
    return shares
