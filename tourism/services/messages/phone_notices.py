"""Who gets which WhatsApp/SMS message, on their chosen channel and only with their consent.

* Tourists who ticked the box on the booking form: the confirmation (with the manage link),
  the reminder the day before, cancellations and refunds: the phone twin of each booking
  email (``outbox.queue`` calls ``queue_for_booking``), never instead of it.
* Host families: who comes tomorrow to the stops they host, and each payout recorded to
  them (their homestay guests: ``homestay_notices``).
* Guides: tomorrow's departures, head counts and how many bookings told of special needs
  (the needs themselves stay in the manifest), and changes to their departures.

Families and guides are reached through ``person_notices.notify``: WhatsApp/SMS with their
consent, else by email when they have an address.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ...models import (
    Booking,
    BookingLine,
    BookingStatus,
    Departure,
    DepartureGuide,
    DepartureStatus,
    Family,
    Notification,
    PhoneMessage,
    Stop,
    User,
)
from ...models.messaging import WHATSAPP
from ...timefmt import local_to_utc
from . import dispatch, phone_texts
from .person_notices import language_of as _language
from .person_notices import notify


def _channel(preferred: str | None) -> str:
    return preferred if preferred in ("whatsapp", "sms") else WHATSAPP


def queue_for_booking(
    session: Session, booking: Booking, kind: str, context: dict, occurrence: str = ""
) -> PhoneMessage | None:
    """The phone twin of the booking email ``kind``, if the tourist opted in and the kind
    has one; returns the new row or ``None``."""
    if booking.message_opt_in_at is None or not booking.message_phone:
        return None
    text = phone_texts.booking_text(kind, booking, booking.language, context)
    if text is None:
        return None
    channel = _channel(booking.message_channel)
    return dispatch.queue_message(
        session,
        key=f"booking:{booking.id}:{kind}:{channel}" + (f":{occurrence}" if occurrence else ""),
        kind=kind,
        channel=channel,
        recipient=booking.message_phone,
        language=booking.language,
        text=text,
        association_id=booking.departure.experience.association_id,
        booking_id=booking.id,
    )


def _tomorrow(today: date, zone: ZoneInfo):
    start = local_to_utc(today + timedelta(days=1), time(0, 0), zone)
    return start, local_to_utc(today + timedelta(days=2), time(0, 0), zone)


def _people_per_departure(session: Session, start, end) -> dict[int, tuple[int, int]]:
    """Confirmed people and bookings with special needs per scheduled departure."""
    rows = session.execute(
        select(
            Booking.departure_id,
            func.sum(BookingLine.quantity),
        )
        .join(BookingLine, BookingLine.booking_id == Booking.id)
        .join(Departure, Departure.id == Booking.departure_id)
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            Departure.status == DepartureStatus.SCHEDULED,
            Departure.starts_at >= start,
            Departure.starts_at < end,
        )
        .group_by(Booking.departure_id)
    ).all()
    needs = dict(
        session.execute(
            select(Booking.departure_id, func.count(Booking.id))
            .join(Departure, Departure.id == Booking.departure_id)
            .where(
                Booking.status == BookingStatus.CONFIRMED,
                Booking.special_needs != "",
                Departure.starts_at >= start,
                Departure.starts_at < end,
            )
            .group_by(Booking.departure_id)
        ).all()
    )
    return {dep_id: (int(people or 0), int(needs.get(dep_id, 0))) for dep_id, people in rows}


def queue_family_visitors(session: Session, today: date, zone: ZoneInfo) -> int:
    """Tell each host family who comes tomorrow (local date) to the stops it
    hosts: one message per family and day; returns how many were newly queued."""
    start, end = _tomorrow(today, zone)
    people = _people_per_departure(session, start, end)
    if not people:
        return 0
    departures = session.scalars(
        select(Departure).where(Departure.id.in_(people)).order_by(Departure.starts_at)
    ).all()
    visits: dict[int, list[tuple]] = defaultdict(list)
    families: dict[int, Family] = {}
    for departure in departures:
        hosts = session.scalars(
            select(Family)
            .join(Stop, Stop.family_id == Family.id)
            .where(
                Stop.experience_id == departure.experience_id,
                reachable_family(),
                Family.is_active.is_(True),
            )
            .distinct()
        ).all()
        for family in hosts:
            families[family.id] = family
            visits[family.id].append((departure, people[departure.id][0]))
    queued = 0
    for family_id, entries in visits.items():
        family = families[family_id]
        language = _language(family.languages)
        text = phone_texts.family_visitors_text(
            language,
            [(d.starts_at, phone_texts.title_of(d.experience, language), n) for d, n in entries],
        )
        queued += (
            notify(
                session,
                family,
                key=f"family:{family.id}:visitors:{today + timedelta(days=1)}",
                kind="family_visitors",
                text=text,
                language=language,
                association_id=family.association_id,
            )
            is not None
        )
    return queued


def reachable_family():
    """Families a notice can reach: a phone with consent, or an email address."""
    return or_(
        Family.message_consent_at.is_not(None) & Family.message_phone.is_not(None),
        Family.email != "",
    )


def queue_family_payout(
    session: Session, family: Family, payout
) -> PhoneMessage | Notification | None:
    """Tell a family that a payout to it was recorded (phone with consent, else email)."""
    language = _language(family.languages)
    return notify(
        session,
        family,
        key=f"family:{family.id}:payout:{payout.id}",
        kind="family_payout",
        text=phone_texts.family_payout_text(
            language, family.name, payout.amount_cents, payout.currency, payout.created_at
        ),
        language=language,
        association_id=family.association_id,
    )


def queue_guide_tomorrow(session: Session, today: date, zone: ZoneInfo) -> int:
    """Tell each guide their departures tomorrow (local date), with head counts
    and how many bookings have special needs; returns how many were newly queued."""
    start, end = _tomorrow(today, zone)
    people = _people_per_departure(session, start, end)
    rows = session.execute(
        select(User, Departure)
        .join(DepartureGuide, DepartureGuide.user_id == User.id)
        .join(Departure, Departure.id == DepartureGuide.departure_id)
        .where(
            Departure.status == DepartureStatus.SCHEDULED,
            Departure.starts_at >= start,
            Departure.starts_at < end,
            User.is_active_account.is_(True),
        )
        .order_by(User.id, Departure.starts_at)
    ).all()
    plans: dict[int, list[Departure]] = defaultdict(list)
    guides: dict[int, User] = {}
    for user, departure in rows:
        guides[user.id] = user
        plans[user.id].append(departure)
    queued = 0
    for user_id, departures in plans.items():
        user = guides[user_id]
        language = _language(user.locale)
        text = phone_texts.guide_tomorrow_text(
            language,
            [
                (
                    d.starts_at,
                    phone_texts.title_of(d.experience, language),
                    *people.get(d.id, (0, 0)),
                )
                for d in departures
            ],
        )
        queued += (
            notify(
                session,
                user,
                key=f"guide:{user.id}:tomorrow:{today + timedelta(days=1)}",
                kind="guide_tomorrow",
                text=text,
                language=language,
                association_id=departures[0].experience.association_id,
            )
            is not None
        )
    return queued


def queue_guide_assignments(
    session: Session,
    user: User,
    added: list[Departure],
    removed: list[Departure],
    now: datetime,
) -> PhoneMessage | None:
    """Tell a guide that a manager put them on (``added``) or took them off (``removed``)
    departures: one message per change, however many departures it touched."""
    if not (added or removed):
        return None
    language = _language(user.locale)
    text = phone_texts.guide_assignments_text(
        language,
        [(d.starts_at, phone_texts.title_of(d.experience, language)) for d in added],
        [(d.starts_at, phone_texts.title_of(d.experience, language)) for d in removed],
    )
    first = (added or removed)[0]
    return notify(
        session,
        user,
        key=f"guide:{user.id}:assignments:{now.isoformat(timespec='microseconds')}",
        kind="guide_assignments",
        text=text,
        language=language,
        association_id=first.experience.association_id,
    )
