"""Counting what extras and homestay nights are taken, over route bookings and single
bookings alike: a homestay's beds and an extra's stock are one pool whoever sells them.

Counting only; the counts that decide a sale are made under the locks
(``availability.lock_homestay`` / ``lock_extra``, after the departures, by id).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from ...models import (
    Booking,
    BookingExtra,
    BookingNight,
    BookingStatus,
    Extra,
    RouteBooking,
    RouteBookingExtra,
    RouteBookingNight,
)


def route_booking_holds(now):
    """Route bookings whose nights and extras count: confirmed, or held and not expired."""
    return or_(
        RouteBooking.status == BookingStatus.CONFIRMED,
        and_(RouteBooking.status == BookingStatus.HELD, RouteBooking.hold_expires_at > now),
    )


def booking_holds(now):
    """Single bookings whose extras and nights count, as their seats do."""
    return or_(
        Booking.status == BookingStatus.CONFIRMED,
        and_(Booking.status == BookingStatus.HELD, Booking.hold_expires_at > now),
    )


_ROUTE_BEDS = (
    select(func.coalesce(func.sum(RouteBookingNight.people), 0))
    .join(RouteBooking, RouteBookingNight.route_booking_id == RouteBooking.id)
    .where(
        RouteBookingNight.homestay_id == bindparam("homestay_id"),
        RouteBookingNight.night == bindparam("night"),
        route_booking_holds(bindparam("now")),
    )
)
_SINGLE_BEDS = (
    select(func.coalesce(func.sum(BookingNight.people), 0))
    .join(Booking, BookingNight.booking_id == Booking.id)
    .where(
        BookingNight.homestay_id == bindparam("homestay_id"),
        BookingNight.night == bindparam("night"),
        booking_holds(bindparam("now")),
    )
)


def beds_taken(session: Session, homestay_id: int, night: date, now: datetime) -> int:
    """Beds of one homestay taken on one night, by routes and single bookings."""
    params = {"homestay_id": homestay_id, "night": night, "now": now}
    return int(session.scalar(_ROUTE_BEDS, params)) + int(session.scalar(_SINGLE_BEDS, params))


def single_beds_by_night(
    session: Session, homestay_ids, first: date, last: date, now: datetime
) -> dict[tuple[int, date], int]:
    """Beds taken by single bookings, per (homestay id, night) in ``[first, last]``."""
    rows = session.execute(
        select(BookingNight.homestay_id, BookingNight.night, func.sum(BookingNight.people))
        .join(Booking, BookingNight.booking_id == Booking.id)
        .where(
            BookingNight.homestay_id.in_(set(homestay_ids)),
            BookingNight.night >= first,
            BookingNight.night <= last,
            booking_holds(now),
        )
        .group_by(BookingNight.homestay_id, BookingNight.night)
    )
    return {(homestay_id, night): int(count) for homestay_id, night, count in rows}


def extra_units_sold(
    session: Session, extra_id: int, now: datetime, departure_id: int | None = None
) -> int:
    """Units of an extra sold and held: over every booking, or (``departure_id``) on the
    single bookings of one departure, for a stock per departure."""
    single = (
        select(func.coalesce(func.sum(BookingExtra.quantity), 0))
        .join(Booking, BookingExtra.booking_id == Booking.id)
        .where(BookingExtra.extra_id == extra_id, booking_holds(now))
    )
    if departure_id is not None:
        return int(session.scalar(single.where(Booking.departure_id == departure_id)))
    routes = (
        select(func.coalesce(func.sum(RouteBookingExtra.quantity), 0))
        .join(RouteBooking, RouteBookingExtra.route_booking_id == RouteBooking.id)
        .where(RouteBookingExtra.extra_id == extra_id, route_booking_holds(now))
    )
    return int(session.scalar(single)) + int(session.scalar(routes))


def extra_units_left(
    session: Session, extra: Extra, now: datetime, departure_id: int | None = None
) -> int | None:
    """Units of ``extra`` still for sale (on ``departure_id`` for a stock per departure);
    None when it has no stock limit."""
    if extra.stock is None:
        return None
    scope = departure_id if extra.stock_per_departure else None
    return max(extra.stock - extra_units_sold(session, extra.id, now, scope), 0)
