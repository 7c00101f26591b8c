"""Phone numbers for WhatsApp and SMS, always stored in E.164 (``+593991234567``)."""

from __future__ import annotations

import unicodedata

import phonenumbers
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from ...errors import InvalidRequest

#: Words that, alone in an inbound message, stop every message to its sender.
STOP_WORDS = frozenset({"STOP", "BAJA", "STOPALL", "UNSUBSCRIBE", "PARAR", "DETENER"})
#: By SMS also the words the provider itself takes as opting out: it refuses our later sends
#: to a number that wrote one, so we stop too. Not by WhatsApp, where "cancel" is more likely
#: about the booking than about the messages (and is kept for the association to read).
SMS_STOP_WORDS = STOP_WORDS | {"CANCEL", "END", "QUIT"}
#: Words that, alone in an inbound message, let messages to a number that said STOP resume
#: (the usual SMS keywords, and Spanish "alta" as the twin of "baja").
START_WORDS = frozenset({"START", "UNSTOP", "ALTA"})

#: The phone channels a tourist may choose, as (value, label).
CHANNEL_LABELS = {"whatsapp": _l("WhatsApp"), "sms": _l("SMS (text message)")}
#: Families and guides may also have their notices by email.
EMAIL = "email"
PERSON_CHANNEL_LABELS = {**CHANNEL_LABELS, EMAIL: _l("Email")}


class InvalidPhone(InvalidRequest):
    default_message = _l(
        "This phone number is not valid for WhatsApp or SMS: write it with its country code, "
        "e.g. +593 99 123 4567."
    )


def default_region() -> str:
    """The country of numbers written without their +code (``PHONE_DEFAULT_REGION``)."""
    return current_app.config.get("PHONE_DEFAULT_REGION", "EC") if has_app_context() else "EC"


#: Numbers no WhatsApp account or text message reaches: a landline (+593 2 …), toll-free,
#: premium and the like. A number whose kind the numbering plan cannot tell is let through.
_NOT_FOR_MESSAGES = frozenset(
    {
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.PAGER,
        phonenumbers.PhoneNumberType.UAN,
        phonenumbers.PhoneNumberType.VOICEMAIL,
    }
)


def to_e164(raw: str, region: str = "EC", for_messages: bool = True) -> str:
    """``raw`` as an E.164 number, or ``InvalidPhone``; a number without ``+`` is read as
    one of ``region`` (Ecuador unless set otherwise). ``for_messages``: one a message can
    reach (not a landline or a toll-free number)."""
    text = (raw or "").strip()
    if not text or len(text) > 40:
        raise InvalidPhone()
    try:
        number = phonenumbers.parse(text, region or None)
    except phonenumbers.NumberParseException:
        raise InvalidPhone() from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone()
    if for_messages and phonenumbers.number_type(number) in _NOT_FOR_MESSAGES:
        raise InvalidPhone()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _keyword(body: str) -> str:
    """The one word a keyword message is: any width (``ＳＴＯＰ``), any case, without
    invisible characters or the punctuation around it (``¿Stop?``, ``Baja.``)."""
    text = unicodedata.normalize("NFKC", body)
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cf", "Cc"))
    return text.strip().strip(".,;:!?¡¿ \t\n").strip().upper().replace(" ", "")


def is_stop(body: str, channel: str = "whatsapp") -> bool:
    """Whether an inbound text asks to stop (``STOP``, ``Baja.``…)."""
    return _keyword(body) in (SMS_STOP_WORDS if channel == "sms" else STOP_WORDS)


def is_start(body: str) -> bool:
    """Whether an inbound text asks for messages again (``START``, ``Alta``…)."""
    return _keyword(body) in START_WORDS


def record_consent(holder, phone: str, consent: bool, channel: str, now) -> None:
    """Set or withdraw the WhatsApp/SMS consent of a family or guide (``holder`` has
    ``message_phone``, ``message_consent_at`` and ``message_channel``), and the channel they
    chose (``PERSON_CHANNEL_LABELS``). With consent the number must be valid
    (``InvalidPhone``); the time of a consent already given is kept. Email needs no phone
    consent: it is kept as the choice, and the number only with the consent."""
    if channel not in PERSON_CHANNEL_LABELS:
        raise InvalidRequest(_l("Please choose WhatsApp, SMS or email."))
    if not consent:
        holder.message_phone = holder.message_consent_at = None
        holder.message_channel = EMAIL if channel == EMAIL else None
        return
    number = to_e164(phone, default_region())
    if holder.message_consent_at is None or holder.message_phone != number:
        holder.message_consent_at = now
    holder.message_phone, holder.message_channel = number, channel
