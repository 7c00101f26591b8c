"""One rule for email addresses, in forms and services (tourism/email_addresses.py)."""

from __future__ import annotations

import pytest

from tourism import email_addresses

pytestmark = pytest.mark.no_database


def test_an_address_is_trimmed_and_its_domain_normalised():
    assert email_addresses.normalised("  Ana.Quispe@Example.ORG ") == "Ana.Quispe@example.org"


@pytest.mark.parametrize("text", ["", " ", "ana", "ana@", "@example.org", "ana@@example.org"])
def test_what_is_not_an_address_is_refused(text):
    with pytest.raises(email_addresses.EmailNotValidError):
        email_addresses.normalised(text)


def test_the_second_check_of_the_same_text_is_remembered():
    email_addresses.normalised("guide@example.org")
    hits = email_addresses.normalised.cache_info().hits
    assert email_addresses.normalised("guide@example.org") == "guide@example.org"
    assert email_addresses.normalised.cache_info().hits == hits + 1
