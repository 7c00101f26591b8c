"""Reserve, update, confirm, extend and cancel channel bookings.

A reservation is a web hold: ``lifecycle.hold_seats`` writes it, locking the departure and
counting its seats exactly as for the website, so channel and web bookings compete for the
same seats and neither can oversell the other. It lasts the ``expirationMinutes`` the reseller
asks for, at most the website's hold (``HOLD_MINUTES``), and expires like any hold.

Channel bookings are **pay on arrival**: the guest pays the association on the day like a
tourist who chose to pay on arrival, so a confirmed channel booking shows on the manifest
(with what is due), in the transparency line and, once the cash is recorded, in the ledger,
exactly as every other booking. The reseller's commission is kept on the channel booking.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import DomainError
from ...models import (
    Booking,
    BookingStatus,
    ChannelBooking,
    ChannelRouteBooking,
    PaymentMethod,
    Reseller,
)
from ..booking import availability, contact_details, lifecycle
from ..ledger import reseller_postings
from ..messages import outbox as notifications
from . import octo_errors as errors
from . import products
from .octo_input import (
    Terms,
    booking_uuid_as_kept,
    given_uuid,
    guest_contact,
    hold_length,
    text_field,
)
from .resellers import commission_for, net_rate_for

NOTES_LIMIT = 1000
REFERENCE_LIMIT = 100
ON_ARRIVAL = PaymentMethod.ON_ARRIVAL.value


def _quantities(experience, unit_items) -> dict[int, int]:
    """Tickets per price category id from OCTO unit items (one item is one ticket)."""
    if not isinstance(unit_items, list) or len(unit_items) > 100:
        raise errors.bad_request("unitItems must be a list of at most 100 items")
    units = products.active_units(experience)
    quantities: dict[int, int] = {}
    for item in unit_items:
        unit_id = item.get("unitId") if isinstance(item, dict) else None
        if not isinstance(unit_id, str) or unit_id not in units:
            raise errors.OctoError(
                errors.INVALID_UNIT_ID,
                "The unitId was missing or invalid",
                unitId=unit_id if isinstance(unit_id, str) else "",
            )
        category = units[unit_id]
        quantities[category.id] = quantities.get(category.id, 0) + 1
    return quantities


def placeholder_contact(reseller: Reseller, languages: list[str]) -> contact_details.ContactDetails:
    """The reseller stands as the contact of a reservation until the guest's details come
    with the confirmation (OCTO lets a reservation name nobody)."""
    return contact_details.ContactDetails(
        name=reseller.name,
        email=reseller.contact_email,
        phone=reseller.contact_phone,
        country="EC",
        language="en" if "en" in languages else languages[0],
    )


def set_contact(booking: Booking, contact: contact_details.ContactDetails) -> None:
    booking.contact_name, booking.contact_email = contact.name, contact.email
    booking.contact_phone, booking.country = contact.phone, contact.country
    booking.language = contact.language


def reserve(
    session: Session, reseller: Reseller, body: dict, now: datetime, terms: Terms
) -> ChannelBooking:
    """Hold seats for a reseller (OCTO ``ON_HOLD``) through the website's hold."""
    experience = products.get_product(session, reseller, body.get("productId"))
    products.check_option(body.get("optionId"))
    departure = products.get_departure(session, experience, body.get("availabilityId"))
    booking_uuid = given_uuid(body)
    check_uuid_free(session, reseller, booking_uuid)
    quantities = _quantities(experience, body.get("unitItems"))
    hold_for = hold_length(body, terms)
    notes = text_field(body, "notes", NOTES_LIMIT, multiline=True) or ""
    reference = text_field(body, "resellerReference", REFERENCE_LIMIT) or None
    if body.get("contact") is not None:
        contact = guest_contact(body["contact"], terms.languages)
    else:
        contact = placeholder_contact(reseller, terms.languages)
    request = lifecycle.HoldRequest(
        departure_id=departure.id,
        quantities=quantities,
        contact=contact,
        payment_method=ON_ARRIVAL,
    )
    try:
        booking = lifecycle.hold_seats(
            session,
            request,
            now=now,
            hold_for=hold_for,
            languages=terms.languages,
            offered_methods=[ON_ARRIVAL],
        )
    except DomainError as error:
        raise errors.unprocessable(error) from error
    channel = ChannelBooking(
        booking=booking,
        reseller=reseller,
        uuid=booking_uuid,
        reseller_reference=reference,
        notes=notes,
        commission_bp=commission_for(reseller, experience),
        net_cents=net_rate_for(reseller, experience),
        prepaid=reseller.prepaid,
        created_at=now,
        updated_at=now,
    )
    session.add(channel)
    session.flush()
    return channel


def check_uuid_free(session: Session, reseller: Reseller, booking_uuid: str) -> None:
    """Refuse a uuid this reseller already gave a booking, of an experience or a route."""
    taken = session.scalar(
        select(ChannelBooking.id).where(
            ChannelBooking.reseller_id == reseller.id, ChannelBooking.uuid == booking_uuid
        )
    ) or session.scalar(
        select(ChannelRouteBooking.id).where(
            ChannelRouteBooking.reseller_id == reseller.id,
            ChannelRouteBooking.uuid == booking_uuid,
        )
    )
    if taken is not None:
        raise errors.OctoError(
            # (the create error object has no ``uuid`` field: the message names it)
            errors.INVALID_BOOKING_UUID,
            f"The uuid {booking_uuid} was already used",
        )


def find(
    session: Session, reseller: Reseller, booking_uuid, missing_ok: bool = False
) -> ChannelBooking | None:
    """This reseller's booking of one experience with ``booking_uuid``; another reseller's,
    or a leg of a route it sold (the route sale is what it sees), is not found."""
    channel = None
    if isinstance(booking_uuid, str) and len(booking_uuid) <= 36:
        channel = session.scalar(
            select(ChannelBooking).where(
                ChannelBooking.reseller_id == reseller.id,
                ChannelBooking.uuid == booking_uuid_as_kept(booking_uuid),
                ChannelBooking.route_sale_id.is_(None),
            )
        )
    if channel is None and not missing_ok:
        raise errors.OctoError(
            errors.INVALID_BOOKING_UUID,
            "The uuid was missing or invalid",
            uuid=booking_uuid if isinstance(booking_uuid, str) else "",
        )
    return channel


def _locked(session: Session, channel: ChannelBooking) -> Booking:
    """The booking, re-read under its departure's lock (the order every seat change takes)."""
    availability.lock_departure(session, channel.booking.departure_id)
    session.refresh(channel.booking)
    return channel.booking


def _live_hold(booking: Booking, now: datetime) -> bool:
    return booking.status == BookingStatus.HELD and booking.hold_expires_at > now


def refuse_lapsed_hold(booking, now: datetime) -> None:
    """A hold whose time is up is expired, whether or not the sweep has marked it yet (its
    representation already says EXPIRED): it can no longer be changed or cancelled."""
    if booking.status == BookingStatus.HELD and booking.hold_expires_at <= now:
        raise errors.unprocessable("The reservation has expired")


def confirm(
    session: Session, channel: ChannelBooking, body: dict, now: datetime, terms: Terms
) -> ChannelBooking:
    """Confirm a live reservation with the guest's contact; confirming twice is harmless."""
    booking = _locked(session, channel)
    if booking.status == BookingStatus.CONFIRMED:
        return channel
    contact = guest_contact(body.get("contact"), terms.languages)
    reference = text_field(body, "resellerReference", REFERENCE_LIMIT)
    if not _live_hold(booking, now):
        raise errors.unprocessable("The reservation has expired or was cancelled")
    set_contact(booking, contact)
    try:
        lifecycle.confirm_booking(session, booking, ON_ARRIVAL, now)
    except DomainError as error:
        raise errors.unprocessable(error) from error
    reseller_postings.post_sale(session, booking, now)
    if reference is not None:
        channel.reseller_reference = reference or None
    channel.updated_at = now
    if body.get("emailReceipt") is True:
        notifications.queue(session, booking, "confirmed")
    session.flush()
    return channel


def extend(
    session: Session, channel: ChannelBooking, body: dict, now: datetime, terms: Terms
) -> ChannelBooking:
    """Hold the seats longer: until ``now`` plus the minutes asked (at most our hold)."""
    hold_for = hold_length(body, terms)
    booking = _locked(session, channel)
    if not _live_hold(booking, now):
        raise errors.unprocessable("Only a reservation on hold can be extended")
    booking.hold_expires_at = max(booking.hold_expires_at, now + hold_for)
    channel.updated_at = now
    session.flush()
    return channel


def cancel(session: Session, channel: ChannelBooking, body: dict, now: datetime) -> ChannelBooking:
    """Cancel a reservation or a confirmed booking before its departure; cancelling twice is
    harmless."""
    reason = text_field(body, "reason", 300, multiline=True) or ""
    if channel.booking.status == BookingStatus.CANCELLED:
        return channel
    refuse_lapsed_hold(channel.booking, now)
    try:
        booking = lifecycle.cancel_booking(session, channel.booking, now)
    except DomainError as error:
        raise errors.unprocessable(error) from error
    booking.cancel_reason = reason
    channel.updated_at = now
    session.flush()
    return channel


#: What an update may not change: those are a different booking (cancel and book again).
FIXED = ("productId", "optionId", "availabilityId", "unitItems")


def update(
    session: Session, channel: ChannelBooking, body: dict, now: datetime, terms: Terms
) -> ChannelBooking:
    """Change the reseller's reference, the notes, the guest's contact, or a hold's length."""
    booking = channel.booking
    current = {
        "productId": booking.departure.experience.slug,
        "optionId": products.OPTION_ID,
        "availabilityId": str(booking.departure_id),
    }
    for name in FIXED:
        if name not in body:
            continue
        if name != "unitItems" and not isinstance(body[name], str):
            raise errors.bad_request(f"{name} must be text")
        if name == "unitItems":
            wanted = _quantities(booking.departure.experience, body[name])
            if wanted != {line.price_category_id: line.quantity for line in booking.lines}:
                raise errors.unprocessable("To change the tickets, cancel and book again")
        elif body[name] != current[name]:
            raise errors.unprocessable("To change the product or time, cancel and book again")
    return apply_edits(
        session,
        channel,
        booking,
        body,
        now,
        terms,
        extend_hold=lambda: extend(session, channel, body, now, terms),
        set_guest=lambda contact: set_contact(booking, contact),
    )


def apply_edits(
    session: Session, sale, booking, body: dict, now: datetime, terms: Terms, extend_hold, set_guest
):
    """What an update changes, for a booking of one experience and a route alike: every
    field is read (and refused) before anything changes; then a hold's length
    (``extend_hold()``), the reseller's reference and notes on ``sale``, and the guest's
    contact (``set_guest(contact)``), on a booking still held or confirmed."""
    reference = text_field(body, "resellerReference", REFERENCE_LIMIT)
    notes = text_field(body, "notes", NOTES_LIMIT, multiline=True)
    contact = guest_contact(body["contact"], terms.languages) if "contact" in body else None
    if body.get("expirationMinutes") is not None:
        extend_hold()
    if booking.status not in (BookingStatus.HELD, BookingStatus.CONFIRMED):
        raise errors.unprocessable("This booking can no longer be changed")
    refuse_lapsed_hold(booking, now)
    if reference is not None:
        sale.reseller_reference = reference or None
    if notes is not None:
        sale.notes = notes
    if contact is not None:
        set_guest(contact)
    sale.updated_at = now
    session.flush()
    return sale
