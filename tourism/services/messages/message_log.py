"""What the association sees of its WhatsApp/SMS traffic: the message log, and one booking's
messages with what the visitor wrote back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...models import Association, Booking, InboundMessage, PhoneMessage
from ...redaction import redact

#: How each state reads on the pages.
STATUS_LABELS = {
    "queued": _l("waiting"),
    "sending": _l("sending"),
    "sent": _l("sent"),
    "delivered": _l("delivered"),
    "read": _l("read"),
    "failed": _l("failed"),
    "blocked": _l("not sent: the number said STOP"),
    "received": _l("received"),
}
#: What each message is about.
KIND_LABELS = {
    "confirmed": _l("Confirmation"),
    "reminder": _l("Reminder"),
    "cancelled": _l("Cancellation"),
    "departure_cancelled": _l("Departure cancelled"),
    "late_payment_refunded": _l("Late payment refunded"),
    "refunded": _l("Refunded and cancelled"),
    "family_visitors": _l("Visitors tomorrow"),
    "family_payout": _l("Payout"),
    "guide_tomorrow": _l("Departures tomorrow"),
    "guide_assignments": _l("Departures changed"),
    "reply": _l("Reply"),
    "inbound": _l("From the visitor"),
    "opted_in": _l("Messages resumed (START)"),
    "date_changed": _l("Date changed"),
    "homestay_tomorrow": _l("Guests tomorrow"),
    "homestay_booked": _l("Homestay booked"),
    "homestay_cancelled": _l("Homestay cancelled"),
}

#: The most entries the log page shows (newest first).
LOG_LIMIT = 200


@dataclass(frozen=True)
class LogEntry:
    at: datetime
    #: ``out`` for a message we sent, ``in`` for one we received.
    direction: str
    channel: str
    #: The number with all but its last four digits hidden.
    number: str
    kind: str
    status: str
    body: str
    error: str
    booking: Booking | None


def masked(phone: str) -> str:
    """``+593991234567`` → ``+593•••••4567``: enough to tell numbers apart in a log."""
    return phone[:4] + "•" * max(len(phone) - 8, 0) + phone[-4:] if len(phone) > 8 else phone


def _out(message: PhoneMessage) -> LogEntry:
    return LogEntry(
        message.status_at or message.created_at,
        "out",
        message.channel,
        masked(message.recipient),
        message.kind,
        message.status,
        # The visitor's private link in a confirmation is theirs: staff read the message
        # without it (with it, they could act as the visitor).
        redact(message.body),
        message.last_error,
        message.booking,
    )


def _in(message: InboundMessage) -> LogEntry:
    return LogEntry(
        message.received_at,
        "in",
        message.channel,
        masked(message.sender),
        "inbound",
        "received",
        message.body,
        "",
        message.booking,
    )


def association_log(
    session: Session, association: Association, limit: int = LOG_LIMIT
) -> list[LogEntry]:
    """The association's latest messages, both ways, newest first."""
    sent = session.scalars(
        select(PhoneMessage)
        .where(PhoneMessage.association_id == association.id)
        .options(selectinload(PhoneMessage.booking))
        .order_by(PhoneMessage.id.desc())
        .limit(limit)
    ).all()
    received = session.scalars(
        select(InboundMessage)
        .where(InboundMessage.association_id == association.id)
        .options(selectinload(InboundMessage.booking))
        .order_by(InboundMessage.id.desc())
        .limit(limit)
    ).all()
    entries = [_out(m) for m in sent] + [_in(m) for m in received]
    return sorted(entries, key=lambda e: e.at, reverse=True)[:limit]


def booking_conversation(session: Session, booking: Booking) -> list[LogEntry]:
    """Every message of one booking, both ways, oldest first (a conversation)."""
    sent = session.scalars(
        select(PhoneMessage).where(PhoneMessage.booking_id == booking.id).order_by(PhoneMessage.id)
    ).all()
    received = session.scalars(
        select(InboundMessage)
        .where(InboundMessage.booking_id == booking.id)
        .order_by(InboundMessage.id)
    ).all()
    return sorted([_out(m) for m in sent] + [_in(m) for m in received], key=lambda e: e.at)
