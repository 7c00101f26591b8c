"""The confirmed seats of each departure, kept on the departure row.

Counting a departure's seats used to sum every booking on it, so a hold cost more on a
departure with many bookings. ``Departure.seats_confirmed`` holds the sum of the tickets of
its confirmed bookings; only live holds are still counted from the bookings table (a few
rows, found by the ``(departure_id, status)`` index), so a hold costs the same on a departure
with none or ten thousand bookings.

The counter is maintained here, before every flush, for every booking that becomes
confirmed or stops being confirmed (or is deleted while confirmed), whichever service made
the change: a new code path that writes through the ORM cannot forget it. Each change is one
``UPDATE … SET seats_confirmed = seats_confirmed + :delta``, atomic on its own; the booking
path has locked the departure already, and any other path takes the row lock here.

One path writes behind the flush, on purpose: the hold (``services/booking/hold_rows.py``)
inserts a booking confirmed at once with a Core statement, and claims its seats with one
conditional ``UPDATE`` that moves this counter only if they fit. Later changes to that
booking go through the flush and this hook like any other.

``flask seat-check`` recounts every departure and reports any difference
(``services/booking/seat_check.py``); the test suite runs it after every test.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import event, inspect, update
from sqlalchemy.orm import Session

from .booking import Booking, BookingStatus
from .schedule import Departure


def _before_and_after(booking: Booking, attribute: str):
    """The attribute's value as the database has it, and as the flush will write it."""
    history = inspect(booking).attrs[attribute].history
    current = getattr(booking, attribute)
    if not history.has_changes():
        return current, current
    before = history.deleted[0] if history.deleted else None
    return before, current


def _departure_key(booking: Booking, departure_id):
    """The departure to count on: its id, or the object when it is being inserted too."""
    if departure_id is not None:
        return departure_id
    departure = booking.departure
    if departure is not None and departure.id is not None:
        return departure.id
    return departure


@event.listens_for(Session, "before_flush")
def _count_confirmed_seats(session: Session, _flush_context, _instances) -> None:
    changes: dict[object, int] = defaultdict(int)
    with session.no_autoflush:
        for booking in session.new:
            if isinstance(booking, Booking) and booking.status == BookingStatus.CONFIRMED:
                key = _departure_key(booking, booking.departure_id)
                changes[key] += booking.participants
        for booking in session.dirty:
            if not isinstance(booking, Booking):
                continue
            status_before, status_after = _before_and_after(booking, "status")
            departure_before, departure_after = _before_and_after(booking, "departure_id")
            if (status_before, departure_before) == (status_after, departure_after):
                continue
            seats = booking.participants
            if status_before == BookingStatus.CONFIRMED:
                changes[departure_before] -= seats
            if status_after == BookingStatus.CONFIRMED:
                changes[_departure_key(booking, departure_after)] += seats
        for booking in session.deleted:
            if isinstance(booking, Booking):
                status_before, _ = _before_and_after(booking, "status")
                departure_before, _ = _before_and_after(booking, "departure_id")
                if status_before == BookingStatus.CONFIRMED:
                    changes[departure_before] -= booking.participants
    pending = [(key, delta) for key, delta in changes.items() if delta and key is not None]
    for departure, delta in pending:
        if isinstance(departure, Departure):  # inserted by this flush: set before it is
            departure.seats_confirmed = (departure.seats_confirmed or 0) + delta
    # By id, so two flushes that touch the same departures lock them in the same order.
    for departure_id, delta in sorted(p for p in pending if isinstance(p[0], int)):
        session.execute(
            update(Departure)
            .where(Departure.id == departure_id)
            .values(seats_confirmed=Departure.seats_confirmed + delta)
            .execution_options(synchronize_session=False)
        )
        key = inspect(Departure).identity_key_from_primary_key((departure_id,))
        loaded = session.identity_map.get(key)
        if loaded is not None:
            session.expire(loaded, ["seats_confirmed"])
