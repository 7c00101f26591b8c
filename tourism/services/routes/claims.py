"""Claiming what a route booking holds, under the locks, in the fixed order (see
``booking``'s module doc): departures by id, then homestays by id, then stocked extras by
id. Every count is made under its lock, the booking being claimed included."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy.orm import Session

from ...errors import DepartureUnavailable, SoldOut
from ...models import DepartureStatus, RouteBooking
from ..booking import availability as seats
from . import availability


class RouteUnavailable(DepartureUnavailable):
    default_message = _l("This route cannot be booked for that date: %(reason)s.")


class LegInThePast(DepartureUnavailable):
    default_message = _l(
        "An activity of this route on that date has already left or closed for bookings."
    )


class NotEnoughBeds(SoldOut):
    default_message = _l("Sorry, a homestay of this route has not enough beds left that night.")


class ExtraOverStock(SoldOut):
    def __init__(self, name: str, left: int) -> None:
        super().__init__(
            _ln(
                "Sorry, only %(num)s of %(extra)s is left.",
                "Sorry, only %(num)s of %(extra)s are left.",
                left,
                extra=name,
            )
        )


def lock_route(session: Session, route_booking: RouteBooking) -> None:
    """Every leg's departure, by id: the first locks ``book_route`` takes, so a route's
    money and its seats change under the same locks in the same order."""
    for departure_id in sorted({bl.booking.departure_id for bl in route_booking.legs}):
        seats.lock_departure(session, departure_id)
    session.refresh(route_booking)


def claim_all(session: Session, route_booking: RouteBooking, now, cutoff) -> None:
    """Lock departures, then homestays, then stocked extras, each by id, and check under
    the locks that this booking (already inserted) still fits everywhere."""
    people = route_booking.people
    for departure_id in sorted(bl.booking.departure_id for bl in route_booking.legs):
        departure = seats.lock_departure(session, departure_id)
        if departure.status != DepartureStatus.SCHEDULED:
            raise RouteUnavailable(reason=availability.DEPARTURE_CANCELLED)
        if departure.starts_at - cutoff <= now:
            raise LegInThePast()
        taken = seats.seats_taken_on(session, departure_id, now)
        left = departure.capacity - (taken - people)
        if people > left:
            raise SoldOut(
                _ln(
                    "Sorry, only %(num)s seat is left on an activity of this route that day.",
                    "Sorry, only %(num)s seats are left on an activity of this route that day.",
                    max(left, 0),
                )
            )
    nights = sorted(route_booking.nights, key=lambda n: (n.homestay_id, n.night))
    for homestay_id in sorted({night.homestay_id for night in nights}):
        homestay = seats.lock_homestay(session, homestay_id)
        closed = {b.night for b in homestay.blackouts}
        for night in (n for n in nights if n.homestay_id == homestay_id):
            if not homestay.is_active or night.night in closed:
                raise RouteUnavailable(reason=availability.CLOSED_NIGHT)
            taken = availability.beds_taken(session, homestay_id, night.night, now)
            if taken > homestay.capacity:
                raise NotEnoughBeds()
    for item in sorted(route_booking.extras, key=lambda e: e.extra_id):
        if item.extra.stock is None:
            continue
        extra = seats.lock_extra(session, item.extra_id)
        sold = availability.extra_units_sold(session, extra.id, now)
        if sold > extra.stock:
            raise ExtraOverStock(
                name=extra.name(route_booking.language),
                left=max(extra.stock - (sold - item.quantity), 0),
            )
