"""Families' and guides' notices by email: the same words as their WhatsApp/SMS message.

A family or guide gets a notice by email when they chose email, when they gave no phone
consent (or their number said STOP), or when WhatsApp and SMS both failed: the tourists'
messages always had their email twin, the people who host and guide them now do too. The row
is an ordinary outbox ``Notification`` (kind ``notice``, sent by the send-email job), keyed
after the phone message it stands for with ``:email`` (``family:3:visitors:2026-12-05:email``),
so it is queued once however often the event behind it is replayed.
"""

from __future__ import annotations

import json
from email.message import EmailMessage
from html import escape

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...database import utcnow
from ...models import Booking, Family, Notification, PhoneMessage, User
from ...models.messaging import PHONE_CHANNELS
from ...text_input import one_line
from .email_jobs import enqueue_delivery
from .rendering import message_locale

#: The outbox kind of a notice by email (its words are in the context, already translated).
NOTICE = "notice"

#: The subject of each kind of notice; any other kind gets ``DEFAULT_SUBJECT``.
SUBJECTS = {
    "family_visitors": _l("Your visitors tomorrow"),
    "family_payout": _l("A payment to your family was recorded"),
    "guide_tomorrow": _l("Your departures tomorrow"),
    "guide_assignments": _l("Your departures changed"),
    "homestay_tomorrow": _l("Your homestay guests tomorrow night"),
    "homestay_booked": _l("New homestay guests"),
    "homestay_cancelled": _l("Homestay guests cancelled"),
    "reply": _l("A reply about your booking"),
}
#: The kind of an association's free-text answer to a visitor (``conversations``).
REPLY = "reply"
DEFAULT_SUBJECT = _l("A message from Chakra Routes")


def email_key(key: str) -> str:
    """The email's key for a phone message's key (its channel replaced by ``email``)."""
    for channel in PHONE_CHANNELS:
        key = key.removesuffix(f":{channel}")
    return f"{key}:email"


def queue_notice_email(
    session: Session, *, key: str, kind: str, recipient: str, language: str, body: str
) -> Notification | None:
    """Put a notice in the outbox for ``recipient`` unless ``key`` is there already;
    returns the new row or ``None``. Only flushes: sent after the caller's commit."""
    key = key[:120]
    if not recipient:
        return None
    if session.scalar(select(Notification.id).where(Notification.key == key)) is not None:
        return None
    notification = Notification(
        key=key,
        kind=NOTICE,
        booking=None,
        recipient=recipient,
        language=language,
        context=json.dumps({"kind": kind, "body": body}, sort_keys=True),
        created_at=utcnow(),
        attempts=0,
        last_error="",
    )
    try:
        with session.begin_nested():  # a concurrent twin is refused quietly
            session.add(notification)
    except IntegrityError:
        return None
    enqueue_delivery(session, notification)
    return notification


def address_of(session: Session, message: PhoneMessage) -> str:
    """The email address of the family or guide a phone message was for, or of the visitor
    an association replied to ("" for a tourist's other messages, whose email twin went
    anyway)."""
    if message.booking_id is not None:
        if message.kind != REPLY:
            return ""
        booking = session.get(Booking, message.booking_id)
        return booking.contact_email if booking is not None else ""
    if message.family_id is not None:
        family = session.get(Family, message.family_id)
        return family.email if family is not None else ""
    if message.user_id is not None:
        user = session.get(User, message.user_id)
        return user.email if user is not None and user.is_active_account else ""
    return ""


def queue_fallback(session: Session, message: PhoneMessage) -> Notification | None:
    """The last step after WhatsApp and SMS failed: the same words by email to the family
    or guide, when they have an address."""
    return queue_notice_email(
        session,
        key=email_key(message.key),
        kind=message.kind,
        recipient=address_of(session, message),
        language=message.language,
        body=message.body,
    )


def build_notice_message(notification: Notification) -> EmailMessage:
    """The email for a ``notice`` notification, in its language: the message's words, as
    plain text and as simple HTML."""
    context = json.loads(notification.context or "{}")
    body = str(context.get("body", ""))
    locale = message_locale(notification.language)
    with force_locale(locale):
        subject = str(SUBJECTS.get(context.get("kind"), DEFAULT_SUBJECT))
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = notification.recipient
    message["Subject"] = one_line(f"Chakra Routes: {subject}")
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = locale
    message.set_content(body + "\n")
    message.add_alternative(
        f'<!doctype html><html lang="{locale}"><body><p>{escape(body)}</p></body></html>',
        subtype="html",
    )
    return message
