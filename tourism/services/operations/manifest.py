"""The manifest of a departure: its confirmed parties with their tickets and money (paid
online, cash collected, still due), and its stops with when each was visited.

It is what a guide works from on the day (``checkin`` records what happens)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from ...models import Booking, Departure, Stop, StopVisit
from .guide_calendar import cash_collected_cents, cash_outstanding_cents, confirmed_bookings


@dataclass(frozen=True)
class ManifestRow:
    booking: Booking
    #: (price category code, quantity) per ticket line.
    tickets: list[tuple[str, int]]
    paid_online_cents: int
    cash_collected_cents: int
    outstanding_cents: int


@dataclass(frozen=True)
class StopRow:
    stop: Stop
    name: str
    family: str
    visited_at: datetime | None


@dataclass(frozen=True)
class Manifest:
    departure: Departure
    title: str
    meeting_point: str
    rows: list[ManifestRow]
    stops: list[StopRow]

    @property
    def participants(self) -> int:
        return sum(row.booking.participants for row in self.rows)

    @property
    def checked_in(self) -> int:
        return sum(row.booking.participants for row in self.rows if row.booking.checked_in_at)

    @property
    def outstanding_cents(self) -> int:
        """Cash still to collect from the parties that may still turn up: a party marked
        as not come pays nothing on the day, whatever it still owes."""
        return sum(row.outstanding_cents for row in self.rows if row.booking.no_show_at is None)

    def as_data(self) -> dict:
        """What the page embeds for working offline (no contact details)."""
        return {
            "departure_id": self.departure.id,
            "currency": self.departure.experience.currency,
            "bookings": [
                {
                    "reference": row.booking.reference,
                    "name": row.booking.contact_name,
                    "participants": row.booking.participants,
                    "outstanding_cents": row.outstanding_cents,
                    "checked_in": row.booking.checked_in_at is not None,
                    "no_show": row.booking.no_show_at is not None,
                }
                for row in self.rows
            ],
            "stops": [
                {"id": s.stop.id, "name": s.name, "visited": s.visited_at is not None}
                for s in self.stops
            ],
        }


def manifest(session: Session, departure: Departure, locale: str) -> Manifest:
    """The departure's confirmed parties, with tickets and money, and its stops."""
    bookings = confirmed_bookings(session, [departure.id])[departure.id]
    rows = [
        ManifestRow(
            booking=b,
            tickets=[(line.price_category.code, line.quantity) for line in b.lines],
            paid_online_cents=b.paid_online_cents,
            cash_collected_cents=cash_collected_cents(b),
            outstanding_cents=cash_outstanding_cents(b),
        )
        for b in bookings
    ]
    visits = {
        v.stop_id: v.confirmed_at
        for v in session.execute(
            select(StopVisit).where(StopVisit.departure_id == departure.id)
        ).scalars()
    }
    stops = []
    route = session.scalars(
        select(Stop)
        .where(Stop.experience_id == departure.experience_id)
        .options(selectinload(Stop.texts), joinedload(Stop.family))
        .order_by(Stop.position)
    )
    for stop in route:
        text = stop.text(locale)
        stops.append(
            StopRow(
                stop=stop,
                name=text.name if text else str(stop.position + 1),
                family=stop.family.name if stop.family else "",
                visited_at=visits.get(stop.id),
            )
        )
    text = departure.experience.text(locale)
    return Manifest(
        departure=departure,
        title=text.title if text else departure.experience.slug,
        meeting_point=text.meeting_point if text else "",
        rows=rows,
        stops=stops,
    )
