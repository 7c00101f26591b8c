"""The contact details of a booking, checked and normalised before anything is written:
the name, email and phone the association reaches the visitor by, their language, and
what they agreed to (special needs, WhatsApp/SMS messages)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ... import email_addresses
from ...errors import InvalidRequest
from ..messages.phones import CHANNEL_LABELS, default_region, to_e164

LIMITS = {"name": 120, "email": 254, "phone": 40, "special_needs": 1000}


@dataclass
class ContactDetails:
    name: str
    email: str
    phone: str
    country: str
    language: str
    special_needs: str = ""
    #: The visitor agreed that the association may use ``special_needs`` (it may be health
    #: data) to prepare the visit; required when there are needs.
    special_needs_consent: bool = False
    #: The visitor ticked "send me WhatsApp/SMS messages about this booking" (email comes
    #: anyway); ``message_channel`` is ``whatsapp`` or ``sms``. Set by ``validate_contact``:
    #: ``message_phone``, the number in E.164.
    messages_opt_in: bool = False
    message_channel: str = "whatsapp"
    message_phone: str | None = None


#: Said when special needs come without the visitor's consent to their use.
NEEDS_CONSENT_MISSING = _l(
    "To send us your special needs, agree that the association may use them to prepare your "
    "visit; or leave the field empty."
)


def phone_is_callable(phone: str) -> bool:
    """A phone number someone could dial: at least six digits and only the usual signs."""
    allowed = set("0123456789+-() ./")
    return sum(ch.isdigit() for ch in phone) >= 6 and set(phone) <= allowed


def validate_contact(contact: ContactDetails, languages: list[str]) -> ContactDetails:
    """Check and normalise contact details; raise ``InvalidRequest`` with a clear message."""
    name = contact.name.strip()
    phone = contact.phone.strip()
    needs = contact.special_needs.strip()
    if not name:
        raise InvalidRequest(_l("Please give the name of the person booking."))
    for key, value in (("name", name), ("phone", phone), ("special_needs", needs)):
        if len(value) > LIMITS[key]:
            raise InvalidRequest(_l("A field is too long."))
    if len(contact.email) > LIMITS["email"]:
        raise InvalidRequest(_l("A field is too long."))
    try:
        email = email_addresses.normalised(contact.email)
    except email_addresses.EmailNotValidError as exc:
        raise InvalidRequest(_l("Please give a valid email address.")) from exc
    if not phone_is_callable(phone):
        raise InvalidRequest(_l("Please give a phone number we can call, with its country code."))
    country = contact.country.strip().upper()
    if len(country) != 2 or not country.isalpha() or not country.isascii():
        raise InvalidRequest(_l("Please choose a country."))
    if contact.language not in languages:
        raise InvalidRequest(_l("Please choose a language."))
    if needs and not contact.special_needs_consent:
        raise InvalidRequest(NEEDS_CONSENT_MISSING)
    message_phone = None
    if contact.messages_opt_in:
        if contact.message_channel not in CHANNEL_LABELS:
            raise InvalidRequest(_l("Please choose WhatsApp or SMS."))
        message_phone = to_e164(phone, default_region())
    return ContactDetails(
        name,
        email,
        phone,
        country,
        contact.language,
        needs,
        bool(needs),
        messages_opt_in=contact.messages_opt_in,
        message_channel=contact.message_channel,
        message_phone=message_phone,
    )
