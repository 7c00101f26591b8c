"""Email addresses as the whole site checks them: the forms and the services apply one rule,
so an address a form accepts is never refused by the service behind it, or the reverse."""

from __future__ import annotations

from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

__all__ = ["EmailNotValidError", "normalised"]


@lru_cache(maxsize=1024)
def normalised(address: str) -> str:
    """``address`` without surrounding spaces, in its normal form (the domain lower-cased,
    Unicode normalised); raise ``EmailNotValidError`` when it is not a valid address. The
    domain's DNS is not asked. A booking checks the address in its form and again in the
    service: the second check of the same text is a lookup (a refusal is not remembered)."""
    return validate_email(address.strip(), check_deliverability=False).normalized
