"""Changes to a route booking after it is made: finding it from its private link, and the
tourist cancelling the whole route before its first activity."""

from __future__ import annotations

import hmac
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import DepartureUnavailable, NotFound
from ...models import (
    BookingStatus,
    RouteBooking,
)
from ..booking import lifecycle

#: Route booking references start with this, so they never collide with an association's.
ROUTE_REFERENCE_PREFIX = "RUT"
#: The most of one extra a booking may take.
MAX_EXTRA_QUANTITY = 50


class CannotCancelRoute(DepartureUnavailable):
    default_message = _l("This route booking can no longer be cancelled online.")


def cancel_route_booking(
    session: Session, route_booking: RouteBooking, now: datetime, paid_online_ok: bool = False
):
    """Cancel the whole route before its first activity: every leg booking still standing
    (each through ``lifecycle.cancel_booking``, in departure-id order like the locks when
    booking), its nights and extras (they stop counting when the route booking is cancelled).

    Money paid online is refunded by the caller (``payments.route_card.cancel_route``, which
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
