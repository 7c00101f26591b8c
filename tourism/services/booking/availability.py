"""Seat counting and the departure lock that makes counting safe."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from ...database import holds_write_lock
from ...driver_statements import DriverStatement
from ...errors import NotFound
from ...models import (
    Booking,
    BookingLine,
    BookingStatus,
    Departure,
    DepartureStatus,
    Extra,
    Homestay,
)
from . import caps as hold_caps

#: Bookings close this long before a departure starts, so the community can prepare.
#: Pages and APIs offer no booking past it; the hold refuses one (``bookable.check_open``).
DEFAULT_CUTOFF = timedelta(minutes=60)


def _live_holds(now):
    """Tickets of the holds that have not expired yet, per departure (expired holds free
    seats at once, before any sweep runs). Confirmed tickets are on the departure row
    (``Departure.seats_confirmed``), so only these few rows are read from the bookings."""
    return (
        select(
            Booking.departure_id.label("departure_id"),
            func.sum(BookingLine.quantity).label("seats"),
        )
        .join(BookingLine, BookingLine.booking_id == Booking.id)
        .where(Booking.status == BookingStatus.HELD, Booking.hold_expires_at > now)
        .group_by(Booking.departure_id)
    )


def seats_taken(session: Session, departure_ids: Iterable[int], now: datetime) -> dict[int, int]:
    """Seats counted against capacity, per departure id, in one query: the confirmed
    tickets kept on the departure plus the live holds."""
    ids = list(departure_ids)
    if not ids:
        return {}
    held = _live_holds(now).where(Booking.departure_id.in_(ids)).subquery()
    rows = session.execute(
        select(Departure.id, Departure.seats_confirmed + func.coalesce(held.c.seats, 0))
        .outerjoin(held, held.c.departure_id == Departure.id)
        .where(Departure.id.in_(ids))
    ).all()
    taken = {departure_id: 0 for departure_id in ids}
    taken.update({departure_id: int(count) for departure_id, count in rows})
    return taken


_SEATS_TAKEN_ON_ONE = select(
    Departure.seats_confirmed
    + func.coalesce(
        select(func.sum(BookingLine.quantity))
        .join(Booking, BookingLine.booking_id == Booking.id)
        .where(
            Booking.departure_id == bindparam("departure_id"),
            Booking.status == BookingStatus.HELD,
            Booking.hold_expires_at > bindparam("now"),
        )
        .scalar_subquery(),
        0,
    )
).where(Departure.id == bindparam("departure_id"))


def seats_taken_on(session: Session, departure_id: int, now: datetime) -> int:
    """``seats_taken`` for one departure, with a statement built once (the booking path)."""
    return int(session.scalar(_SEATS_TAKEN_ON_ONE, {"departure_id": departure_id, "now": now}) or 0)


def seats_left(session: Session, departure: Departure, now: datetime) -> int:
    if departure.status != DepartureStatus.SCHEDULED:
        return 0
    return max(departure.capacity - seats_taken_on(session, departure.id, now), 0)


def seats_left_if_short(
    session: Session, departure: Departure, wanted: int, now: datetime
) -> int | None:
    """The seats left when ``wanted`` may not fit, for a form to say so beside the tickets;
    None when the departure row shows room for them before any live hold is counted.

    A hold never needs this answer: it counts under the departure's lock, and reports seats
    that do not fit itself. So the count is skipped when the row alone shows plenty of room
    (the usual case), and a shortfall made only by live holds is reported by the hold."""
    if departure.status == DepartureStatus.SCHEDULED and (
        wanted <= departure.capacity - departure.seats_confirmed
    ):
        return None
    return seats_left(session, departure, now)


_READ_DEPARTURE = (
    select(Departure)
    .where(Departure.id == bindparam("departure_id"))
    .execution_options(populate_existing=True)
)
_LOCK_DEPARTURE = _READ_DEPARTURE.with_for_update(key_share=True)


def lock_departure(session: Session, departure_id: int) -> Departure:
    """Lock the departure row for the rest of the transaction and return it fresh.

    Call it once, as late as possible, but before counting seats. On PostgreSQL this is
    ``SELECT … FOR NO KEY UPDATE``: it excludes every other seat change, yet lets others
    insert bookings that point at the departure (their foreign-key check takes a key-share
    lock, which ``FOR UPDATE`` would block, and two holds that inserted before locking would
    deadlock). On SQLite the transaction already holds the database write lock
    (``BEGIN IMMEDIATE``, see ``tourism.database``) and we check that it really does.
    """
    if session.get_bind().dialect.name != "sqlite":
        statement = _LOCK_DEPARTURE
    elif holds_write_lock(session):
        statement = _READ_DEPARTURE
    else:
        raise RuntimeError(
            "seat changes on SQLite must run in a write (BEGIN IMMEDIATE) transaction"
        )
    departure = session.execute(statement, {"departure_id": departure_id}).scalar_one_or_none()
    if departure is None:
        raise NotFound()
    return departure


_READ_HOMESTAY = (
    select(Homestay)
    .where(Homestay.id == bindparam("homestay_id"))
    .execution_options(populate_existing=True)
)
_READ_EXTRA = (
    select(Extra).where(Extra.id == bindparam("extra_id")).execution_options(populate_existing=True)
)


def _lock(session: Session, statement, params: dict):
    """The row, locked for the rest of the transaction as ``lock_departure`` locks one
    (a homestay's beds or an extra's stock; always after the departures, by id)."""
    if session.get_bind().dialect.name != "sqlite":
        statement = statement.with_for_update(key_share=True)
    elif not holds_write_lock(session):
        raise RuntimeError(
            "seat changes on SQLite must run in a write (BEGIN IMMEDIATE) transaction"
        )
    return session.execute(statement, params).scalar_one()


def lock_homestay(session: Session, homestay_id: int) -> Homestay:
    return _lock(session, _READ_HOMESTAY, {"homestay_id": homestay_id})


def lock_extra(session: Session, extra_id: int) -> Extra:
    return _lock(session, _READ_EXTRA, {"extra_id": extra_id})


#: Table columns (a Core statement: no ORM compile step on the hold's path).
_STATE = Departure.__table__.c
_READ_STATE = select(_STATE.status, _STATE.starts_at, _STATE.capacity).where(
    _STATE.id == bindparam("departure_id")
)
_LOCK_STATE = _READ_STATE.with_for_update(key_share=True)
#: The same row with the caps' counts of open unpaid bookings (``caps.open_count_columns``):
#: the hold's lock and its caps check in one round trip.
_READ_STATE_AND_CAPS = _READ_STATE.add_columns(*hold_caps.open_count_columns())
_LOCK_STATE_AND_CAPS = _READ_STATE_AND_CAPS.with_for_update(key_share=True)
#: Each of them by (with the caps' counts, locked), run through the driver: a hold runs one.
_DEPARTURE_STATE = {
    (False, False): DriverStatement(_READ_STATE),
    (False, True): DriverStatement(_LOCK_STATE),
    (True, False): DriverStatement(_READ_STATE_AND_CAPS),
    (True, True): DriverStatement(_LOCK_STATE_AND_CAPS),
}


def lock_departure_state(session: Session, departure_id: int, caps_params: dict | None = None):
    """``lock_departure`` for a caller that needs only the departure's ``status``,
    ``starts_at`` and ``capacity`` as they are under the lock (a row, no ORM object loaded):
    the hold (``lifecycle.hold_seats``). The same lock, the same rules.

    With ``caps_params`` (``caps.count_params``, after the caps' locks) the row also has
    the caps' counts, ``open_by_email`` and ``open_by_address``. The counts read the bookings
    as they were when this statement started, which is after the caps' advisory locks were
    taken: every booking of that email or address committed before is seen, as the caps'
    own statement would see it (``caps.check``)."""
    if session.get_bind().dialect.name != "sqlite":
        locked = True
    elif holds_write_lock(session):
        locked = False  # the write lock serialises the whole transaction already
    else:
        raise RuntimeError(
            "seat changes on SQLite must run in a write (BEGIN IMMEDIATE) transaction"
        )
    return _departure_state(session, departure_id, caps_params, locked)


def read_departure_state(session: Session, departure_id: int, caps_params: dict | None = None):
    """The row ``lock_departure_state`` returns, read without any lock: only the negative
    controls of the tests use it, in its place, to show that the seats then go twice."""
    return _departure_state(session, departure_id, caps_params, False)


def _departure_state(session: Session, departure_id: int, caps_params: dict | None, locked: bool):
    params = {"departure_id": departure_id}
    if caps_params is not None:
        params |= caps_params
    state = _DEPARTURE_STATE[caps_params is not None, locked].first(session, params)
    if state is None:
        raise NotFound()
    return state


@dataclass(frozen=True)
class DepartureAvailability:
    departure: Departure
    seats_left: int
    #: Bookings have closed: the departure starts within the booking cutoff.
    closed: bool = False

    @property
    def bookable(self) -> bool:
        return (
            self.seats_left > 0
            and self.departure.status == DepartureStatus.SCHEDULED
            and not self.closed
        )


def departures_between(
    session: Session,
    experience_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    include_cancelled: bool = True,
    cutoff: timedelta = DEFAULT_CUTOFF,
) -> list[DepartureAvailability]:
    """Departures of one experience starting in ``[start, end)``, each with seats left and
    whether its bookings have closed (``cutoff`` before it starts)."""
    statement = (
        select(Departure)
        .where(
            Departure.experience_id == experience_id,
            Departure.starts_at >= max(start, now),
            Departure.starts_at < end,
            # A group's private departure is sold only through its quote: never listed.
            Departure.group_request_id.is_(None),
        )
        .order_by(Departure.starts_at)
    )
    if not include_cancelled:
        statement = statement.where(Departure.status == DepartureStatus.SCHEDULED)
    departures = session.execute(statement).scalars().all()
    taken = seats_taken(session, [d.id for d in departures], now)
    return [
        DepartureAvailability(
            departure=d,
            seats_left=0
            if d.status != DepartureStatus.SCHEDULED
            else max(d.capacity - taken[d.id], 0),
            closed=d.starts_at - cutoff <= now,
        )
        for d in departures
    ]
