"""Phone numbers for WhatsApp and SMS, always stored in E.164 (``+593991234567``)."""

from __future__ import annotations

import phonenumbers
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from ...errors import InvalidRequest

#: Words that, alone in an inbound message, stop every message to its sender.
STOP_WORDS = frozenset({"STOP", "BAJA"})

#: The channels a person may choose, as (value, label).
CHANNEL_LABELS = {"whatsapp": _l("WhatsApp"), "sms": _l("SMS (text message)")}


class InvalidPhone(InvalidRequest):
    default_message = _l(
        "This phone number is not valid for WhatsApp or SMS: write it with its country code, "
        "e.g. +593 99 123 4567."
    )


def default_region() -> str:
    """The country of numbers written without their +code (``PHONE_DEFAULT_REGION``)."""
    return current_app.config.get("PHONE_DEFAULT_REGION", "EC") if has_app_context() else "EC"


def to_e164(raw: str, region: str = "EC") -> str:
    """``raw`` as an E.164 number, or ``InvalidPhone``; a number without ``+`` is read as
    one of ``region`` (Ecuador unless set otherwise)."""
    text = (raw or "").strip()
    if not text or len(text) > 40:
        raise InvalidPhone()
    try:
        number = phonenumbers.parse(text, region or None)
    except phonenumbers.NumberParseException:
        raise InvalidPhone() from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_stop(body: str) -> bool:
    """Whether an inbound text asks to stop (``STOP``, ``Baja.``…)."""
    return body.strip().strip(".!¡ ").upper() in STOP_WORDS


def record_consent(holder, phone: str, consent: bool, channel: str, now) -> None:
    """Set or withdraw the WhatsApp/SMS consent of a family or guide (``holder`` has
    ``message_phone``, ``message_consent_at`` and ``message_channel``). With consent the
    number must be valid (``InvalidPhone``); the time of a consent already given is kept."""
    if not consent:
        holder.message_phone = holder.message_consent_at = holder.message_channel = None
        return
    if channel not in CHANNEL_LABELS:
        raise InvalidRequest(_l("Please choose WhatsApp or SMS."))
    number = to_e164(phone, default_region())
    if holder.message_consent_at is None or holder.message_phone != number:
        holder.message_consent_at = now
    holder.message_phone, holder.message_channel = number, channel
