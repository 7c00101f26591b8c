"""Changes to a route booking after it is made: finding it from its private link, and the
tourist cancelling the whole route before its first activity."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import DepartureUnavailable, NotFound, SoldOut
from ...models import (
    BookingStatus,
    Departure,
    DepartureStatus,
    PaymentMethod,
    RouteBooking,
    RouteBookingLeg,
)
from ..booking import availability as seats
from ..booking import lifecycle
from ..booking.references import new_reference
from ..channels import webhooks
from ..ledger import reseller_postings
from . import booking as route_booking_service
from . import notices

#: Route booking references start with this, so they never collide with an association's.
ROUTE_REFERENCE_PREFIX = "RUT"
#: The most of one extra a booking may take.
MAX_EXTRA_QUANTITY = 50


class CannotCancelRoute(DepartureUnavailable):
    default_message = _l("This route booking can no longer be cancelled online.")


class CannotMoveLeg(DepartureUnavailable):
    default_message = _l("This activity cannot be moved to that date.")


class NoRoomToMove(SoldOut):
    default_message = _l("Sorry, that date has no room left for everyone in your booking.")


#: What a reseller's webhook says when the tourist moved a leg of the route it sold.
LEG_MOVED = "date changed"

#: How far from the cancelled activity's day another date is offered: the tourist is on the
#: route around that day, not whenever the experience next runs.
MOVE_DAYS_AROUND = 7
#: The most dates offered for one leg, the closest to the cancelled day first.
MOVE_CHOICES = 8


def cancel_route_booking(
    session: Session, route_booking: RouteBooking, now: datetime, paid_online_ok: bool = False
):
    """Cancel the whole route before its first activity: every leg booking still standing
    (each through ``lifecycle.cancel_booking``, in departure-id order like the locks when
    booking), its nights and extras (they stop counting when the route booking is cancelled).

    Money paid online is refunded by the caller (``payments.route_refunds.cancel_route``, which
    passes ``paid_online_ok``); cash already handed to a community is settled with it."""
    if route_booking.status not in (BookingStatus.HELD, BookingStatus.CONFIRMED):
        raise CannotCancelRoute()
    legs = sorted(route_booking.legs, key=lambda bl: bl.booking.departure_id)
    if any(bl.booking.departure.starts_at <= now for bl in legs):
        raise CannotCancelRoute()
    # Money already handed to a community is settled with it, not by an online click.
    if any(bl.booking.paid_cash_cents for bl in legs) or (
        not paid_online_ok and any(bl.booking.paid_online_cents for bl in legs)
    ):
        raise CannotCancelRoute()
    for booking_leg in legs:
        if booking_leg.booking.status in (BookingStatus.HELD, BookingStatus.CONFIRMED):
            lifecycle.cancel_booking(session, booking_leg.booking, now)
    if route_booking.status == BookingStatus.CONFIRMED:  # a hold's hosts were never told
        notices.queue_route_cancelled(session, route_booking)
    # A prepaid reseller's sale of the nights and fee is undone with the route, as each
    # leg's sale is with its booking (nothing for other route bookings).
    reseller_postings.reverse_route_stay_sale(session, route_booking)
    route_booking.status = BookingStatus.CANCELLED
    route_booking.cancelled_at = now
    route_booking.hold_expires_at = None
    session.flush()
    return route_booking


def expire_route_holds(session: Session, now: datetime) -> int:
    """Mark every route hold past its expiry as expired, with its leg bookings; returns how
    many. Its seats, beds and extras stopped counting at the expiry already (every count
    looks at ``hold_expires_at``); this only makes the statuses say so. Safe to run any time."""
    stale = session.scalars(
        select(RouteBooking).where(
            RouteBooking.status == BookingStatus.HELD, RouteBooking.hold_expires_at <= now
        )
    ).all()
    for route_booking in stale:
        for booking_leg in route_booking.legs:
            if booking_leg.booking.status == BookingStatus.HELD:
                booking_leg.booking.transition(BookingStatus.EXPIRED)
        route_booking.status = BookingStatus.EXPIRED
    session.flush()
    return len(stale)


def find_route_booking(session: Session, token: str) -> RouteBooking:
    """The route booking a manage link points to; any other token is simply not found."""
    if not lifecycle.TOKEN_SHAPE.fullmatch(token or ""):
        raise NotFound()
    found = session.scalar(select(RouteBooking).where(RouteBooking.manage_token == token))
    if found is None or not hmac.compare_digest(found.manage_token, token):
        raise NotFound()
    return found


# A leg its community cancelled, moved to another date --------------------------------------


def _active(booking) -> bool:
    return booking.status in (BookingStatus.HELD, BookingStatus.CONFIRMED)


def movable_legs(route_booking: RouteBooking) -> list[RouteBookingLeg]:
    """The legs of a standing route whose departure its community cancelled and that were
    not moved yet: the tourist may move each to another departure of the same experience."""
    if route_booking.status != BookingStatus.CONFIRMED:
        return []
    replaced = {bl.leg_id for bl in route_booking.legs if _active(bl.booking)}
    return [
        bl
        for bl in route_booking.legs
        if bl.booking.status == BookingStatus.CANCELLED
        and bl.booking.departure.status == DepartureStatus.CANCELLED
        and bl.leg_id not in replaced
    ]


def _others(route_booking: RouteBooking) -> list[tuple[datetime, datetime]]:
    return [
        (bl.booking.departure.starts_at, bl.booking.departure.ends_at)
        for bl in route_booking.legs
        if _active(bl.booking)
    ]


def _fits(departure: Departure, others, now: datetime, cutoff) -> bool:
    return (
        departure.status == DepartureStatus.SCHEDULED
        and departure.starts_at - cutoff > now
        and all(departure.ends_at <= start or departure.starts_at >= end for start, end in others)
    )


def _around(departure: Departure) -> tuple[datetime, datetime]:
    reach = timedelta(days=MOVE_DAYS_AROUND)
    return departure.starts_at - reach, departure.starts_at + reach


def move_options(
    session: Session,
    route_booking: RouteBooking,
    booking_leg: RouteBookingLeg,
    now: datetime,
    cutoff=lifecycle.DEFAULT_CUTOFF,
) -> list[Departure]:
    """Other departures of the leg's experience with room for everyone in the booking, not
    overlapping the route's other activities, within ``MOVE_DAYS_AROUND`` days of the
    cancelled one, the closest first (a few)."""
    cancelled = booking_leg.booking.departure
    others = _others(route_booking)
    found = session.scalars(
        select(Departure)
        .where(
            Departure.experience_id == cancelled.experience_id,
            Departure.status == DepartureStatus.SCHEDULED,
            Departure.starts_at > now + cutoff,
            Departure.starts_at.between(*_around(cancelled)),
            Departure.group_request_id.is_(None),
        )
        .order_by(Departure.starts_at, Departure.id)
    )
    options = []
    for departure in sorted(found, key=lambda d: abs(d.starts_at - cancelled.starts_at)):
        if _fits(departure, others, now, cutoff) and (
            seats.seats_left(session, departure, now) >= route_booking.people
        ):
            options.append(departure)
            if len(options) == MOVE_CHOICES:
                break
    return sorted(options, key=lambda d: d.starts_at)  # shown in the order of the days


def move_leg(
    session: Session,
    route_booking: RouteBooking,
    booking_leg_id: int,
    departure_id: int,
    now: datetime,
    cutoff=lifecycle.DEFAULT_CUTOFF,
) -> RouteBookingLeg:
    """Move a cancelled leg to another departure of the same experience: a new leg booking
    for everyone in the route booking, confirmed, paid in cash to its community on arrival
    (the cancelled leg's card payment was refunded in full).

    Race-safe like any booking: the departure is locked (the lock every seat change takes)
    before its seats are counted, and the new booking is written under that lock, so two
    tourists (or a tourist and a reseller) can never both take the last seats."""
    booking_leg = next((bl for bl in route_booking.legs if bl.id == booking_leg_id), None)
    if booking_leg is None:
        raise NotFound()
    if booking_leg not in movable_legs(route_booking):
        raise CannotMoveLeg()
    cancelled = booking_leg.booking.departure
    departure = seats.lock_departure(session, departure_id)
    first, last = _around(cancelled)
    if (
        departure.experience_id != cancelled.experience_id
        or departure.group_request_id is not None
        or not first <= departure.starts_at <= last
        or not _fits(departure, _others(route_booking), now, cutoff)
    ):
        raise CannotMoveLeg()
    people = route_booking.people
    taken = seats.seats_taken_on(session, departure.id, now)
    if people > departure.capacity - taken:
        raise NoRoomToMove()
    code = departure.experience.association.code
    # The same people in the same categories as on the leg it replaces (same experience).
    tickets: dict[str, int] = {}
    for line in booking_leg.booking.lines:
        category = line.price_category.code
        tickets[category] = tickets.get(category, 0) + line.quantity
    moved = route_booking_service.leg_booking(
        session, departure, tickets, route_booking, now, new_reference(session, code)
    )
    moved.payment_method = PaymentMethod.ON_ARRIVAL.value
    moved.online_due_cents = 0
    moved.status, moved.confirmed_at, moved.hold_expires_at = BookingStatus.CONFIRMED, now, None
    new_leg = RouteBookingLeg(leg=booking_leg.leg, booking=moved)
    route_booking.legs.append(new_leg)
    session.flush()
    # A reseller that sold the route hears of it, as the route (a leg it sold stands for it).
    sold = next((bl.booking for bl in route_booking.legs if bl.booking.channel is not None), None)
    if sold is not None:
        webhooks.booking_changed(session, sold, now, LEG_MOVED)
    return new_leg
