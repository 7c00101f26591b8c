"""Route sales as OCTO booking objects: the route product, the start date as the slot, one
unit item per person of the unit (ticket category) they were sold, and a voucher with the
check-in code of every activity leg."""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Callable
from datetime import datetime

from ...models import Booking, BookingStatus, ChannelBooking, ChannelRouteBooking, RouteBooking
from ..ledger.shares import unit_commission
from ..routes.tickets import ADULT
from . import products, route_products, route_units
from .representation import STATUSES, contact_object, octo_status


def route_status(route_booking: RouteBooking, now: datetime) -> str:
    """Our route booking's state as OCTO's (a hold past its expiry is ``EXPIRED`` at once)."""
    if route_booking.status == BookingStatus.HELD and route_booking.hold_expires_at <= now:
        return "EXPIRED"
    return STATUSES[route_booking.status]


def _first_bookings(route_booking: RouteBooking) -> list:
    """The booking each leg was sold with (a leg moved later keeps its first price)."""
    first: dict[int, object] = {}
    for booking_leg in sorted(route_booking.legs, key=lambda bl: bl.id):
        first.setdefault(booking_leg.leg_id, booking_leg.booking)
    return list(first.values())


def _code(line) -> str:
    return line.price_category.code


def sold_units(route_booking: RouteBooking) -> dict[str, int]:
    """People per unit the route was sold for, in unit order (adult first): each leg's
    booking has a line per category (``routes.tickets.leg_lines``)."""
    others: dict[str, int] = {}
    for booking in _first_bookings(route_booking):
        for line in booking.lines:
            code = _code(line)
            if code != ADULT:
                others[code] = max(others.get(code, 0), line.quantity)
    adults = route_booking.people - sum(others.values())
    return ({ADULT: adults} if adults > 0 else {}) | others


def _sold_leg_cents(booking, code: str) -> int:
    lines = {_code(line): line.unit_price_cents for line in booking.lines}
    return lines.get(code, lines.get(ADULT, next(iter(lines.values()), 0)))


def sold_unit_prices(sale: ChannelRouteBooking) -> dict[str, route_units.PersonPrice]:
    """One person's price and commission per unit as the route was sold (not as it is
    priced now): each activity leg's ticket of the unit's category, with the commission
    per ticket as ``booking_commission`` takes it, plus the nights and the curator's fee,
    which are per person whatever the unit (so they divide exactly)."""
    route_booking = sale.route_booking
    bookings = _first_bookings(route_booking)
    stay = sum(night.amount_cents for night in route_booking.nights)
    stay = (stay + route_booking.curator_fee_cents) // route_booking.people
    prices = {}
    for code in sold_units(route_booking):
        legs = [_sold_leg_cents(booking, code) for booking in bookings]
        prices[code] = route_units.PersonPrice(
            sum(legs) + stay,
            sum(unit_commission(cents, sale.commission_bp) for cents in legs),
            route_booking.currency,
        )
    return prices


def route_booking_object(
    sale: ChannelRouteBooking,
    caps: products.Capabilities,
    now: datetime,
    label: Callable[[str], str],
    locale: str,
    manage_url: str,
) -> dict:
    """The OCTO booking of a route sale (see the module doc); with ``octo/pricing``, the
    retail and net prices it was sold at."""
    route_booking = sale.route_booking
    route = route_booking.route
    status = route_status(route_booking, now)
    product = route_products.product(route, sale.reseller, caps, label, locale)
    option = product["options"][0]
    units = {unit["id"]: unit for unit in option["units"]}
    legs = [bl.booking for bl in sorted(route_booking.legs, key=lambda bl: bl.id)]
    standing = [b for b in legs if b.status in (BookingStatus.HELD, BookingStatus.CONFIRMED)]
    departures = [b.departure for b in (standing or legs)]
    starts_at = min(d.starts_at for d in departures)
    ends_at = max(d.ends_at for d in departures)
    voucher = None
    if status == "CONFIRMED":
        voucher = {
            "redemptionMethod": "DIGITAL",
            "utcRedeemedAt": None,
            # Each community's guide checks the party in with its own leg's code.
            "deliveryOptions": [
                {"deliveryFormat": "QRCODE", "deliveryValue": booking.reference}
                for booking in standing
            ],
            "manageUrl": manage_url,
        }
    sold = sold_units(route_booking)
    prices = sold_unit_prices(sale) if caps.pricing else None
    unit_items = []
    for code, count in sold.items():
        for n in range(count):
            item = {
                "uuid": str(uuid_module.uuid5(uuid_module.UUID(sale.uuid), f"{code}:{n}")),
                "resellerReference": None,
                "supplierReference": f"{route_booking.reference}-{code}-{n + 1}",
                "unitId": code,
                # A unit the route no longer sells is still described as it was sold.
                "unit": units.get(code)
                or route_products.unit(route, code, prices and prices[code], caps, label),
                "status": status,
                "utcRedeemedAt": None,
                "contact": contact_object(route_booking),
                "ticket": None,
            }
            if prices is not None:
                item["pricing"] = prices[code].octo()
            unit_items.append(item)
    cancelled = route_booking.status in (BookingStatus.CANCELLED, BookingStatus.REFUNDED)
    reason = next((b.cancel_reason for b in legs if b.cancel_reason), "")
    data = {
        "id": sale.uuid,
        "uuid": sale.uuid,
        "testMode": False,
        "resellerReference": sale.reseller_reference,
        "supplierReference": route_booking.reference,
        "status": status,
        "utcCreatedAt": products.utc_text(route_booking.created_at),
        "utcUpdatedAt": products.utc_text(sale.updated_at),
        "utcExpiresAt": products.utc_text(route_booking.hold_expires_at)
        if route_booking.status == BookingStatus.HELD
        else None,
        "utcRedeemedAt": None,
        "utcConfirmedAt": products.utc_text(route_booking.confirmed_at),
        "productId": route_products.product_id(route),
        "product": product,
        "optionId": products.OPTION_ID,
        "option": option,
        "cancellable": status in ("ON_HOLD", "CONFIRMED") and starts_at > now,
        "cancellation": {
            # Nothing was paid to us: the communities are paid on arrival, or by the reseller.
            "refund": "NONE",
            "reason": reason or None,
            "utcCancelledAt": products.utc_text(route_booking.cancelled_at or now),
        }
        if cancelled
        else None,
        "freesale": False,
        "availabilityId": route_booking.start_date.isoformat(),
        "availability": {
            "id": route_booking.start_date.isoformat(),
            "localDateTimeStart": products.local_text(starts_at),
            "localDateTimeEnd": products.local_text(ends_at),
            "allDay": False,
            "openingHours": [],
        },
        "contact": contact_object(route_booking),
        "notes": sale.notes or None,
        "deliveryMethods": ["VOUCHER"],
        "voucher": voucher,
        "unitItems": unit_items,
    }
    if prices is not None:
        data["pricing"] = route_units.total_price(prices, sold, route_booking.currency)
    return data


def webhook_booking(channel: ChannelBooking, booking: Booking, now: datetime, reason: str) -> dict:
    """What a webhook tells a reseller of one of its bookings that changed on our side: the
    booking, or, for a leg of a route it sold, the route sale (the reseller knows no leg)."""
    sale = channel.route_sale
    if sale is not None:
        route_booking = sale.route_booking
        return {
            "uuid": sale.uuid,
            "resellerReference": sale.reseller_reference,
            "supplierReference": route_booking.reference,
            "status": route_status(route_booking, now),
            "productId": route_products.product_id(route_booking.route),
            "optionId": products.OPTION_ID,
            "availabilityId": route_booking.start_date.isoformat(),
            "utcUpdatedAt": products.utc_text(now),
            "cancellationReason": reason or None,
        }
    return {
        "uuid": channel.uuid,
        "resellerReference": channel.reseller_reference,
        "supplierReference": booking.reference,
        "status": octo_status(booking, now),
        "productId": booking.departure.experience.slug,
        "optionId": products.OPTION_ID,
        "availabilityId": str(booking.departure_id),
        "utcUpdatedAt": products.utc_text(now),
        "cancellationReason": reason or None,
    }
