"""Booking a route: one checkout that holds every leg's seats, every night's beds and the
extras' stock, all or nothing.

**Lock order.** A route booking locks rows in one fixed order: its departures by id (with
``booking.availability.lock_departure``, the lock every ordinary booking takes), then its
homestays by id, then its stocked extras by id. An ordinary booking locks one departure
and nothing else, so no two transactions can each hold a lock the other waits for: route
bookings and ordinary bookings cannot deadlock, and since every seat change counts under the
departure's lock, neither can oversell the other.

Like ``booking.lifecycle.hold_seats``, everything that does not depend on what is left is
done first (checks, reads, inserts); the locks come last, just before counting.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import DomainError, InvalidRequest, NotFound
from ...models import (
    Booking,
    BookingStatus,
    Departure,
    ExperienceStatus,
    Extra,
    LegKind,
    PaymentMethod,
    Route,
    RouteBooking,
    RouteBookingExtra,
    RouteBookingLeg,
    RouteBookingNight,
)
from ..booking import caps as hold_caps
from ..booking import contact_details, lifecycle, pricing
from ..booking.new_bookings import keeps_key
from ..booking.references import ALPHABET, REFERENCE_LENGTH, new_manage_token, new_reference
from ..ledger import split_rules
from . import availability, claims, curation, notices, shape
from . import tickets as tickets_service
from .claims import LegInThePast, RouteUnavailable

#: Route booking references start with this, so they never collide with an association's.
ROUTE_REFERENCE_PREFIX = "RUT"
#: The most of one extra a booking may take.
MAX_EXTRA_QUANTITY = 50


class PeopleOutOfRange(InvalidRequest):
    def __init__(self, limit: int) -> None:
        super().__init__(
            _ln(
                "A route can be booked for 1 to %(num)s person at once.",
                "A route can be booked for 1 to %(num)s people at once.",
                limit,
            )
        )


class UnknownExtra(InvalidRequest):
    default_message = _l("That extra is not offered on this route.")


class BadExtraQuantity(InvalidRequest):
    default_message = _l("Extras must be whole numbers, zero or more.")


@dataclass
class RouteBookingRequest:
    route_id: int
    start_date: date
    people: int
    contact: contact_details.ContactDetails
    payment_method: str = PaymentMethod.ON_ARRIVAL.value
    #: Units wanted per extra id.
    extras: dict[int, int] = field(default_factory=dict)
    #: Of the people, how many per price category code besides adult (child, resident…);
    #: the rest are adults (``tickets``).
    tickets: dict[str, int] = field(default_factory=dict)
    #: The booking form's own random key: sent again, the form finds the route booking it
    #: made (``SentAgain``) instead of making another.
    submission_key: str | None = None


def _unless_sent_before(session: Session, key: str | None, email: str) -> str | None:
    """The form key for the new route booking, after making sure it has booked nothing yet
    (``new_bookings.keeps_key``: a repeat raises ``SentAgain``).

    Two sendings of one form wait for each other here (``caps.serialise_form_key``): the
    second then finds what the first committed."""
    if key is None:
        return None
    hold_caps.serialise_form_key(session, key)
    sent = session.execute(
        select(RouteBooking.manage_token, RouteBooking.contact_email, RouteBooking.status).where(
            RouteBooking.submission_key == key
        )
    ).first()
    return key if keeps_key(sent, email) else None


def published_route(session: Session, route_id: int) -> Route:
    route = session.scalar(
        select(Route).where(Route.id == route_id).options(*curation.ROUTE_BOOKING)
    )
    if route is None or route.status != ExperienceStatus.PUBLISHED:
        raise NotFound(_l("This route does not exist."))
    return route


def new_route_reference(session: Session) -> str:
    while True:
        body = "".join(secrets.choice(ALPHABET) for _ in range(REFERENCE_LENGTH))
        reference = f"{ROUTE_REFERENCE_PREFIX}-{body}"
        taken = session.scalar(select(RouteBooking.id).where(RouteBooking.reference == reference))
        if taken is None:
            return reference


def payment_methods(route: Route, online: bool) -> list[str]:
    """How a route can be paid: on arrival always; by card, or a deposit, when every
    experience leg offers it and online payment works (``online``)."""
    methods = [PaymentMethod.ON_ARRIVAL.value]
    if not online:
        return methods
    experiences = [leg.experience for leg in route.legs if leg.kind == LegKind.EXPERIENCE]
    for method in (PaymentMethod.CARD.value, PaymentMethod.DEPOSIT.value):
        if experiences and all(method in e.payment_option_codes for e in experiences):
            methods.insert(len(methods) - 1, method)
    return methods


def stay_paid_online(route_booking: RouteBooking) -> bool:
    """Paid by card, the nights, extras and curator's fee are paid online with the legs; with
    a deposit (or on arrival) they are paid in cash to each community."""
    return route_booking.payment_method == PaymentMethod.CARD.value


def stay_cents(route_booking: RouteBooking) -> int:
    return (
        sum(night.amount_cents for night in route_booking.nights)
        + sum(extra.amount_cents for extra in route_booking.extras)
        + route_booking.curator_fee_cents
    )


def online_due_cents(route_booking: RouteBooking) -> int:
    """What the route's card payment must bring: every leg booking's online part (all of it
    by card, its experience's deposit with a deposit), plus, by card, the nights, extras and
    fee."""
    legs = sum(booking_leg.booking.online_due_cents for booking_leg in route_booking.legs)
    return legs + (stay_cents(route_booking) if stay_paid_online(route_booking) else 0)


def book_route(
    session: Session,
    request: RouteBookingRequest,
    now: datetime,
    languages: list[str],
    hold_for: timedelta = timedelta(minutes=30),
    cutoff: timedelta = lifecycle.DEFAULT_CUTOFF,
    online: bool = False,
    hold_only: bool = False,
) -> RouteBooking:
    """Hold (or, paid on arrival, confirm) a whole route for ``request.people`` from
    ``request.start_date``, or raise and leave nothing behind.

    Each experience leg becomes an ordinary ``Booking`` of its departure, referenced and
    split like any other (the split rule in force now); each night a ``RouteBookingNight``;
    each extra a ``RouteBookingExtra``. Then the rows are locked in the fixed order (see the
    module doc) and every count is made under its lock, this booking included.
    """
    contact = contact_details.validate_contact(request.contact, languages)
    route = published_route(session, request.route_id)
    submission_key = _unless_sent_before(session, request.submission_key, contact.email)
    if request.payment_method not in payment_methods(route, online):
        raise InvalidRequest(_l("That payment method is not offered for this route."))
    people = request.people
    if not isinstance(people, int) or not 1 <= people <= route.max_people_per_booking:
        raise PeopleOutOfRange(limit=route.max_people_per_booking)
    shape.check_route(route)
    tickets = tickets_service.check_tickets(route, people, request.tickets)
    extras = _extras_wanted(route, request.extras)

    (plan,) = availability.plan_route(session, route, [request.start_date], people, now, cutoff)
    departures = plan.departures
    if any(problem is availability.TOO_LATE for problem in plan.problems):
        raise LegInThePast()
    if any(problem is availability.NO_DEPARTURE for problem in plan.problems):
        raise RouteUnavailable(reason=availability.NO_DEPARTURE)
    shape.check_overlaps([(d.starts_at, d.ends_at) for d in departures])
    for departure in departures:
        if departure.experience.status != ExperienceStatus.PUBLISHED:
            raise RouteUnavailable(reason=availability.NO_DEPARTURE)

    # ``hold_only``: held even when paid on arrival, for a caller that confirms later (a
    # reseller's reservation, ``services/channels/route_sales.py``).
    confirmed = request.payment_method == PaymentMethod.ON_ARRIVAL.value and not hold_only
    # Held first, even when paid on arrival: confirmed only once everything is claimed under
    # the locks, so the departures' confirmed-seat counters (``models/seat_counter.py``) move
    # after the counts, never before them (as ``lifecycle.hold_seats`` does).
    route_booking = RouteBooking(
        route=route,
        reference=new_route_reference(session),
        manage_token=new_manage_token(),
        status=BookingStatus.HELD,
        hold_expires_at=now + hold_for,
        payment_method=request.payment_method,
        start_date=request.start_date,
        people=people,
        contact_name=contact.name,
        contact_email=contact.email,
        contact_phone=contact.phone,
        country=contact.country,
        language=contact.language,
        currency=route.currency,
        total_cents=0,
        created_at=now,
        submission_key=submission_key,
    )
    # One flush for every leg booking (no autoflush between legs), so nothing is written
    # half-way through the legs.
    with session.no_autoflush:
        references = _leg_references(session, plan)
        for leg_plan in plan.legs:
            leg = leg_plan.leg
            if leg.kind == LegKind.EXPERIENCE:
                booking = leg_booking(
                    session, leg_plan.departure, tickets, route_booking, now, references.pop(0)
                )
                # The needs go with every leg (guide, host family), as on any booking, and
                # are forgotten with it (``privacy.forget_special_needs``).
                booking.special_needs = contact.special_needs
                booking.special_needs_consent_at = now if contact.special_needs else None
                route_booking.legs.append(RouteBookingLeg(leg=leg, booking=booking))
            else:
                route_booking.nights.append(
                    RouteBookingNight(
                        homestay=leg.homestay,
                        night=leg_plan.night,
                        people=people,
                        unit_price_cents=leg.homestay.price_cents_per_person_night,
                    )
                )
    for extra, quantity in extras:
        route_booking.extras.append(
            RouteBookingExtra(extra=extra, quantity=quantity, unit_price_cents=extra.price_cents)
        )
    route_booking.curator_fee_cents = route.curator_fee_cents * people
    route_booking.total_cents = route_total(route_booking)
    session.add(route_booking)
    session.flush()
    try:
        claims.claim_all(session, route_booking, now, cutoff)
    except DomainError:
        # Leave nothing behind even for a caller that commits after catching this.
        leg_bookings = [booking_leg.booking for booking_leg in route_booking.legs]
        session.delete(route_booking)
        session.flush()
        for written in leg_bookings:
            session.delete(written)
        session.flush()
        raise
    if confirmed:
        # One flush: the seat counters move by departure id, like the locks.
        for item in [route_booking, *(bl.booking for bl in route_booking.legs)]:
            item.status = BookingStatus.CONFIRMED
            item.confirmed_at, item.hold_expires_at = now, None
        session.flush()
        notices.queue_route(session, route_booking, notices.ROUTE_CONFIRMED)
    return route_booking


def route_total(route_booking: RouteBooking) -> int:
    """The route's price rule (sum of legs): every leg booking, night and extra, plus the
    curator's fee."""
    return (
        sum(booking_leg.booking.total_cents for booking_leg in route_booking.legs)
        + sum(night.amount_cents for night in route_booking.nights)
        + sum(extra.amount_cents for extra in route_booking.extras)
        + route_booking.curator_fee_cents
    )


def _extras_wanted(route: Route, wanted: dict[int, int]) -> list[tuple[Extra, int]]:
    # An extra whose stock counts per departure belongs to single experiences.
    offered = {
        extra.id: extra
        for extra in route.extras
        if extra.is_active and not extra.stock_per_departure
    }
    chosen = []
    for extra_id, quantity in sorted(wanted.items()):
        if extra_id not in offered:
            raise UnknownExtra()
        if not isinstance(quantity, int) or not 0 <= quantity <= MAX_EXTRA_QUANTITY:
            raise BadExtraQuantity()
        if quantity:
            chosen.append((offered[extra_id], quantity))
    return chosen


def _leg_references(session: Session, plan) -> list[str]:
    """A fresh reference for each experience leg, in leg order, distinct from each other
    (``new_reference`` only sees the bookings already written)."""
    references: list[str] = []
    for departure in plan.departures:
        code = departure.experience.association.code
        reference = new_reference(session, code)
        while reference in references:
            reference = new_reference(session, code)
        references.append(reference)
    return references


def leg_booking(
    session: Session,
    departure: Departure,
    tickets: dict[str, int],
    route_booking: RouteBooking,
    now,
    reference: str,
) -> Booking:
    """The ordinary booking of one experience leg, in the route booking's state, for
    ``tickets`` (people per price category code, ``tickets.check_tickets``)."""
    experience = departure.experience
    lines = tickets_service.leg_lines(experience, tickets)
    booking = Booking(
        departure=departure,
        reference=reference,
        manage_token=new_manage_token(),
        status=route_booking.status,
        hold_expires_at=route_booking.hold_expires_at,
        confirmed_at=route_booking.confirmed_at,
        payment_method=route_booking.payment_method,
        online_due_cents=0,
        contact_name=route_booking.contact_name,
        contact_email=route_booking.contact_email,
        contact_phone=route_booking.contact_phone,
        country=route_booking.country,
        language=route_booking.language,
        currency=experience.currency,
        total_cents=sum(line.amount_cents for line in lines),
        created_at=now,
    )
    booking.online_due_cents = pricing.online_due(
        booking.total_cents, route_booking.payment_method, experience.deposit_percent
    )
    booking.split_rule_id = split_rules.rule_id_in_force(session, experience.id, now)
    booking.lines.extend(lines)
    session.add(booking)
    return booking
