"""Visitors per month for the revenue dashboard: counted over bookings, not the ledger (see
``services.reports`` for what counts as a visit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import (
    Association,
    Booking,
    BookingLine,
    BookingStatus,
    Departure,
    DepartureStatus,
    Experience,
)
from .periods import Period, local_month


@dataclass(frozen=True)
class MonthVisitors:
    month: str
    bookings: int = 0
    visitors: int = 0


def visitors_by_month(
    session: Session, association: Association, period: Period, now: datetime
) -> list[MonthVisitors]:
    """Bookings and participants that visited, per local month of the departure (see the
    module doc for what counts)."""
    bounds = period.boundaries()
    per_booking = (
        select(
            local_month(Departure.starts_at, period).label("month"),
            Booking.id.label("booking_id"),
            func.sum(BookingLine.quantity).label("people"),
        )
        .select_from(Booking)
        .join(Departure, Booking.departure_id == Departure.id)
        .join(Experience, Departure.experience_id == Experience.id)
        .join(BookingLine, BookingLine.booking_id == Booking.id)
        .where(
            Experience.association_id == association.id,
            Booking.status == BookingStatus.CONFIRMED,
            Booking.no_show_at.is_(None),
            Departure.status != DepartureStatus.CANCELLED,
            Departure.starts_at >= bounds[0],
            Departure.starts_at < min(bounds[-1], now),
        )
        .group_by(Booking.id, Departure.starts_at)
        .subquery()
    )
    rows = session.execute(
        select(per_booking.c.month, func.count(), func.sum(per_booking.c.people)).group_by(
            per_booking.c.month
        )
    )
    found = {month: (int(n), int(people)) for month, n, people in rows}
    return [MonthVisitors(m, *found.get(m, (0, 0))) for m in period.months]
