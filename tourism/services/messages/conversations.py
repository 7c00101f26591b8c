"""What comes back from the providers, and answers to it: delivery-status callbacks (applied
once, never backwards; a failed WhatsApp falls back to SMS), STOP/BAJA opt-outs and
START/ALTA opt-ins (with a confirming reply), inbound text put on the sender's booking, and
the association's reply inside WhatsApp's 24-hour window.
Sending is ``dispatch``'s."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...database import utcnow
from ...errors import DomainError, InvalidRequest
from ...models import Booking, InboundMessage, MessageCallback, PhoneMessage, PhoneOptOut
from ...models.messaging import BLOCKED, DELIVERED, FAILED, QUEUED, READ, SENT
from . import phone_texts
from .dispatch import SENDING, fall_back, queue_message
from .notice_emails import REPLY
from .phone_texts import Text
from .phones import InvalidPhone, is_start, is_stop, to_e164

#: WhatsApp takes free text only this long after the recipient's last message.
REPLY_WINDOW = timedelta(hours=24)
#: Status order: a callback never moves a message back (``read`` then a late ``delivered``).
_PROGRESS = {QUEUED: 0, SENDING: 0, SENT: 1, DELIVERED: 2, READ: 3}


class OutsideWindow(DomainError):
    status_code = 409
    default_message = _l(
        "WhatsApp accepts a reply only within 24 hours of the visitor's last message; "
        "write to them by email instead."
    )


def record_callback(session: Session, provider: str, event_key: str) -> bool:
    """Record a callback as applied; ``False`` when it was already (a redelivery)."""
    exists = session.scalar(
        select(MessageCallback.id).where(
            MessageCallback.provider == provider, MessageCallback.event_key == event_key
        )
    )
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                MessageCallback(provider=provider, event_key=event_key[:160], received_at=utcnow())
            )
    except IntegrityError:
        return False
    return True


def apply_status(
    session: Session, provider: str, provider_id: str, status: str, error: str = ""
) -> str:
    """Apply a verified delivery-status callback once; returns what happened. A status for
    an id we do not know (yet: the callback can outrun the commit of our send) is not
    recorded, so the provider's redelivery is applied when it comes."""
    message = session.scalar(select(PhoneMessage).where(PhoneMessage.provider_id == provider_id))
    if message is None:
        return "unknown"
    if not record_callback(session, provider, f"{provider_id}:{status}"):
        return "duplicate"
    now = utcnow()
    if status == FAILED:
        if message.status in (DELIVERED, READ, FAILED):
            return "ignored"
        message.status, message.status_at = FAILED, now
        message.last_error = (error or f"{provider}: failed")[:2000]
        fall_back(session, message)
        return "failed"
    if message.status == FAILED or _PROGRESS.get(status, 0) <= _PROGRESS.get(message.status, 0):
        return "ignored"
    message.status, message.status_at = status, now
    return status


def opt_out(session: Session, phone: str, channel: str) -> None:
    """Stop every message to ``phone`` at once, those already queued included."""
    found = session.get(PhoneOptOut, phone)
    if found is None:
        session.add(PhoneOptOut(phone=phone, channel=channel, opted_out_at=utcnow()))
    elif not found.active:  # stopped again after asking for messages again
        found.channel, found.opted_out_at, found.opted_in_at = channel, utcnow(), None
    session.execute(
        update(PhoneMessage)
        .where(PhoneMessage.recipient == phone, PhoneMessage.status == QUEUED)
        .values(status=BLOCKED, status_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.flush()


def receive(session: Session, channel: str, provider_id: str, sender: str, body: str) -> str:
    """Apply a verified inbound message once: STOP/BAJA opts the number out, START/ALTA back
    in (when it had said STOP); anything else is kept for the association, on the sender's
    latest opted-in booking."""
    if not record_callback(session, channel, f"in:{provider_id}"):
        return "duplicate"
    try:
        phone = to_e164(sender, for_messages=False)  # it wrote to us: whatever its kind
    except InvalidPhone:
        return "ignored"
    body = inbound_text(body)
    if not body:  # nothing to read: kept nowhere, and no reply window opened by it
        return "ignored"
    if is_stop(body, channel):
        opt_out(session, phone, channel)
        return "opted_out"
    booking = latest_booking(session, phone)
    if is_start(body) and opt_in(session, phone, utcnow()):
        confirm_opt_in(session, phone, channel, provider_id, booking)
        return "opted_in"
    session.add(
        InboundMessage(
            channel=channel,
            sender=phone,
            body=body.strip()[:2000],
            booking_id=booking.id if booking else None,
            association_id=booking.departure.experience.association_id if booking else None,
            received_at=utcnow(),
        )
    )
    session.flush()
    return "received"


#: What an inbound text may not hold: control characters but tab and line breaks, the
#: bidirectional overrides and isolates (they make the text read backwards on staff pages),
#: and zero-width characters.
_INBOUND_BAD = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


def inbound_text(body: str) -> str:
    """What a visitor wrote, as it may be kept and shown: lines as they wrote them."""
    return _INBOUND_BAD.sub("", body.replace("\r\n", "\n").replace("\r", "\n")).strip()


def latest_booking(session: Session, phone: str) -> Booking | None:
    """The sender's most recent booking that asked for messages at ``phone``."""
    return session.scalar(
        select(Booking)
        .where(Booking.message_phone == phone, Booking.message_opt_in_at.is_not(None))
        .order_by(Booking.created_at.desc(), Booking.id.desc())
        .limit(1)
    )


def opt_in(session: Session, phone: str, now: datetime) -> bool:
    """Let messages to ``phone`` resume after its STOP, recording when (the opt-out row
    stays as the record); ``False`` when it had not said STOP (nothing to do)."""
    found = session.get(PhoneOptOut, phone)
    if found is None or not found.active:
        return False
    found.opted_in_at = now
    session.flush()
    return True


def confirm_opt_in(
    session: Session, phone: str, channel: str, provider_id: str, booking: Booking | None
) -> PhoneMessage | None:
    """Answer a START/ALTA on the channel it came by, as free text: the sender just wrote,
    so WhatsApp's 24-hour window is open. In the language of their latest booking."""
    language = booking.language if booking is not None else "es"
    return queue_message(
        session,
        key=f"optin:{phone}:{channel}:{provider_id}"[:160],
        kind="opted_in",
        channel=channel,
        recipient=phone,
        language=language,
        text=phone_texts.opted_in_text(language),
        association_id=booking.departure.experience.association_id if booking else None,
        booking_id=booking.id if booking else None,
    )


class CannotResume(InvalidRequest):
    status_code = 409
    default_message = _l(
        "Only the phone that wrote STOP can ask for messages again: write START or ALTA "
        "from it to the number that wrote to you."
    )


def resume_for_booking(session: Session, booking: Booking, now: datetime) -> bool:
    """The tourist asks, from the booking's private page, for messages again. A STOP is
    lifted only by START/ALTA from the number itself: anyone may type any number on the
    booking form, so whoever holds the page may not be who holds the phone, and lifting
    the phone's STOP from the page would let them message it again as often as it said
    STOP. Returns ``False`` when the number is not stopped (nothing to do)."""
    if booking.message_opt_in_at is None or not booking.message_phone:
        raise InvalidRequest(_l("This booking did not ask for WhatsApp or SMS messages."))
    found = session.get(PhoneOptOut, booking.message_phone)
    if found is None or not found.active:
        return False
    raise CannotResume()


def is_stopped(session: Session, phone: str | None) -> PhoneOptOut | None:
    """The opt-out in force for ``phone``, if it said STOP and did not ask again."""
    found = session.get(PhoneOptOut, phone) if phone else None
    return found if found is not None and found.active else None


def last_inbound(session: Session, booking: Booking) -> InboundMessage | None:
    return session.scalar(
        select(InboundMessage)
        .where(InboundMessage.booking_id == booking.id)
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        .limit(1)
    )


def can_reply(session: Session, booking: Booking, now: datetime) -> bool:
    last = last_inbound(session, booking)
    return last is not None and now - last.received_at <= REPLY_WINDOW


#: The longest reply the box takes (an SMS splits beyond 160 characters; WhatsApp takes 4096).
MAX_REPLY = 1000


def reply_on_booking(session: Session, booking: Booking, body: str, now: datetime) -> PhoneMessage:
    """Answer the visitor's last message on the channel they wrote on, as free text; only
    within ``REPLY_WINDOW`` of it. Sending the same words twice (a double click) sends once."""
    text = (body or "").strip()
    if not text:
        raise InvalidRequest(_l("Write a reply first."))
    if len(text) > MAX_REPLY:
        raise InvalidRequest(
            _ln(
                "A reply can be at most %(num)s character long.",
                "A reply can be at most %(num)s characters long.",
                MAX_REPLY,
            )
        )
    last = last_inbound(session, booking)
    if last is None or now - last.received_at > REPLY_WINDOW:
        raise OutsideWindow()
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    message = queue_message(
        session,
        key=f"booking:{booking.id}:reply:{last.id}:{digest}:{last.channel}",
        kind=REPLY,
        channel=last.channel,
        recipient=last.sender,
        language=booking.language,
        text=Text(text, "", []),
        association_id=booking.departure.experience.association_id,
        booking_id=booking.id,
    )
    if message is None:
        existing = session.scalar(
            select(PhoneMessage).where(
                PhoneMessage.key == f"booking:{booking.id}:reply:{last.id}:{digest}:{last.channel}"
            )
        )
        if existing is None:  # not queued: the number said STOP
            raise InvalidRequest(_l("This number asked not to receive messages any more."))
        return existing
    return message
