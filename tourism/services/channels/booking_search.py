"""Finding a reseller's bookings for ``GET /bookings``: by its reference, ours, or the local
date of the visit, among its bookings of experiences and its sales of routes (a route's
date is its start date; its legs are never listed on their own)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import (
    Booking,
    ChannelBooking,
    ChannelRouteBooking,
    Departure,
    Reseller,
    RouteBooking,
)
from . import octo_errors as errors
from . import products, route_products
from .reservations import REFERENCE_LIMIT

#: The most bookings one list answer holds.
LIST_LIMIT = 500


def _dates(args: dict):
    one = args.get("localDate")
    start = args.get("localDateStart") or one
    end = args.get("localDateEnd") or one
    if not (start or end):
        return None
    if not (start and end):
        raise errors.bad_request("give both localDateStart and localDateEnd")
    # Named as the reseller sent it: localDate, or the range's own ends.
    first = products.parse_day(
        start, "localDateStart" if args.get("localDateStart") else "localDate"
    )
    last = products.parse_day(end, "localDateEnd" if args.get("localDateEnd") else "localDate")
    products.day_range(first, last)  # the span's checks
    return first, last


def search(
    session: Session, reseller: Reseller, args: dict, now: datetime
) -> list[ChannelBooking | ChannelRouteBooking]:
    """This reseller's bookings of experiences (by the visit's start), then its route sales
    (by start date), that match every criterion given; at least one is required."""
    reference = args.get("resellerReference") or ""
    ours = args.get("supplierReference") or ""
    if len(reference) > REFERENCE_LIMIT or len(ours) > 16:
        # Cut short, a reference would match a booking whose reference is only its start.
        raise errors.bad_request(
            f"resellerReference has at most {REFERENCE_LIMIT} characters, "
            "supplierReference at most 16"
        )
    dates = _dates(args)
    if not (reference or ours or dates):
        raise errors.bad_request(
            "either resellerReference, supplierReference, localDate or "
            "localDateStart/localDateEnd is required"
        )
    if args.get("optionId"):
        products.check_option(args["optionId"])
    wanted = args.get("productId")
    found: list[ChannelBooking | ChannelRouteBooking] = []
    if not (wanted and route_products.is_route_id(wanted)):
        found += _experience_bookings(session, reseller, reference, ours, dates, wanted)
    if not (wanted and not route_products.is_route_id(wanted)):
        found += _route_sales(session, reseller, reference, ours, dates, wanted)
    return found[:LIST_LIMIT]


def _experience_bookings(session, reseller, reference, ours, dates, wanted):
    statement = (
        select(ChannelBooking)
        .join(Booking, ChannelBooking.booking_id == Booking.id)
        .join(Departure, Booking.departure_id == Departure.id)
        .where(ChannelBooking.reseller_id == reseller.id, ChannelBooking.route_sale_id.is_(None))
        .order_by(Departure.starts_at, ChannelBooking.id)
        .limit(LIST_LIMIT)
    )
    if reference:
        statement = statement.where(ChannelBooking.reseller_reference == reference)
    if ours:
        statement = statement.where(Booking.reference == ours)
    if dates:
        begins, ends = products.day_range(*dates)
        statement = statement.where(Departure.starts_at >= begins, Departure.starts_at < ends)
    if wanted:
        experience = products.get_product(session, reseller, wanted)
        statement = statement.where(Departure.experience_id == experience.id)
    return list(session.scalars(statement))


def _route_sales(session, reseller, reference, ours, dates, wanted):
    statement = (
        select(ChannelRouteBooking)
        .join(RouteBooking, ChannelRouteBooking.route_booking_id == RouteBooking.id)
        .where(ChannelRouteBooking.reseller_id == reseller.id)
        .order_by(RouteBooking.start_date, ChannelRouteBooking.id)
        .limit(LIST_LIMIT)
    )
    if reference:
        statement = statement.where(ChannelRouteBooking.reseller_reference == reference)
    if ours:
        statement = statement.where(RouteBooking.reference == ours)
    if dates:
        statement = statement.where(
            RouteBooking.start_date >= dates[0], RouteBooking.start_date <= dates[1]
        )
    if wanted:
        route = route_products.get_route(session, reseller, wanted)
        statement = statement.where(RouteBooking.route_id == route.id)
    return list(session.scalars(statement))
