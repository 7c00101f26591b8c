"""Reserve, confirm, extend, update and cancel a whole route for a reseller (OCTO).

A reservation is the website's route hold (``routes.booking.book_route``): one checkout
that locks every leg's departure (then the homestays) in the fixed order and counts under
the locks, all or nothing, so a reseller's route and anyone's booking of one of its legs
compete for the same seats and neither can oversell the other. It is held for the
``expirationMinutes`` asked (at most the website's hold) and expires like any route hold.

The sale (``ChannelRouteBooking``) is what the reseller sees; each experience leg's booking
also gets a ``ChannelBooking`` with the sale's commission and prepaid flag, so every leg
follows the rules of a channel booking of one experience: pay on arrival (each community
collects its part, ``routes.settlement``) with the commission owed to the reseller when the
cash is recorded; or, for a prepaid reseller, a receivable posted at confirmation
(``ledger.reseller_postings.post_sale`` per leg, and ``post_stay_sale`` for the nights and
the curator's fee, which carry no commission), reversed when the route is cancelled.
"""

from __future__ import annotations

import uuid as uuid_module
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import DomainError
from ...models import (
    BookingStatus,
    ChannelBooking,
    ChannelRouteBooking,
    LedgerTransaction,
    Reseller,
    RouteBooking,
)
from ...models.ledger import AccountKind, TransactionKind
from ..booking import availability as seats
from ..booking import contact_details, lifecycle
from ..ledger import journal as ledger
from ..ledger import reseller_postings
from ..routes import booking as route_booking_service
from ..routes import changes, notices, settlement
from . import octo_errors as errors
from . import products, route_products, route_units
from .octo_input import (
    Terms,
    booking_uuid_as_kept,
    given_uuid,
    guest_contact,
    hold_length,
    text_field,
)
from .reservations import (
    NOTES_LIMIT,
    ON_ARRIVAL,
    REFERENCE_LIMIT,
    apply_edits,
    check_uuid_free,
    placeholder_contact,
    refuse_lapsed_hold,
    set_contact,
)
from .route_representation import sold_units


def leg_uuid(sale_uuid: str, leg_id: int) -> str:
    """The uuid of a leg's channel booking: derived from the sale's, never shown."""
    return str(uuid_module.uuid5(uuid_module.UUID(sale_uuid), f"leg:{leg_id}"))


def reserve_route(
    session: Session, reseller: Reseller, body: dict, now: datetime, terms: Terms
) -> ChannelRouteBooking:
    """Hold a whole route from the start date the availability id names (OCTO ``ON_HOLD``)."""
    route = route_products.get_route(session, reseller, body.get("productId"))
    products.check_option(body.get("optionId"))
    start_date = route_products.parse_start(body.get("availabilityId"))
    sale_uuid = given_uuid(body)
    check_uuid_free(session, reseller, sale_uuid)
    people, tickets = route_units.as_tickets(
        route_units.parse_unit_items(route, body.get("unitItems"))
    )
    hold_for = hold_length(body, terms)
    notes = text_field(body, "notes", NOTES_LIMIT, multiline=True) or ""
    reference = text_field(body, "resellerReference", REFERENCE_LIMIT) or None
    if body.get("contact") is not None:
        contact = guest_contact(body["contact"], terms.languages)
    else:
        contact = placeholder_contact(reseller, terms.languages)
    request = route_booking_service.RouteBookingRequest(
        route_id=route.id,
        start_date=start_date,
        people=people,
        contact=contact,
        payment_method=ON_ARRIVAL,
        tickets=tickets,
    )
    try:
        route_booking = route_booking_service.book_route(
            session, request, now, terms.languages, hold_for=hold_for, hold_only=True
        )
    except DomainError as error:
        raise errors.unprocessable(error) from error
    sale = ChannelRouteBooking(
        route_booking=route_booking,
        reseller=reseller,
        uuid=sale_uuid,
        reseller_reference=reference,
        notes=notes,
        commission_bp=reseller.commission_bp,
        prepaid=reseller.prepaid,
        created_at=now,
        updated_at=now,
    )
    session.add(sale)
    for booking_leg in route_booking.legs:
        session.add(
            ChannelBooking(
                booking=booking_leg.booking,
                reseller=reseller,
                uuid=leg_uuid(sale_uuid, booking_leg.leg_id),
                route_sale=sale,
                reseller_reference=reference,
                commission_bp=sale.commission_bp,
                prepaid=sale.prepaid,
                created_at=now,
                updated_at=now,
            )
        )
    session.flush()
    return sale


def find_sale(
    session: Session, reseller: Reseller, booking_uuid, missing_ok: bool = False
) -> ChannelRouteBooking | None:
    """This reseller's route sale with ``booking_uuid``; another reseller's is not found."""
    sale = None
    if isinstance(booking_uuid, str) and len(booking_uuid) <= 36:
        sale = session.scalar(
            select(ChannelRouteBooking).where(
                ChannelRouteBooking.reseller_id == reseller.id,
                ChannelRouteBooking.uuid == booking_uuid_as_kept(booking_uuid),
            )
        )
    if sale is None and not missing_ok:
        raise errors.OctoError(
            errors.INVALID_BOOKING_UUID,
            "The uuid was missing or invalid",
            uuid=booking_uuid if isinstance(booking_uuid, str) else "",
        )
    return sale


def _locked(session: Session, sale: ChannelRouteBooking) -> RouteBooking:
    """The route booking, re-read under its departures' locks, by id (``book_route``'s
    order, so a change here and a booking there cannot deadlock)."""
    route_booking = sale.route_booking
    for departure_id in sorted({bl.booking.departure_id for bl in route_booking.legs}):
        seats.lock_departure(session, departure_id)
    session.refresh(route_booking)
    for booking_leg in route_booking.legs:
        session.refresh(booking_leg.booking)
    return route_booking


def _live_hold(route_booking: RouteBooking, now: datetime) -> bool:
    return route_booking.status == BookingStatus.HELD and route_booking.hold_expires_at > now


def _set_contact(route_booking: RouteBooking, contact: contact_details.ContactDetails) -> None:
    route_booking.contact_name, route_booking.contact_email = contact.name, contact.email
    route_booking.contact_phone, route_booking.country = contact.phone, contact.country
    route_booking.language = contact.language
    for booking_leg in route_booking.legs:
        set_contact(booking_leg.booking, contact)


def confirm_route(
    session: Session, sale: ChannelRouteBooking, body: dict, now: datetime, terms: Terms
) -> ChannelRouteBooking:
    """Confirm a live route reservation with the guest's contact: every leg together, and a
    prepaid reseller's receivable posted; confirming twice is harmless."""
    route_booking = _locked(session, sale)
    if route_booking.status == BookingStatus.CONFIRMED:
        return sale
    contact = guest_contact(body.get("contact"), terms.languages)
    reference = text_field(body, "resellerReference", REFERENCE_LIMIT)
    if not _live_hold(route_booking, now):
        raise errors.unprocessable("The reservation has expired or was cancelled")
    _set_contact(route_booking, contact)
    legs = sorted(route_booking.legs, key=lambda bl: bl.booking.departure_id)
    try:
        for booking_leg in legs:
            lifecycle.confirm_booking(session, booking_leg.booking, ON_ARRIVAL, now)
    except DomainError as error:
        raise errors.unprocessable(error) from error
    route_booking.status = BookingStatus.CONFIRMED
    route_booking.confirmed_at, route_booking.hold_expires_at = now, None
    session.flush()
    for booking_leg in legs:
        reseller_postings.post_sale(session, booking_leg.booking, now)
    post_stay_sale(session, sale, now)
    if reference is not None:
        sale.reseller_reference = reference or None
    sale.updated_at = now
    if body.get("emailReceipt") is True:
        notices.queue_route(session, route_booking, notices.ROUTE_CONFIRMED)
    session.flush()
    return sale


def post_stay_sale(
    session: Session, sale: ChannelRouteBooking, now: datetime
) -> LedgerTransaction | None:
    """A prepaid reseller sold the route's nights and curator's fee: its receivable is
    debited with them, each host family and the curator credited as a route paid by card
    credits them (``settlement.stay_lines``: each night pending until it is over, the extras
    and the fee until the route starts).
    Idempotent; nothing when not prepaid."""
    route_booking = sale.route_booking
    stay = route_booking_service.stay_cents(route_booking)
    if not sale.prepaid or stay <= 0:
        return None
    found = reseller_postings.route_stay_sale(session, route_booking)
    if found is not None:
        return found
    receivable = ledger.account(session, AccountKind.RESELLER_RECEIVABLE, reseller=sale.reseller)
    lines = [(receivable, stay)]
    for part in settlement.community_parts(route_booking):
        lines.extend(
            settlement.stay_lines(
                session, route_booking, part, nights_pending=True, extras_pending=True
            )
        )
    return ledger.post(
        session,
        kind=TransactionKind.RESELLER_SALE,
        lines=lines,
        memo=reseller_postings.route_stay_memo(route_booking),
        currency=route_booking.currency,
        at=now,
    )


def extend_route(
    session: Session, sale: ChannelRouteBooking, body: dict, now: datetime, terms: Terms
) -> ChannelRouteBooking:
    """Hold the whole route longer: until ``now`` plus the minutes asked (at most our hold)."""
    hold_for = hold_length(body, terms)
    route_booking = _locked(session, sale)
    if not _live_hold(route_booking, now):
        raise errors.unprocessable("Only a reservation on hold can be extended")
    until = max(route_booking.hold_expires_at, now + hold_for)
    route_booking.hold_expires_at = until
    for booking_leg in route_booking.legs:
        if booking_leg.booking.status == BookingStatus.HELD:
            booking_leg.booking.hold_expires_at = until
    sale.updated_at = now
    session.flush()
    return sale


def cancel_route(
    session: Session, sale: ChannelRouteBooking, body: dict, now: datetime
) -> ChannelRouteBooking:
    """Cancel the whole route before its first activity (every leg and night, and a prepaid
    reseller's sale with them: ``changes.cancel_route_booking``); twice is harmless."""
    reason = text_field(body, "reason", 300, multiline=True) or ""
    route_booking = sale.route_booking
    if route_booking.status == BookingStatus.CANCELLED:
        return sale
    refuse_lapsed_hold(route_booking, now)
    try:
        changes.cancel_route_booking(session, route_booking, now)
    except DomainError as error:
        raise errors.unprocessable(error) from error
    for booking_leg in route_booking.legs:
        if booking_leg.booking.cancelled_at == now:
            booking_leg.booking.cancel_reason = reason
    sale.updated_at = now
    session.flush()
    return sale


def update_route(
    session: Session, sale: ChannelRouteBooking, body: dict, now: datetime, terms: Terms
) -> ChannelRouteBooking:
    """Change the reseller's reference, the notes, the guest's contact, or a hold's length."""
    route_booking = sale.route_booking
    current = {
        "productId": route_products.product_id(route_booking.route),
        "optionId": products.OPTION_ID,
        "availabilityId": route_booking.start_date.isoformat(),
    }
    for name, value in current.items():
        if name in body and not isinstance(body[name], str):
            raise errors.bad_request(f"{name} must be text")
        if name in body and body[name] != value:
            raise errors.unprocessable("To change the product or date, cancel and book again")
    if "unitItems" in body and route_units.parse_unit_items(
        route_booking.route, body["unitItems"]
    ) != sold_units(route_booking):
        raise errors.unprocessable("To change the tickets, cancel and book again")
    return apply_edits(
        session,
        sale,
        route_booking,
        body,
        now,
        terms,
        extend_hold=lambda: extend_route(session, sale, body, now, terms),
        set_guest=lambda contact: _set_contact(route_booking, contact),
    )
