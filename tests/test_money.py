"""Money: integer cents in, the visitor's conventions out."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from tourism.money import format_money, parse_amount


@pytest.mark.parametrize(
    ("text", "cents"),
    [("25", 2500), ("25.5", 2550), ("25,50", 2550), ("$ 1", 100), ("0", 0), ("0.01", 1)],
)
def test_parse_amount(text, cents):
    assert parse_amount(text) == cents


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "-1",
        "1.001",
        "NaN",
        "Infinity",
        "1e400",
        "9" * 30,
        "1e3",
        "1_000",
        "4 5",
        "\u0664\u0665",
        "1.2.3",
        ".5",
    ],
)
def test_parse_amount_refuses_nonsense(text):
    with pytest.raises(ValueError):
        parse_amount(text)


def test_format_money_follows_the_locale(app):
    with app.test_request_context():
        with force_locale("es"):
            assert format_money(123450) == "$1.234,50"
        with force_locale("en"):
            assert format_money(123450) == "$1,234.50"
