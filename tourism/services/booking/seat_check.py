"""The invariant behind the seat counter: each departure's ``seats_confirmed`` equals the
tickets of its confirmed bookings (``models/seat_counter.py`` keeps it so)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ...models import Booking, BookingLine, BookingStatus, Departure
from .availability import lock_departure


@dataclass(frozen=True)
class CounterMismatch:
    departure_id: int
    recorded: int
    counted: int

    def __str__(self) -> str:
        return (
            f"departure {self.departure_id}: the counter says {self.recorded} confirmed "
            f"seat(s), its confirmed bookings have {self.counted}"
        )


def _confirmed_per_departure():
    return (
        select(
            Booking.departure_id.label("departure_id"),
            func.sum(BookingLine.quantity).label("seats"),
        )
        .join(BookingLine, BookingLine.booking_id == Booking.id)
        .where(Booking.status == BookingStatus.CONFIRMED)
        .group_by(Booking.departure_id)
        .subquery()
    )


def mismatches(session: Session) -> list[CounterMismatch]:
    """Every departure whose counter differs from a recount, by id (one query)."""
    counted = _confirmed_per_departure()
    recount = func.coalesce(counted.c.seats, 0)
    rows = session.execute(
        select(Departure.id, Departure.seats_confirmed, recount)
        .outerjoin(counted, counted.c.departure_id == Departure.id)
        .where(Departure.seats_confirmed != recount)
        .order_by(Departure.id)
    ).all()
    return [CounterMismatch(int(i), int(recorded), int(seats)) for i, recorded, seats in rows]


def repair(session: Session, found: list[CounterMismatch]) -> None:
    """Set each mismatched counter to its recount (the caller's unit of work commits).
    Each departure is locked first, and recounted under the lock."""
    for mismatch in found:
        lock_departure(session, mismatch.departure_id)
        seats = session.scalar(
            select(func.coalesce(func.sum(BookingLine.quantity), 0))
            .join(Booking, BookingLine.booking_id == Booking.id)
            .where(
                Booking.departure_id == mismatch.departure_id,
                Booking.status == BookingStatus.CONFIRMED,
            )
        )
        session.execute(
            update(Departure)
            .where(Departure.id == mismatch.departure_id)
            .values(seats_confirmed=int(seats))
            .execution_options(synchronize_session=False)
        )
