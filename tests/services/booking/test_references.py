"""References people can read aloud; tokens nobody can guess."""

from __future__ import annotations

import re

from tourism.services.booking.references import (
    ALPHABET,
    new_manage_token,
    new_reference,
    normalize_reference,
)


def test_reference_shape(session):
    refs = {new_reference(session, "kal") for _ in range(200)}
    assert len(refs) == 200
    for ref in refs:
        assert re.fullmatch(r"KAL-[" + ALPHABET + r"]{6}", ref)
        assert not set("01OILU") & set(ref[4:])


def test_manage_tokens_are_long_and_unique():
    tokens = {new_manage_token() for _ in range(500)}
    assert len(tokens) == 500
    assert all(len(t) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", t) for t in tokens)


def test_typed_references_are_read_as_stored():
    for typed in ("KAL-4N4Y7T", "kal4n4y7t", " kal 4n4 y7t ", "Kal–4n4y7t", "KAL_4N4Y7T"):
        assert normalize_reference(typed) == "KAL-4N4Y7T", typed
    assert normalize_reference("4n4y7t", "kal") == "KAL-4N4Y7T"
    assert normalize_reference("4n4y7t") == "4N4Y7T"  # without the code, as typed
    assert normalize_reference("") == ""
