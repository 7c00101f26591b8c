"""Channel bookings as OCTO booking objects."""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import object_session

from ...models import Booking, BookingStatus, ChannelBooking
from . import products

#: Our booking states as OCTO's (a checked-in booking is ``REDEEMED``; a hold past its expiry
#: is ``EXPIRED`` at once, before any sweep marks it).
STATUSES = {
    BookingStatus.HELD: "ON_HOLD",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.CANCELLED: "CANCELLED",
    BookingStatus.REFUNDED: "CANCELLED",
    BookingStatus.EXPIRED: "EXPIRED",
}


def octo_status(booking: Booking, now: datetime) -> str:
    if booking.status == BookingStatus.HELD and booking.hold_expires_at <= now:
        return "EXPIRED"
    if booking.status == BookingStatus.CONFIRMED and booking.checked_in_at is not None:
        return "REDEEMED"
    return STATUSES[booking.status]


def contact_object(booking) -> dict:
    """OCTO's contact of a booking or a route booking (both keep the same contact fields)."""
    first, _, last = booking.contact_name.partition(" ")
    return {
        "fullName": booking.contact_name,
        "firstName": first or None,
        "lastName": last or None,
        "emailAddress": booking.contact_email,
        "phoneNumber": booking.contact_phone,
        "locales": [booking.language],
        "postalCode": None,
        "country": booking.country,
        "notes": getattr(booking, "special_needs", "") or None,
    }


def booking_object(
    channel: ChannelBooking,
    caps: products.Capabilities,
    now: datetime,
    label: Callable[[str], str],
    locale: str,
    manage_url: str,
) -> dict:
    """The OCTO booking: its state, the product, option and slot, the guest, one unit item
    per ticket, the voucher once confirmed (the check-in QR code's value and the manage link)
    and, with ``octo/pricing``, retail and net prices."""
    booking = channel.booking
    departure = booking.departure
    experience = departure.experience
    reseller = channel.reseller
    status = octo_status(booking, now)
    product = products.product(
        object_session(booking), experience, reseller, caps, now, label, locale
    )
    option = product["options"][0]
    units = {u["id"]: u for u in option["units"]}
    redeemed = products.utc_text(booking.checked_in_at)
    voucher = None
    if status in ("CONFIRMED", "REDEEMED"):
        voucher = {
            "redemptionMethod": "DIGITAL",
            "utcRedeemedAt": redeemed,
            "deliveryOptions": [{"deliveryFormat": "QRCODE", "deliveryValue": booking.reference}],
            "manageUrl": manage_url,
        }
    unit_items = []
    for line in booking.lines:
        code = line.price_category.code
        unit = units.get(code) or products.unit(
            line.price_category, experience, reseller, caps, label
        )
        for n in range(line.quantity):
            item = {
                "uuid": str(uuid_module.uuid5(uuid_module.UUID(channel.uuid), f"{code}:{n}")),
                "resellerReference": None,
                "supplierReference": f"{booking.reference}-{code}-{n + 1}",
                "unitId": code,
                "unit": unit,
                "status": status,
                "utcRedeemedAt": redeemed,
                "contact": contact_object(booking),
                "ticket": None,
            }
            if caps.pricing:
                item["pricing"] = products.line_price(
                    line.unit_price_cents,
                    1,
                    booking.currency,
                    channel.commission_bp,
                    channel.net_cents,
                )
            unit_items.append(item)
    cancelled = booking.status in (BookingStatus.CANCELLED, BookingStatus.REFUNDED)
    data = {
        "id": channel.uuid,
        "uuid": channel.uuid,
        "testMode": False,
        "resellerReference": channel.reseller_reference,
        "supplierReference": booking.reference,
        "status": status,
        "utcCreatedAt": products.utc_text(booking.created_at),
        "utcUpdatedAt": products.utc_text(channel.updated_at),
        "utcExpiresAt": products.utc_text(booking.hold_expires_at)
        if booking.status == BookingStatus.HELD
        else None,
        "utcRedeemedAt": redeemed,
        "utcConfirmedAt": products.utc_text(booking.confirmed_at),
        "productId": experience.slug,
        "product": product,
        "optionId": products.OPTION_ID,
        "option": option,
        "cancellable": status in ("ON_HOLD", "CONFIRMED") and departure.starts_at > now,
        "cancellation": {
            # Nothing was paid to us: a channel booking is paid on arrival.
            "refund": "NONE",
            "reason": booking.cancel_reason or None,
            "utcCancelledAt": products.utc_text(booking.cancelled_at or now),
        }
        if cancelled
        else None,
        "freesale": False,
        "availabilityId": str(departure.id),
        "availability": {
            "id": str(departure.id),
            "localDateTimeStart": products.local_text(departure.starts_at),
            "localDateTimeEnd": products.local_text(departure.ends_at),
            "allDay": False,
            "openingHours": [],
        },
        "contact": contact_object(booking),
        "notes": channel.notes or None,
        "deliveryMethods": ["VOUCHER"],
        "voucher": voucher,
        "unitItems": unit_items,
    }
    if caps.pricing:
        data["pricing"] = products.sum_prices(
            (item["pricing"] for item in unit_items), booking.currency
        )
    return data
