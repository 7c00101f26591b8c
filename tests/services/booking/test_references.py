"""References people can read aloud; tokens nobody can guess."""

from __future__ import annotations

import re

from tourism.services.booking.references import ALPHABET, new_manage_token, new_reference


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
