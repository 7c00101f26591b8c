"""The operations board: a day's or a week's departures with seats sold, held and free, the
guides assigned, and the cash to collect on arrival."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...models import (
    Association,
    Booking,
    BookingStatus,
    Departure,
    DepartureGuide,
    DepartureStatus,
    Experience,
    User,
)
from ..access import tenancy

VIEWS = ("day", "week")


@dataclass(frozen=True)
class Window:
    first_day: date
    days: int
    start: datetime
    end: datetime

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=self.days - 1)

    @property
    def previous_day(self) -> date:
        return self.first_day - timedelta(days=self.days)

    @property
    def next_day(self) -> date:
        return self.first_day + timedelta(days=self.days)


def window(day: date, view: str, zone: ZoneInfo) -> Window:
    """Local day, or the Monday-to-Sunday week containing it, as UTC bounds ``[start, end)``."""
    first = day - timedelta(days=day.weekday()) if view == "week" else day
    days = 7 if view == "week" else 1
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(first + timedelta(days=days), time.min, tzinfo=zone)
    return Window(first_day=first, days=days, start=start, end=end)


@dataclass
class OperationsRow:
    departure: Departure
    sold: int = 0
    held: int = 0
    bookings: int = 0
    due_on_arrival_cents: int = 0
    guides: list[DepartureGuide] = field(default_factory=list)

    @property
    def free(self) -> int:
        if self.departure.status != DepartureStatus.SCHEDULED:
            return 0
        return max(self.departure.capacity - self.sold - self.held, 0)


@dataclass(frozen=True)
class Board:
    rows: list[OperationsRow]

    @property
    def sold(self) -> int:
        return sum(row.sold for row in self.rows)

    @property
    def held(self) -> int:
        return sum(row.held for row in self.rows)

    @property
    def due_on_arrival_cents(self) -> int:
        return sum(row.due_on_arrival_cents for row in self.rows)


def operations_board(
    session: Session,
    user: User,
    start: datetime,
    end: datetime,
    now: datetime,
    association: Association | None = None,
) -> Board:
    """Departures in ``[start, end)`` of the associations ``user`` manages (or only of
    ``association``, already scoped by the caller), with their numbers, in four queries."""
    statement = (
        select(Departure)
        .join(Experience, Experience.id == Departure.experience_id)
        .where(Departure.starts_at >= start, Departure.starts_at < end)
        .options(
            selectinload(Departure.experience).selectinload(Experience.texts),
            selectinload(Departure.experience).selectinload(Experience.association),
        )
        .order_by(Departure.starts_at, Departure.id)
    )
    statement = tenancy.scope_experiences(statement, user)
    if association is not None:
        statement = statement.where(Experience.association_id == association.id)
    departures = list(session.execute(statement).scalars())
    return Board(rows=_rows(session, departures, now))


def departure_row(session: Session, departure: Departure, now: datetime) -> OperationsRow:
    """The board's numbers for one departure the caller has already scoped."""
    return _rows(session, [departure], now)[0]


def _rows(session: Session, departures: list[Departure], now: datetime) -> list[OperationsRow]:
    rows = {d.id: OperationsRow(departure=d) for d in departures}
    if not rows:
        return []
    bookings = session.execute(
        select(Booking)
        .where(
            Booking.departure_id.in_(rows),
            Booking.status.in_((BookingStatus.HELD, BookingStatus.CONFIRMED)),
        )
        .options(
            selectinload(Booking.lines),
            selectinload(Booking.payments),
            selectinload(Booking.channel),
        )
    ).scalars()
    for booking in bookings:
        row = rows[booking.departure_id]
        if booking.status == BookingStatus.CONFIRMED:
            row.sold += booking.participants
            row.bookings += 1
            # Only confirmed bookings will turn up (a hold still being paid is not cash due),
            # and a party marked as not come will not pay on the day.
            if booking.no_show_at is None:
                row.due_on_arrival_cents += booking.due_on_arrival_cents
        elif booking.hold_expires_at is not None and booking.hold_expires_at > now:
            row.held += booking.participants
    guides = defaultdict(list)
    for assignment in session.execute(
        select(DepartureGuide)
        .where(DepartureGuide.departure_id.in_(rows))
        .options(selectinload(DepartureGuide.user))
        .order_by(DepartureGuide.role, DepartureGuide.id)
    ).scalars():
        guides[assignment.departure_id].append(assignment)
    for departure_id, assigned in guides.items():
        rows[departure_id].guides = assigned
    return list(rows.values())
