"""Cleaning what association staff type into the management forms: trimmed texts within a
length, language codes from the vocabulary, email addresses."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from ... import vocabulary
from ...errors import InvalidRequest
from ..access import accounts
from ..catalog.experience_input import text_too_long

EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def clean_text(value: str | None, limit: int, required_message=None) -> str:
    value = (value or "").strip()
    if required_message is not None and not value:
        raise InvalidRequest(required_message)
    if len(value) > limit:
        raise InvalidRequest(text_too_long(limit))
    return value


def clean_languages(codes) -> str:
    codes = list(dict.fromkeys(codes))
    if any(code not in vocabulary.LANGUAGES for code in codes):
        raise InvalidRequest(_l("Choose languages from the list."))
    return ",".join(codes)


def clean_email(value: str, required: bool = True) -> str:
    value = accounts.normalize_email(value or "")
    if not value and not required:
        return ""
    if len(value) > 254 or not EMAIL_SHAPE.fullmatch(value):
        raise InvalidRequest(_l("Please give a valid email address."))
    return value
