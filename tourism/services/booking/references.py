"""Booking references people can read aloud, and manage-link secrets nobody can guess."""

from __future__ import annotations

import secrets

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ...models import Booking

# Crockford-style alphabet: no 0/O, 1/I/L or U, so a reference survives a phone call.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 6


_REFERENCE_TAKEN = select(Booking.id).where(Booking.reference == bindparam("reference"))


def new_reference_candidate(association_code: str) -> str:
    """A random ``KAL-7F3K9Q``-style reference, maybe taken already: for an insert that
    the unique index refuses when it is (``hold_rows.insert_booking``)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{association_code.upper()}-{body}"


def new_reference(session: Session, association_code: str) -> str:
    """A fresh ``KAL-7F3K9Q``-style reference not used by any booking yet."""
    while True:
        reference = new_reference_candidate(association_code)
        exists = session.execute(_REFERENCE_TAKEN, {"reference": reference}).first()
        if exists is None:
            return reference


def new_manage_token() -> str:
    """256 bits of randomness, URL-safe."""
    return secrets.token_urlsafe(32)


def normalize_reference(text: str, association_code: str | None = None) -> str:
    """A reference as it is stored (``KAL-7F3K9Q``) from what someone typed or scanned: any
    case, with or without the dash, with spaces or other separators (``kal 7f3k9q``,
    ``KAL7F3K9Q``, ``kal–7f3k9q``). Given the association's code, the six characters alone
    (``7f3k9q``) are enough too."""
    cleaned = "".join(char for char in text.upper() if char.isascii() and char.isalnum())
    if association_code and len(cleaned) == REFERENCE_LENGTH:
        cleaned = association_code.upper() + cleaned
    if len(cleaned) <= REFERENCE_LENGTH:
        return cleaned
    return f"{cleaned[:-REFERENCE_LENGTH]}-{cleaned[-REFERENCE_LENGTH:]}"
