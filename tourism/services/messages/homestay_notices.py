"""Host families hear of their homestay guests: the day before each night they host
(``queue_homestay_tomorrow``, the periodic ``tell-homestay-hosts``: a route's guests and those
of single experience bookings with a night there), and when a route booking with nights at
their home is confirmed or cancelled (``queue_homestay_change``; a single booking's nights:
``homestay_booking_notices``).

Each message says only what the family needs to prepare: the guests' first names, how many
they are, their nights there and the dietary needs they gave (the visitor agreed that the
association may use them to prepare the visit). No surname, email, phone or reference. It goes
by the family's channel (``person_notices.notify``), once per family and night, or per family
and route booking and change.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, selectinload

from ...models import (
    Booking,
    BookingNight,
    BookingStatus,
    Family,
    Homestay,
    Notification,
    PhoneMessage,
    RouteBooking,
    RouteBookingLeg,
    RouteBookingNight,
)
from ...models.messaging import QUEUED
from ...text_input import one_line
from ..routes.homestays import route_booking_needs
from . import phone_texts
from .dispatch import SENDING
from .notice_emails import NOTICE
from .person_notices import language_of, notify
from .phone_notices import reachable_family

HOMESTAY_TOMORROW = "homestay_tomorrow"
HOMESTAY_BOOKED = "homestay_booked"
HOMESTAY_CANCELLED = "homestay_cancelled"
#: The most of a visitor's needs a message carries (an SMS is short; the rest is on the
#: family's guest list).
MAX_NEEDS = 160


def first_name(full_name: str) -> str:
    words = (full_name or "").split()
    return words[0] if words else "?"


def short_needs(text: str) -> str:
    """A visitor's needs on one line, cut to what a message carries (``MAX_NEEDS``)."""
    needs = one_line(text)
    return needs if len(needs) <= MAX_NEEDS else needs[: MAX_NEEDS - 1] + "…"


def _needs(route_booking: RouteBooking) -> str:
    return short_needs(route_booking_needs(route_booking))


def _guests(family: Family, route_bookings: list[RouteBooking]) -> tuple[list, list]:
    """Per route booking: (first name, people, its nights at the family's) and (first
    name, needs)."""
    guests, needs = [], []
    for route_booking in route_bookings:
        name = first_name(route_booking.contact_name)
        nights = sorted(n.night for n in route_booking.nights if n.homestay.family_id == family.id)
        guests.append((name, route_booking.people, nights))
        needs.append((name, _needs(route_booking)))
    return guests, needs


def _route_guests(night: date) -> Select:
    return (
        select(Family, RouteBooking)
        .join(Homestay, Homestay.family_id == Family.id)
        .join(RouteBookingNight, RouteBookingNight.homestay_id == Homestay.id)
        .join(RouteBooking, RouteBooking.id == RouteBookingNight.route_booking_id)
        .where(
            RouteBookingNight.night == night,
            RouteBooking.status == BookingStatus.CONFIRMED,
            Family.is_active.is_(True),
            reachable_family(),
        )
        .options(
            selectinload(RouteBooking.nights).joinedload(RouteBookingNight.homestay),
            selectinload(RouteBooking.legs).joinedload(RouteBookingLeg.booking),
        )
        .order_by(Family.id, RouteBooking.id)
    )


def _single_guests(night: date) -> Select:
    """Confirmed single experience bookings with a homestay night then (``BookingNight``)."""
    return (
        select(Family, Booking)
        .join(Homestay, Homestay.family_id == Family.id)
        .join(BookingNight, BookingNight.homestay_id == Homestay.id)
        .join(Booking, Booking.id == BookingNight.booking_id)
        .where(
            BookingNight.night == night,
            Booking.status == BookingStatus.CONFIRMED,
            Family.is_active.is_(True),
            reachable_family(),
        )
        .options(selectinload(Booking.nights).joinedload(BookingNight.homestay))
        .order_by(Family.id, Booking.id)
    )


def _single_booking_guest(family: Family, booking: Booking) -> tuple[tuple, tuple]:
    """A single booking's (first name, people, its nights at the family's) and (first
    name, needs)."""
    name = first_name(booking.contact_name)
    here = [n for n in booking.nights if n.homestay.family_id == family.id]
    guest = (name, max(n.people for n in here), sorted(n.night for n in here))
    return guest, (name, short_needs(booking.special_needs))


def queue_homestay_tomorrow(session: Session, today: date) -> int:
    """Tell each host family who sleeps at their home tomorrow night (``today`` is the local
    date): the guests of confirmed route bookings and of confirmed single experience
    bookings with a night there, in one notice; returns how many were newly queued. Two
    statements and their eager loads, however many guests."""
    night = today + timedelta(days=1)
    hosts: dict[int, Family] = {}
    stays: dict[int, list[RouteBooking]] = defaultdict(list)
    singles: dict[int, list[Booking]] = defaultdict(list)
    for family, route_booking in session.execute(_route_guests(night)).all():
        hosts[family.id] = family
        if route_booking not in stays[family.id]:
            stays[family.id].append(route_booking)
    for family, booking in session.execute(_single_guests(night)).all():
        hosts[family.id] = family
        if booking not in singles[family.id]:
            singles[family.id].append(booking)
    queued = 0
    for family_id in sorted(hosts):
        family = hosts[family_id]
        language = language_of(family.languages)
        guests, needs = _guests(family, stays[family_id])
        for booking in singles[family_id]:
            guest, given = _single_booking_guest(family, booking)
            guests.append(guest)
            needs.append(given)
        queued += (
            notify(
                session,
                family,
                key=f"family:{family.id}:homestay:{night}",
                kind=HOMESTAY_TOMORROW,
                text=phone_texts.homestay_tomorrow_text(language, guests, needs),
                language=language,
                association_id=family.association_id,
            )
            is not None
        )
    return queued


def queue_homestay_change(session: Session, route_booking: RouteBooking, kind: str) -> int:
    """Tell each family with nights in ``route_booking`` that it was confirmed
    (``HOMESTAY_BOOKED``, with the dietary needs) or cancelled (``HOMESTAY_CANCELLED``);
    returns how many notices were newly queued. Only flushes."""
    if kind not in (HOMESTAY_BOOKED, HOMESTAY_CANCELLED):
        raise ValueError(f"unknown homestay notice {kind!r}")
    families = {night.homestay.family_id: night.homestay.family for night in route_booking.nights}
    queued = 0
    for family in sorted(families.values(), key=lambda f: f.id):
        if not family.is_active:
            continue
        guests, needs = _guests(family, [route_booking])
        key = f"family:{family.id}:homestay:{route_booking.id}:{kind}"
        queued += tell_of_change(session, family, key, kind, guests, needs)
    return queued


def tell_of_change(
    session: Session, family: Family, key: str, kind: str, guests: list, needs: list
) -> bool:
    """Queue for ``family``, under ``key``, in its language, that its ``guests`` (first
    name, people, nights) are booked (``HOMESTAY_BOOKED``, with their ``needs``) or
    cancelled (``HOMESTAY_CANCELLED``, without them). False when it was queued before or
    the family cannot be reached."""
    language = language_of(family.languages)
    if kind == HOMESTAY_BOOKED:
        text = phone_texts.homestay_booked_text(language, guests, needs)
    else:
        text = phone_texts.homestay_cancelled_text(language, guests)
    told = notify(
        session,
        family,
        key=key,
        kind=kind,
        text=text,
        language=language,
        association_id=family.association_id,
    )
    return told is not None


#: The notices that carry visitors' needs (the cancellation does not).
WITH_NEEDS = (HOMESTAY_TOMORROW, HOMESTAY_BOOKED)


def forget_needs(session: Session, now: datetime, keep_for: timedelta) -> int:
    """Erase our copies of the needs sent to families (the message log's words, the sent
    notice emails' context) once they are ``keep_for`` old, as the needs themselves are
    erased from bookings (``privacy.forget_special_needs``); messages not yet delivered keep
    them. Returns how many phone messages were erased."""
    cutoff = now - keep_for
    erased = session.execute(
        update(PhoneMessage)
        .where(
            PhoneMessage.kind.in_(WITH_NEEDS),
            PhoneMessage.created_at < cutoff,
            PhoneMessage.status.not_in((QUEUED, SENDING)),
            PhoneMessage.body != "",
        )
        .values(body="", variables="[]")
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        update(Notification)
        .where(
            Notification.kind == NOTICE,
            Notification.sent_at.is_not(None),
            Notification.created_at < cutoff,
            Notification.context != "{}",
        )
        .values(context="{}")
        .execution_options(synchronize_session=False)
    )
    return erased or 0
