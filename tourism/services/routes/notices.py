"""A route booking's emails, through the ordinary outbox, and its host families' notices.

The outbox keys each message by a booking, so a route's email is queued on its first leg
booking (the earliest activity) with the route booking's id in the context; the renderer
(``messages.rendering``) adds the route's days, nights, extras and private page. Queued in
the caller's transaction, sent after the commit, once however often the event is replayed.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ...models import Booking, RouteBooking
from ..messages import homestay_notices, outbox

#: The route booking is confirmed (paid on arrival, or its card payment succeeded).
ROUTE_CONFIRMED = "route_confirmed"
#: A card payment arrived after the route's hold lapsed (or after it was cancelled) and is
#: given back whole.
ROUTE_LATE_REFUNDED = "route_payment_refunded"


def queue_route_cancelled(session: Session, route_booking: RouteBooking) -> int:
    """Tell the host families that a confirmed route booking's nights are cancelled."""
    return homestay_notices.queue_homestay_change(
        session, route_booking, homestay_notices.HOMESTAY_CANCELLED
    )


def first_leg_booking(route_booking: RouteBooking) -> Booking:
    return min(
        (bl.booking for bl in route_booking.legs),
        key=lambda b: (b.departure.starts_at, b.id),
    )


def queue_route(session: Session, route_booking: RouteBooking, kind: str, **context):
    """Queue the route's ``kind`` email; a confirmation also tells the host families of the
    route's nights (``homestay_notices``)."""
    if kind == ROUTE_CONFIRMED:
        homestay_notices.queue_homestay_change(
            session, route_booking, homestay_notices.HOMESTAY_BOOKED
        )
    return outbox.queue(
        session,
        first_leg_booking(route_booking),
        kind,
        route_booking_id=route_booking.id,
        **context,
    )
