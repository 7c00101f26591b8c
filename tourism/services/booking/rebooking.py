"""Association staff move a booking to another date: another departure of the same experience.

What moves: the booking, as it is (same tickets, same price, same split rule), with its
homestay nights (the same homestay, the same side of the new date) and its extras. What is
checked, under the locks every seat change takes, in the fixed order (both departures by id,
then homestays by id, then stocked extras by id): the new departure is open and has room for
every ticket, the homestay has the beds and takes guests that night, an extra stocked per
departure has the units. Any refusal raises with a translated message and, the caller
rolling back, changes nothing.

The departures' confirmed-seat counters follow through the flush hook
(``models/seat_counter.py``); the guides' pending share follows the new departure
(``ledger.guide_moves``); releases and payouts follow it by themselves (they go by the
booking's departure). The move is audit-logged; the tourist is emailed (and messaged if
they opted in), the host families of a confirmed booking's nights are told the old nights
cancelled and the new ones booked (``messages.homestay_booking_notices``), and a reseller
that sold the booking is sent its webhook, all in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import DepartureUnavailable, InvalidRequest, SoldOut
from ...models import (
    AuditEvent,
    Booking,
    BookingStatus,
    Departure,
    DepartureStatus,
    RouteBookingLeg,
    User,
)
from ..access import audit
from ..channels import webhooks
from ..ledger import guide_moves
from ..messages import homestay_booking_notices as host_notices
from ..messages import outbox
from ..messages.rendering import DATE_CHANGED
from . import addons as addon_service
from . import availability
from .lifecycle import DEFAULT_CUTOFF, seats_left_message

DATE_CHANGED_ACTION = "booking.date_changed"
#: What the reseller's webhook says happened.
WEBHOOK_REASON = "date changed"
#: How far ahead other dates are offered on the staff's form.
CHOICE_DAYS_AHEAD = 120
#: The most dates offered.
MAX_CHOICES = 30


class CannotChangeDate(DepartureUnavailable):
    default_message = _l("This booking can no longer be moved to another date.")


class NotAnotherDate(InvalidRequest):
    default_message = _l("Choose a date of the same experience other than the booking's own.")


class DateNotOpen(DepartureUnavailable):
    default_message = _l("That date is cancelled, has already left or is closed for bookings.")


class PartOfRoute(DepartureUnavailable):
    default_message = _l(
        "This booking is part of a route: its dates are changed from the route booking."
    )


@dataclass(frozen=True)
class DateChoice:
    departure: Departure
    seats_left: int


def check_movable(booking: Booking, now: datetime, session: Session) -> None:
    """Raise unless ``booking`` may be moved: held (not expired) or confirmed, not checked
    in, on a departure still to come and not cancelled, not a leg of a route."""
    live_hold = booking.status == BookingStatus.HELD and (
        booking.hold_expires_at is not None and booking.hold_expires_at > now
    )
    if not (live_hold or booking.status == BookingStatus.CONFIRMED):
        raise CannotChangeDate()
    if booking.checked_in_at is not None or booking.no_show_at is not None:
        raise CannotChangeDate()
    departure = booking.departure
    if departure.status == DepartureStatus.CANCELLED or departure.starts_at <= now:
        raise CannotChangeDate()
    leg = session.scalar(select(RouteBookingLeg.id).where(RouteBookingLeg.booking_id == booking.id))
    if leg is not None:
        raise PartOfRoute()


def _may_go_to(booking: Booking, target: Departure) -> bool:
    """Same experience, another departure, and public (or the booking's own group's)."""
    current = booking.departure
    if target.id == current.id or target.experience_id != current.experience_id:
        return False
    return target.group_request_id is None or target.group_request_id == current.group_request_id


def date_choices(
    session: Session, booking: Booking, now: datetime, cutoff: timedelta = DEFAULT_CUTOFF
) -> list[DateChoice]:
    """The open departures the booking could move to with room for everyone, soonest first
    (a listing: the move itself counts again under the locks)."""
    current = booking.departure
    found = list(
        session.scalars(
            select(Departure)
            .where(
                Departure.experience_id == current.experience_id,
                Departure.id != current.id,
                Departure.status == DepartureStatus.SCHEDULED,
                Departure.starts_at > now + cutoff,
                Departure.starts_at < now + timedelta(days=CHOICE_DAYS_AHEAD),
            )
            .order_by(Departure.starts_at, Departure.id)
        )
    )
    found = [d for d in found if _may_go_to(booking, d)]
    taken = availability.seats_taken(session, [d.id for d in found], now)
    people = booking.participants
    choices = []
    for departure in found:
        left = departure.capacity - taken[departure.id]
        if left >= people:
            choices.append(DateChoice(departure, left))
            if len(choices) == MAX_CHOICES:
                break
    return choices


def parse_departure_id(raw) -> int:
    """A departure id from a form, or ``NotAnotherDate`` (never a 500 for junk)."""
    text = str(raw or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise NotAnotherDate()
    return int(text)


def _lock_both(session: Session, first_id: int, second_id: int) -> dict[int, Departure]:
    """Both departures locked, by ascending id (as every path that locks two does)."""
    locked = {}
    for departure_id in sorted({first_id, second_id}):
        locked[departure_id] = availability.lock_departure(session, departure_id)
    return locked


def change_date(
    session: Session,
    booking: Booking,
    departure_id: int,
    actor: User | None,
    now: datetime,
    cutoff: timedelta = DEFAULT_CUTOFF,
) -> Booking:
    """Move ``booking`` to departure ``departure_id`` (see the module doc); raise a
    ``DomainError`` and let the caller roll back when it may not."""
    check_movable(booking, now, session)
    target = session.get(Departure, departure_id)
    if target is None or not _may_go_to(booking, target):
        raise NotAnotherDate()
    previous_id = booking.departure_id
    locked = _lock_both(session, previous_id, departure_id)
    previous, target = locked[previous_id], locked[departure_id]
    # Read again under the lock: a check-in or a cancellation may have just committed.
    session.refresh(booking)
    check_movable(booking, now, session)
    if target.status != DepartureStatus.SCHEDULED or target.starts_at - cutoff <= now:
        raise DateNotOpen()
    people = booking.participants
    left = target.capacity - availability.seats_taken_on(session, target.id, now)
    if people > left:
        if left <= 0:
            raise SoldOut(_l("Sorry, this departure is sold out."))
        raise SoldOut(seats_left_message(left))
    previous_starts_at = previous.starts_at
    # The host families heard of a confirmed booking's nights (not of a hold's): what they
    # were is told cancelled, what they become booked.
    told = booking.status == BookingStatus.CONFIRMED
    stays = host_notices.stays_of(booking) if told else None
    # The id itself, not only the relationship: the seat-counter hook reads its history.
    booking.departure_id = target.id
    booking.departure = target
    for night in booking.nights:
        night.night = addon_service.night_of(target, night.side)
    session.flush()  # the counters of both departures move here, by id
    # Beds and per-departure stock, counted with this booking in its new place.
    addon_service.claim(session, booking, now)
    guide_moves.follow_departure(session, booking, target, now)
    audit.record(
        session,
        DATE_CHANGED_ACTION,
        actor=actor,
        target=f"booking {booking.reference}",
        association_id=target.experience.association_id,
        detail=f"departure {previous.id} ({previous_starts_at.isoformat()}) -> "
        f"departure {target.id} ({target.starts_at.isoformat()})",
        at=now,
    )
    moves = _tell(session, booking, previous_starts_at, now)
    if stays is not None:
        host_notices.queue_booking_moved(session, booking, stays, moves)
    session.flush()
    return booking


def _tell(session: Session, booking: Booking, previous_starts_at: datetime, now: datetime) -> int:
    """The tourist's email (and phone twin) and the reseller's webhook, in this transaction;
    each move is its own message (a booking moved twice is told twice). Returns the move's
    number (1 for the first)."""
    session.flush()
    moves = len(
        session.scalars(
            select(AuditEvent.id).where(
                AuditEvent.action == DATE_CHANGED_ACTION,
                AuditEvent.target == f"booking {booking.reference}",
            )
        ).all()
    )
    outbox.queue(
        session,
        booking,
        DATE_CHANGED,
        occurrence=str(moves),
        previous_starts_at=previous_starts_at.isoformat(),
        # The calendar event's new version: one more per move (the confirmation was 0).
        sequence=moves,
    )
    webhooks.booking_changed(session, booking, now, WEBHOOK_REASON)
    return moves
