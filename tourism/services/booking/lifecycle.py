"""Holding seats, confirming, cancelling and expiring bookings.

Every function here runs inside the caller's transaction and only flushes; the view or
command that called it commits once.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ... import faults
from ...errors import DepartureUnavailable, DomainError, InvalidRequest, NotFound, SoldOut
from ...models import Booking, BookingStatus, Departure, PaymentMethod
from ..ledger import reseller_postings
from ..messages import homestay_booking_notices as host_notices
from ..messages import outbox as notifications
from . import addons as addon_service
from . import availability, bookable, hold_rows
from . import caps as hold_caps
from .bookable import check_open
from .contact_details import ContactDetails, validate_contact
from .new_bookings import NewBooking, PlacedHold, unless_sent_before
from .pricing import online_due

#: Bookings close this long before the departure (``availability.DEFAULT_CUTOFF``).
DEFAULT_CUTOFF = availability.DEFAULT_CUTOFF

TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,64}")


@dataclass
class HoldRequest:
    departure_id: int
    #: Tickets wanted per price category id.
    quantities: dict[int, int]
    contact: ContactDetails
    payment_method: str = PaymentMethod.ON_ARRIVAL.value
    extra: dict = field(default_factory=dict)
    #: ``hold_caps.address_key`` of the client address, when known.
    held_from: str | None = None
    #: Extras and homestay nights added to the tickets.
    addons: addon_service.AddonRequest | None = None
    #: The booking form's own random key (``BookingForm.submission``): sent again, the
    #: form finds the booking it made (``SentAgain``) instead of making another.
    submission_key: str | None = None


class HoldExpired(DepartureUnavailable):
    default_message = _l("Your seats were held for too long and have been released.")


class TooManyTickets(InvalidRequest):
    def __init__(self, limit: int) -> None:
        super().__init__(
            _ln(
                "You can book at most %(num)s ticket at once.",
                "You can book at most %(num)s tickets at once.",
                limit,
            )
        )


def seats_left_message(left: int):
    """The sold-out message naming the seats left, with the plural the count needs."""
    return _ln(
        "Sorry, only %(num)s seat is left on this departure.",
        "Sorry, only %(num)s seats are left on this departure.",
        left,
    )


class NoTickets(InvalidRequest):
    default_message = _l("Choose at least one ticket.")


class ChildAlone(InvalidRequest):
    default_message = _l(
        "Children come with an adult: add at least one ticket that is not a child's."
    )


#: The ticket kinds that need another kind in the same booking (OCTO's ``accompaniedBy``).
ACCOMPANIED = frozenset({"child"})


def check_accompanied(codes: list[str]) -> None:
    """Refuse a booking of children only (``codes``: the kinds it has tickets of)."""
    if codes and all(code in ACCOMPANIED for code in codes):
        raise ChildAlone()


class CannotCancel(DepartureUnavailable):
    default_message = _l("This booking can no longer be cancelled online.")


def hold_seats(
    session: Session,
    request: HoldRequest,
    now: datetime,
    hold_for: timedelta,
    languages: list[str],
    cutoff: timedelta = DEFAULT_CUTOFF,
    offered_methods: list[str] | None = None,
    caps: hold_caps.HoldCaps | None = None,
    accept_unpaid: bool = False,
) -> Booking:
    """``place_hold``, returning the booking as a persistent ORM object with its lines
    loaded and nothing left to flush."""
    placed = place_hold(
        session, request, now, hold_for, languages, cutoff, offered_methods, caps, accept_unpaid
    )
    return placed.booking(session)


def place_hold(
    session: Session,
    request: HoldRequest,
    now: datetime,
    hold_for: timedelta,
    languages: list[str],
    cutoff: timedelta = DEFAULT_CUTOFF,
    offered_methods: list[str] | None = None,
    caps: hold_caps.HoldCaps | None = None,
    accept_unpaid: bool = False,
    departure: bookable.BookableDeparture | None = None,
) -> PlacedHold:
    """Hold the requested seats on a departure, or raise; a raise leaves the caller's
    transaction to roll back, and then nothing was written.

    The new booking is ``held`` until ``now + hold_for``; a payment method then confirms it
    (``confirm_booking``). With ``accept_unpaid``, a booking with nothing to pay online (pay
    on arrival) is confirmed at once and its confirmation email queued.

    ``departure``: the departure as the caller read it in this transaction
    (``bookable.bookable_departure``, which refuses what cannot be booked), so the prices
    its form quoted are the ones written; read here when not given.

    Everything that does not depend on the seats left (checks, reads, the booking's insert)
    happens first; only then is the departure row locked and its seats counted, this booking
    included, so the lock is held for a few statements and the commit. Two requests can never
    sell the same seat: each counts, under the lock, every booking committed before it.
    Tickets alone are written with Core statements (``hold_rows``). A booking with extras
    or homestay nights is written through the ORM and claims their stock and beds after its
    seats, under the same locks (``addons.claim``).
    """
    contact = validate_contact(request.contact, languages)
    if departure is None:
        departure = bookable.bookable_departure(session, request.departure_id)
    elif departure.id != request.departure_id:
        raise ValueError("the departure given is not the one the request is for")
    experience = departure.experience
    categories = {pc.id: pc for pc in experience.price_categories}
    if request.payment_method not in (offered_methods or [PaymentMethod.ON_ARRIVAL.value]):
        raise InvalidRequest(_l("That payment method is not offered for this experience."))
    quantities = {pc_id: qty for pc_id, qty in request.quantities.items() if qty}
    for pc_id, qty in quantities.items():
        if pc_id not in categories:
            raise InvalidRequest(_l("That ticket type is not sold for this experience."))
        if not isinstance(qty, int) or qty < 0:
            raise InvalidRequest(_l("Ticket numbers must be whole numbers, zero or more."))
    total_tickets = sum(quantities.values())
    if total_tickets == 0:
        raise NoTickets()
    check_accompanied([categories[pc_id].code for pc_id in quantities])
    if total_tickets > experience.max_tickets_per_booking:
        raise TooManyTickets(limit=experience.max_tickets_per_booking)
    check_open(departure, now, cutoff)
    hold = _Hold(contact, request, total_tickets, now, hold_for, cutoff, caps, accept_unpaid)
    lines = hold_rows.ticket_lines(quantities, categories)
    values = hold_rows.request_values(contact, request, experience.currency, now)
    with_addons = None
    if addon_service.asks_for_any(request.addons):
        with_addons = bookable.published_departure(session, departure.id)
        if not addon_service.adds_anything(with_addons, request.addons):
            with_addons = None
    else:
        # Every extra at 0 adds nothing, but each must still be one the form offers.
        addon_service.check_offered(session, experience, request.addons)
    if with_addons is not None:
        booking, confirmed = _hold_with_addons(session, hold, with_addons, values, lines)
    else:
        booking, confirmed = _hold_tickets(session, hold, departure, values, lines)
    placed = PlacedHold(booking.id, booking.manage_token, booking.status, booking)
    if confirmed and booking.message_phone:
        # The phone twin of the email reads the booking's departure and experience: the ORM
        # objects, read with one statement (none when the session has them).
        loaded = bookable.published_departure(session, departure.id)
        notifications.queue(session, placed.booking(session, loaded), "confirmed")
    elif confirmed and getattr(booking, "email_queued", False):
        notifications.queued_in_insert(session, booking.email_job_id)
    elif confirmed:
        notifications.queue(session, booking, "confirmed")
    faults.point("booking.held")
    return placed


@dataclass(frozen=True)
class _Hold:
    """What ``place_hold`` checked, for the writing of one kind of booking or the other."""

    contact: ContactDetails
    request: HoldRequest
    tickets: int
    now: datetime
    hold_for: timedelta
    cutoff: timedelta
    caps: hold_caps.HoldCaps | None
    accept_unpaid: bool


def _hold_with_addons(
    session: Session, hold: _Hold, departure: Departure, values: dict, lines: list[dict]
) -> tuple[Booking, bool]:
    """With extras or homestay nights: written through the ORM, as their rows and their
    stock and bed claims are (``addon_service``), under the locks in the fixed order."""
    now = hold.now
    if hold.caps is not None:
        hold_caps.check(session, hold.contact.email, hold.request.held_from, now, hold.caps)
    # Under the caps' locks (one email's holds wait for each other), so a form sent twice
    # finds here what its first sending committed.
    values = unless_sent_before(session, values)
    booking = hold_rows.orm_booking(session, departure, values, lines, hold.request.addons, now)
    booking.hold_expires_at = now + hold.hold_for
    confirmed = hold.accept_unpaid and booking.online_due_cents == 0
    session.add(booking)
    session.flush()
    try:
        claim_seats(session, departure.id, hold.tickets, now, hold.cutoff)
        addon_service.claim(session, booking, now)
    except DomainError:
        # Leave nothing behind even for a caller that commits after catching this.
        session.delete(booking)
        session.flush()
        raise
    if confirmed:
        # Confirmed only once its seats are claimed under the lock: the departure's
        # confirmed-seat counter (models/seat_counter.py) moves after the count.
        booking.status = BookingStatus.CONFIRMED
        booking.confirmed_at, booking.hold_expires_at = now, None
        session.flush()
        host_notices.queue_booking_homestays(session, booking, host_notices.BOOKED)
    return booking, confirmed


def _hold_tickets(
    session: Session,
    hold: _Hold,
    departure: bookable.BookableDeparture,
    values: dict,
    lines: list[dict],
) -> tuple[NewBooking, bool]:
    """Tickets alone, the usual hold: Core statements (``hold_rows``)."""
    now, request = hold.now, hold.request
    total_cents = sum(line["quantity"] * line["unit_price_cents"] for line in lines)
    due = online_due(total_cents, request.payment_method, departure.experience.deposit_percent)
    # Pay on arrival (nothing due online) with ``accept_unpaid``: written confirmed, and
    # confirmed only if its seats are claimed under the lock (the insert is undone if not).
    confirmed = hold.accept_unpaid and due == 0
    values |= {
        "status": BookingStatus.CONFIRMED if confirmed else BookingStatus.HELD,
        "hold_expires_at": None if confirmed else now + hold.hold_for,
        "online_due_cents": due,
        "total_cents": total_cents,
        "confirmed_at": now if confirmed else None,
    }
    # The caps' locks come with the booking's insert, their counts with the departure's lock.
    locks = hold.caps and hold_caps.lock_params(session, hold.contact.email, request.held_from)
    # Its email comes with its insert, unless phone messages come too (queued after).
    email = confirmed and not values["message_phone"]
    booking = hold_rows.insert_booking(
        session, departure, values, now, lines, locks or None, confirmed_email=email
    )
    counts = hold.caps and hold_caps.count_params(hold.contact, request, now, hold.caps, booking)
    try:
        claim_seats(session, departure.id, hold.tickets, now, hold.cutoff, confirmed, counts)
    except DomainError:
        # Leave nothing behind even for a caller that commits after catching this.
        hold_rows.remove_booking(session, booking)
        raise
    return booking, confirmed


def claim_seats(
    session: Session,
    departure_id: int,
    tickets: int,
    now: datetime,
    cutoff: timedelta,
    confirmed: bool = False,
    caps_counts: dict | None = None,
) -> None:
    """Lock the departure and claim its seats for the booking just inserted (see
    ``hold_rows.claim_seats``); raise (the caller rolls back) when they do not fit.

    ``confirmed``: the booking was inserted confirmed by a Core statement
    (``hold_rows.insert_booking``), so the claim moves the confirmed-seat counter too.
    Otherwise the booking is a hold, or was written through the ORM flush, which moves the
    counter itself (``models/seat_counter.py``). ``caps_counts``: see ``caps.count_params``."""
    state = availability.lock_departure_state(session, departure_id, caps_counts)
    check_open(state, now, cutoff)
    if caps_counts is not None:
        hold_caps.check_counts(state, caps_counts)
    left = hold_rows.claim_seats(session, departure_id, state.capacity, tickets, now, confirmed)
    if left is not None:
        if left <= 0:
            raise SoldOut(_l("Sorry, this departure is sold out."))
        raise SoldOut(seats_left_message(left))


def confirm_booking(
    session: Session, booking: Booking, method: str, now: datetime, late_ok: bool = False
) -> Booking:
    """Accept a held booking with a payment method; the hold must still be alive.

    ``late_ok`` is for a payment that succeeded after its hold lapsed: the caller has locked
    the departure and checked that the seats are still free.
    """
    if booking.status == BookingStatus.CONFIRMED and booking.payment_method == method:
        return booking  # confirming twice is harmless
    if booking.status == BookingStatus.HELD and booking.hold_expires_at <= now and not late_ok:
        raise HoldExpired()
    booking.transition(BookingStatus.CONFIRMED)
    booking.payment_method = method
    booking.confirmed_at = now
    booking.hold_expires_at = None
    session.flush()
    # Every later confirmation passes here (a card payment, a bank transfer marked paid, a
    # group quote accepted, a waiting-list offer, a reseller's): its host families are told.
    host_notices.queue_booking_homestays(session, booking, host_notices.BOOKED)
    return booking


def cancel_booking(
    session: Session, booking: Booking, now: datetime, refuse_attended: bool = False
) -> Booking:
    """Cancel a held or confirmed booking before its departure; its seats free at once.

    ``refuse_attended``: refuse a party checked in or marked absent, as read under the
    departure's lock, which a guide's check-in takes too (``operations.checkin``)."""
    availability.lock_departure(session, booking.departure_id)
    session.refresh(booking)
    if booking.status not in (BookingStatus.HELD, BookingStatus.CONFIRMED):
        raise CannotCancel()
    if refuse_attended and (booking.checked_in_at or booking.no_show_at):
        raise CannotCancel()
    if booking.departure.starts_at <= now:
        raise CannotCancel()
    # Host families heard of a confirmed booking's nights, not of a hold's.
    was_confirmed = booking.status == BookingStatus.CONFIRMED
    booking.transition(BookingStatus.CANCELLED)
    booking.cancelled_at = now
    booking.hold_expires_at = None
    # A prepaid reseller's sale is undone with the booking (nothing for other bookings).
    reseller_postings.reverse_sale(session, booking)
    session.flush()
    if was_confirmed:
        host_notices.queue_booking_homestays(session, booking, host_notices.CANCELLED)
    return booking


def expire_holds(session: Session, now: datetime) -> int:
    """Mark every hold past its expiry as expired; returns how many. Safe to run any time."""
    stale = (
        session.execute(
            select(Booking).where(
                Booking.status == BookingStatus.HELD, Booking.hold_expires_at <= now
            )
        )
        .scalars()
        .all()
    )
    for booking in stale:
        booking.transition(BookingStatus.EXPIRED)
    session.flush()
    return len(stale)


def find_by_token(session: Session, token: str) -> Booking:
    """The booking a manage link points to; any other token is simply not found."""
    if not TOKEN_SHAPE.fullmatch(token or ""):
        raise NotFound()
    booking = session.execute(
        select(Booking).where(Booking.manage_token == token).options(selectinload(Booking.lines))
    ).scalar_one_or_none()
    # The lookup is by unique index; compare again in constant time for good measure.
    if booking is None or not hmac.compare_digest(booking.manage_token, token):
        raise NotFound()
    return booking
