"""What text a visitor or a phone may send: no control characters.

A line break in a one-line field ends up where one line is expected (an email's Subject, a
CSV cell, a log line) and breaks it; a NUL cannot even be stored by PostgreSQL. Forms refuse
such input (tourism/forms/base.py), the JSON endpoints too, and text that is already stored
is made one line where one line is required (``one_line``).
"""

from __future__ import annotations

import re

#: C0 and C1 control characters, DEL, Unicode's line and paragraph separators, and the
#: bidirectional overrides and isolates, which make a name read backwards ("‮gnp.exe").
_SINGLE_LINE_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
#: The same, but a text of several lines may hold tabs and line breaks.
_MULTI_LINE_BAD = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_RUNS = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def has_control_characters(value: str, multiline: bool = False) -> bool:
    """True when ``value`` holds a character a field of its kind must not hold."""
    return bool((_MULTI_LINE_BAD if multiline else _SINGLE_LINE_BAD).search(value))


def is_clean_line(value: object, max_length: int) -> bool:
    """A non-empty string of at most ``max_length`` characters, on one line."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= max_length
        and not has_control_characters(value)
    )


def one_line(value: str) -> str:
    """``value`` on one line: every run of whitespace or control characters becomes a space."""
    return _RUNS.sub(" ", value).strip()


def ascii_whole_number(value: object, max_digits: int = 9, leading_zeros: bool = True):
    """``value`` as a whole number when it is text of ASCII digits only (at most
    ``max_digits`` of them), else None. ``str.isdigit`` alone also takes "²", which ``int``
    refuses, and "٧" or "２", which ``int`` reads as 7 and 2. An id (``leading_zeros=False``)
    is written one way only: "07" names nothing."""
    if not (isinstance(value, str) and 0 < len(value) <= max_digits):
        return None
    if not (value.isascii() and value.isdigit()):
        return None
    if not leading_zeros and len(value) > 1 and value[0] == "0":
        return None
    return int(value)
