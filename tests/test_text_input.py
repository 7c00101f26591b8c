"""The rules for text a visitor, a phone or a reseller may send (tourism/text_input.py)."""

from __future__ import annotations

import pytest

from tourism.text_input import ascii_whole_number, has_control_characters


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7), ("007", 7), ("123456789", 123456789), ("1234567890", None), ("", None)],
)
def test_whole_numbers_in_ascii_digits(value, expected):
    assert ascii_whole_number(value) == expected


@pytest.mark.parametrize(
    "value", ["²", "٧", "２", "7²", " 7", "7 ", "-7", "+7", "7.0", "1e3", "1_0"]
)
def test_what_str_isdigit_or_int_would_take_is_not_a_whole_number(value):
    assert ascii_whole_number(value) is None


@pytest.mark.parametrize("value", [None, 7, 7.0, b"7", ["7"]])
def test_only_text_is_read(value):
    assert ascii_whole_number(value) is None


def test_an_id_is_written_one_way():
    assert ascii_whole_number("70", leading_zeros=False) == 70
    assert ascii_whole_number("0", leading_zeros=False) == 0
    assert ascii_whole_number("07", leading_zeros=False) is None


@pytest.mark.parametrize("text", ["\u202eAna", "gnp\u202e.exe", "a\u2066b\u2069", "x\u202ay"])
def test_bidirectional_overrides_are_refused_on_one_line_and_several(text):
    """They make text read backwards where it is shown (a name, a group's message)."""
    assert has_control_characters(text)
    assert has_control_characters(text, multiline=True)


def test_ordinary_text_of_any_script_passes():
    for text in ("Ñukanchik Kawsay", "Wiñak – ruta", "שלום", "مرحبا", "Ana\nQuispe"):
        assert not has_control_characters(text, multiline=True), text
