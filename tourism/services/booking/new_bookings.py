"""A booking as a hold wrote it (``hold_rows.insert_booking``): the values of its row and
its lines, and the ORM object built from them only for a caller that asks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ...errors import DomainError
from ...models import Booking, BookingLine, BookingStatus, Departure


class SentAgain(DomainError):
    """The booking form was sent again (a double click, a slow connection, the page sent
    once more): nothing new is written, the booking its first sending made stands."""

    status_code = 303
    default_message = _l("This booking form had already been sent: here is the booking it made.")

    def __init__(self, manage_token: str, status: BookingStatus) -> None:
        super().__init__()
        self.manage_token = manage_token
        self.status = status


#: Every column a new booking is written with (the others are NULL or their default).
BOOKING_VALUES = (
    "departure_id",
    "reference",
    "manage_token",
    "held_from",
    "submission_key",
    "status",
    "hold_expires_at",
    "payment_method",
    "online_due_cents",
    "contact_name",
    "contact_email",
    "contact_phone",
    "country",
    "language",
    "special_needs",
    "special_needs_consent_at",
    "message_opt_in_at",
    "message_phone",
    "message_channel",
    "total_cents",
    "currency",
    "created_at",
    "confirmed_at",
)


@dataclass(frozen=True)
class NewBooking:
    """A booking ``insert_booking`` just wrote, as the values it was written with: what the
    hold and the page after it read (its id, link and status; the outbox its contact), with
    no ORM object built. ``persistent`` builds that object for callers that use it."""

    id: int
    split_rule_id: int | None
    #: The booking's columns as written (``BOOKING_VALUES``).
    values: dict
    #: Its lines' columns as written, and their ids.
    line_rows: list[dict]
    line_ids: list[int]
    #: Its confirmation email was queued by its own insert (``hold_rows.insert_booking``
    #: with ``confirmed_email``), with this send-email job.
    email_queued: bool = False
    email_job_id: int | None = None

    @property
    def reference(self) -> str:
        return self.values["reference"]

    @property
    def manage_token(self) -> str:
        return self.values["manage_token"]

    @property
    def status(self) -> BookingStatus:
        return self.values["status"]

    @property
    def hold_expires_at(self) -> datetime | None:
        return self.values["hold_expires_at"]

    @property
    def contact_email(self) -> str:
        return self.values["contact_email"]

    @property
    def language(self) -> str:
        return self.values["language"]

    @property
    def message_opt_in_at(self) -> datetime | None:
        return self.values["message_opt_in_at"]

    @property
    def message_phone(self) -> str | None:
        return self.values["message_phone"]

    def persistent(self, session: Session, departure: Departure | None = None) -> Booking:
        """The booking and its lines as the session would have loaded them: in its identity
        map, every column known, nothing pending (no flush writes them again). Built once;
        asked again, the same object. Its departure is ``departure`` when given (the ORM
        object), else loaded when first read (from the identity map when the session has
        it)."""
        known = session.identity_map.get(session.identity_key(Booking, (self.id,)))
        if known is not None:
            return known
        booking = Booking(
            id=self.id,
            split_rule_id=self.split_rule_id,
            cancelled_at=None,
            checked_in_at=None,
            no_show_at=None,
            cancel_reason="",
            **{name: self.values[name] for name in BOOKING_VALUES},
        )
        make_transient_to_detached(booking)
        session.add(booking)
        lines = []
        for line_id, line_row in zip(self.line_ids, self.line_rows, strict=True):
            line = BookingLine(id=line_id, **line_row)
            make_transient_to_detached(line)
            session.add(line)
            set_committed_value(line, "booking", booking)
            lines.append(line)
        set_committed_value(booking, "lines", lines)
        # A new booking has no payments and no reseller record: nothing to read for them.
        set_committed_value(booking, "payments", [])
        set_committed_value(booking, "channel", None)
        # Nor extras or homestay nights: a booking with some is written by ``orm_booking``.
        set_committed_value(booking, "extras", [])
        set_committed_value(booking, "nights", [])
        if departure is not None:
            set_committed_value(booking, "departure", departure)
        return booking


@dataclass(frozen=True)
class PlacedHold:
    """A booking just held (``lifecycle.place_hold``): what the page after the hold reads,
    its link and whether it is confirmed already, with no ORM object built (that costs more
    than the statements that wrote it). ``booking`` gives the ORM booking to callers that
    use it."""

    id: int
    manage_token: str
    status: BookingStatus
    written: NewBooking | Booking = field(repr=False, compare=False)

    def booking(self, session: Session, departure: Departure | None = None) -> Booking:
        """The booking as a persistent ORM object, its lines loaded (the same object each
        time); ``departure``: see ``NewBooking.persistent``."""
        if isinstance(self.written, Booking):
            return self.written
        return self.written.persistent(session, departure)


_BOOKINGS = Booking.__table__
#: The booking a booking form's sending made (``Booking.submission_key``).
_SENT_BEFORE = select(
    _BOOKINGS.c.manage_token, _BOOKINGS.c.contact_email, _BOOKINGS.c.status
).where(_BOOKINGS.c.submission_key == bindparam("key"))


def unless_sent_before(session: Session, values: dict) -> dict:
    """``values`` again when their form key has made no booking yet; raise ``SentAgain``
    when it has, for the same email: the form was sent twice. Called when an insert found a
    conflict (the reference or manage token drawn was taken, or the key was), and before a
    booking with extras is built, under the caps' locks. A key that made another email's
    booking is not this visitor's form: the booking is made without it.

    Two sendings of one form never both book: the key's unique index makes the second
    insert wait for the first's transaction, then find its row (on SQLite the second
    transaction starts after the first ends)."""
    key = values.get("submission_key")
    if key is None:
        return values
    sent = session.execute(_SENT_BEFORE, {"key": key}).first()
    if keeps_key(sent, values["contact_email"]):
        return values
    return {**values, "submission_key": None}


def keeps_key(sent, email: str) -> bool:
    """``sent``: what a form's key already made (its manage token, contact email and status),
    or None. Raise ``SentAgain`` when it is this email's booking: the form was sent twice.
    Otherwise whether the new booking keeps the key: not when another email's booking has it
    (not this visitor's form)."""
    if sent is None:
        return True
    if sent.contact_email.casefold() != str(email).casefold():
        return False
    raise SentAgain(sent.manage_token, sent.status)
