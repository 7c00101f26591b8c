"""Waiting lists on sold-out departures, and offering freed seats to them in order.

A visitor whose party does not fit joins the departure's list. When seats free up (a
cancellation, a hold that lapsed), ``offer_waitlist`` walks the list in the order people
joined and, for each party that fits in what is free, holds the seats for it through the
ordinary locked hold path (``lifecycle.hold_seats``) for ``offer_for`` (2 hours by default)
and emails a link to them. The held booking *is* the offer: it counts against capacity like
any hold, so nobody else can take those seats meanwhile, and when it lapses its seats count
as free again and the next run offers them to the next in line.

Each departure's list is walked under the departure's lock, so two runners at once (two
nodes, a retried job) never offer the same seats twice: the second waits, then counts the
first one's holds. Two freed seats never go to three people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import (
    DepartureCancelled,
    DepartureUnavailable,
    DomainError,
    InvalidRequest,
    NotFound,
)
from ...models import (
    Booking,
    BookingStatus,
    Departure,
    DepartureStatus,
    PaymentMethod,
    WaitlistEntry,
    WaitlistStatus,
)
from ...unit_of_work import release, unit_of_work
from ..messages import outbox as notifications
from . import availability, bookable, contact_details, lifecycle
from .pricing import online_due

#: The email that offers held seats to someone on a waiting list.
OFFER_EMAIL = "waitlist_offer"


class SeatsStillFree(DepartureUnavailable):
    def __init__(self, left: int) -> None:
        super().__init__(
            _ln(
                "There is still %(num)s seat on this departure: book it directly.",
                "There are still %(num)s seats on this departure: book them directly.",
                left,
            )
        )


class AlreadyWaiting(DepartureUnavailable):
    default_message = _l("This email address is already on the waiting list for this departure.")


class OfferGone(DepartureUnavailable):
    default_message = _l(
        "This offer is no longer open: the seats were held for a limited time and have gone "
        "to the next person in line."
    )


class OfferTakenAlready(DepartureUnavailable):
    """The offer was accepted before (the form sent again, or declined after it)."""

    default_message = _l(
        "You took these seats already. To give them back, cancel the booking from its page."
    )


@dataclass
class WaitlistRequest:
    departure_id: int
    contact: contact_details.ContactDetails
    people: int


@dataclass
class OfferReport:
    #: Entries that were offered seats.
    offered: list[int] = field(default_factory=list)
    #: Entries whose offer lapsed (or was declined) and were passed over.
    lapsed: list[int] = field(default_factory=list)


def join_waitlist(
    session: Session, request: WaitlistRequest, now: datetime, languages: list[str]
) -> WaitlistEntry:
    """Put a party on the departure's waiting list, or raise (nothing is written).

    Only a party that does not fit may join: with seats for it, it books directly."""
    contact = contact_details.validate_contact(
        contact_details.ContactDetails(
            request.contact.name,
            request.contact.email,
            request.contact.phone,
            request.contact.country,
            request.contact.language,
        ),
        languages,
    )
    departure = bookable.published_departure(session, request.departure_id)
    limit = departure.experience.max_tickets_per_booking
    people = request.people
    if isinstance(people, bool) or not isinstance(people, int) or not 1 <= people <= limit:
        raise InvalidRequest(
            _ln(
                "A party on the waiting list is from 1 to %(num)s person.",
                "A party on the waiting list is from 1 to %(num)s people.",
                limit,
            )
        )
    check_open(departure, now)
    left = availability.seats_left(session, departure, now)
    if left >= people:
        raise SeatsStillFree(left=left)
    already = session.scalar(
        select(WaitlistEntry.id).where(
            WaitlistEntry.departure_id == departure.id,
            func.lower(WaitlistEntry.email) == contact.email.lower(),
            WaitlistEntry.status.in_((WaitlistStatus.WAITING, WaitlistStatus.OFFERED)),
        )
    )
    if already is not None:
        raise AlreadyWaiting()
    entry = WaitlistEntry(
        departure_id=departure.id,
        status=WaitlistStatus.WAITING,
        name=contact.name,
        email=contact.email,
        phone=contact.phone,
        country=contact.country,
        language=contact.language,
        people=people,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def check_open(departure: Departure, now: datetime) -> None:
    """Raise when the departure's waiting list is closed: cancelled, or too late to book."""
    if departure.status != DepartureStatus.SCHEDULED:
        raise DepartureCancelled()
    if departure.starts_at - lifecycle.DEFAULT_CUTOFF <= now:
        raise bookable.BookingClosed()


def places_ahead(session: Session, entry: WaitlistEntry) -> int:
    """Parties in line before this one (waiting or holding an offer)."""
    return int(
        session.scalar(
            select(func.count(WaitlistEntry.id)).where(
                WaitlistEntry.departure_id == entry.departure_id,
                WaitlistEntry.status.in_((WaitlistStatus.WAITING, WaitlistStatus.OFFERED)),
                WaitlistEntry.id < entry.id,
            )
        )
        or 0
    )


def departures_with_lists(session: Session, now: datetime) -> list[int]:
    """Departures still to come with someone waiting or holding an offer."""
    return list(
        session.scalars(
            select(WaitlistEntry.departure_id)
            .join(Departure, WaitlistEntry.departure_id == Departure.id)
            .where(
                WaitlistEntry.status.in_((WaitlistStatus.WAITING, WaitlistStatus.OFFERED)),
                Departure.starts_at > now,
            )
            .distinct()
            .order_by(WaitlistEntry.departure_id)
        )
    )


def _entries(session: Session, departure_id: int, status: WaitlistStatus) -> list[WaitlistEntry]:
    return list(
        session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.departure_id == departure_id, WaitlistEntry.status == status)
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
            .execution_options(populate_existing=True)
        )
    )


def _settle_offers(session: Session, departure_id: int, now: datetime, report: OfferReport):
    """Offers whose booking was taken become accepted; those that lapsed or were declined
    are passed over (their held booking expires, its seats count as free)."""
    for entry in _entries(session, departure_id, WaitlistStatus.OFFERED):
        booking = entry.booking
        if booking.status == BookingStatus.CONFIRMED:
            entry.status = WaitlistStatus.ACCEPTED
        elif booking.status == BookingStatus.HELD and booking.hold_expires_at > now:
            continue
        else:
            if booking.status == BookingStatus.HELD:
                booking.transition(BookingStatus.EXPIRED)
            entry.status = WaitlistStatus.LAPSED
            report.lapsed.append(entry.id)


def _offer_method(departure: Departure, card_ready: bool) -> str:
    """The payment method the held booking starts with; the visitor may pick another one of
    the experience's methods when taking the offer."""
    codes = departure.experience.payment_option_codes
    if PaymentMethod.ON_ARRIVAL.value in codes or not card_ready:
        return PaymentMethod.ON_ARRIVAL.value
    return PaymentMethod.CARD.value


def offer_departure(
    session: Session,
    departure_id: int,
    now: datetime,
    offer_for: timedelta,
    languages: list[str],
    report: OfferReport,
    card_ready: bool = False,
) -> None:
    """Walk one departure's list under its lock (see the module doc); the caller commits."""
    departure = availability.lock_departure(session, departure_id)
    _settle_offers(session, departure_id, now, report)
    waiting = _entries(session, departure_id, WaitlistStatus.WAITING)
    if (
        departure.status != DepartureStatus.SCHEDULED
        or departure.starts_at - lifecycle.DEFAULT_CUTOFF <= now
    ):
        for entry in waiting:
            entry.status = WaitlistStatus.CLOSED
        session.flush()
        return
    left = departure.capacity - availability.seats_taken_on(session, departure_id, now)
    category = next((pc for pc in departure.experience.price_categories if pc.is_active), None)
    method = _offer_method(departure, card_ready)
    for entry in waiting:
        if left <= 0 or category is None:
            break
        if entry.people > left:
            continue  # a bigger party waits for more seats; a smaller one behind may fit
        hold = lifecycle.HoldRequest(
            departure_id=departure_id,
            quantities={category.id: entry.people},
            contact=contact_details.ContactDetails(
                entry.name, entry.email, entry.phone, entry.country, entry.language
            ),
            payment_method=method,
        )
        try:
            booking = lifecycle.hold_seats(
                session,
                hold,
                now=now,
                hold_for=offer_for,
                languages=languages,
                offered_methods=[method],
            )
        except DomainError:
            # Not offerable any more (its contact no longer passes, say): out of the line.
            entry.status = WaitlistStatus.CLOSED
            continue
        entry.status = WaitlistStatus.OFFERED
        entry.booking_id = booking.id
        entry.offered_at = now
        entry.offer_expires_at = booking.hold_expires_at
        left -= entry.people
        notifications.queue(
            session, booking, OFFER_EMAIL, people=entry.people, expires=now.isoformat()
        )
        report.offered.append(entry.id)
    session.flush()


def offer_waitlist(
    session: Session,
    now: datetime,
    offer_for: timedelta = timedelta(hours=2),
    languages: list[str] | None = None,
    card_ready: bool = False,
) -> OfferReport:
    """Offer freed seats on every departure with a waiting list, each departure in its own
    unit of work (its emails leave after its own commit). For commands and jobs only."""
    languages = languages or ["es", "en"]
    report = OfferReport()
    listed = departures_with_lists(session, now)
    release(session)  # each departure's unit of work starts afresh, with the write lock
    for departure_id in listed:
        with unit_of_work(session):
            offer_departure(session, departure_id, now, offer_for, languages, report, card_ready)
    return report


def find_offer(session: Session, token: str) -> WaitlistEntry:
    """The waiting-list entry whose offer link carries ``token`` (its booking's token)."""
    booking = lifecycle.find_by_token(session, token)
    entry = session.scalar(select(WaitlistEntry).where(WaitlistEntry.booking_id == booking.id))
    if entry is None:
        raise NotFound()
    return entry


def accept_offer(
    session: Session, entry: WaitlistEntry, method: str, offered_methods: list[str], now: datetime
) -> Booking:
    """Take the held seats with a payment method: pay on arrival confirms at once (and queues
    the confirmation); a card or deposit leaves the booking held for the card page."""
    if method not in offered_methods:
        raise InvalidRequest(_l("That payment method is not offered for this experience."))
    booking = entry.booking
    departure = availability.lock_departure(session, booking.departure_id)
    session.refresh(entry)
    session.refresh(booking)
    if entry.status == WaitlistStatus.ACCEPTED:
        raise OfferTakenAlready()
    if (
        entry.status != WaitlistStatus.OFFERED
        or booking.status != BookingStatus.HELD
        or booking.hold_expires_at <= now
        or departure.status != DepartureStatus.SCHEDULED
    ):
        raise OfferGone()
    booking.payment_method = method
    booking.online_due_cents = online_due(
        booking.total_cents, method, departure.experience.deposit_percent
    )
    if booking.online_due_cents == 0:
        lifecycle.confirm_booking(session, booking, method, now)
        notifications.queue(session, booking, "confirmed")
    entry.status = WaitlistStatus.ACCEPTED
    session.flush()
    return booking


def decline_offer(session: Session, entry: WaitlistEntry, now: datetime) -> None:
    """Give the held seats back at once; the next run offers them to the next in line."""
    booking = entry.booking
    availability.lock_departure(session, booking.departure_id)
    session.refresh(entry)
    session.refresh(booking)
    if entry.status == WaitlistStatus.ACCEPTED:
        raise OfferTakenAlready()
    if entry.status != WaitlistStatus.OFFERED or booking.status != BookingStatus.HELD:
        raise OfferGone()
    booking.transition(BookingStatus.CANCELLED)
    booking.cancelled_at, booking.hold_expires_at = now, None
    entry.status = WaitlistStatus.LAPSED
    session.flush()
