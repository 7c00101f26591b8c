"""A guide's calendar: the departures ahead of them (``my_schedule``), with who is coming and
the cash to collect, and their iCalendar feed, opened by a secret per-membership token.

Assigning guides and recording time off are in ``guides``."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale, ngettext
from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...errors import NotFound
from ...models import (
    Booking,
    BookingLine,
    BookingStatus,
    Departure,
    DepartureGuide,
    DepartureStatus,
    Experience,
    GuideRole,
    Membership,
    Payment,
    Role,
    User,
)
from ...timefmt import display_zone, vtimezone
from ..access import tenancy

#: How far ahead "my schedule" looks.
SCHEDULE_DAYS = 30
#: The feed also keeps the recent past, so a calendar does not lose last week's tours.
FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 366


# Schedule ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleItem:
    departure: Departure
    role: GuideRole
    title: str
    meeting_point: str
    participants: int
    bookings: int
    languages: list[str]
    #: Cash still to collect on arrival from confirmed bookings not marked as not come.
    cash_due_cents: int
    currency: str


def cash_collected_cents(booking: Booking) -> int:
    return sum(p.net_cents for p in booking.payments if p.provider == "cash")


def cash_outstanding_cents(booking: Booking) -> int:
    """What is still to collect in cash: due on arrival less cash already recorded."""
    return booking.due_on_arrival_cents  # already net of cash collected


def _assigned_departures(session: Session, user: User, start, end, association_id=None):
    statement = (
        select(Departure, DepartureGuide.role)
        .join(DepartureGuide, DepartureGuide.departure_id == Departure.id)
        .join(Experience, Experience.id == Departure.experience_id)
        .where(
            DepartureGuide.user_id == user.id,
            Departure.ends_at > start,
            Departure.starts_at < end,
        )
        .options(selectinload(Departure.experience).selectinload(Experience.texts))
        .order_by(Departure.starts_at)
    )
    if association_id is not None:
        statement = statement.where(Experience.association_id == association_id)
    else:
        allowed = tenancy.association_ids(user, tenancy.EVERYONE)
        if allowed is not None:
            statement = statement.where(Experience.association_id.in_(allowed or {-1}))
    return session.execute(statement).all()


def confirmed_bookings(session: Session, departure_ids: list[int]) -> dict[int, list[Booking]]:
    """Confirmed bookings per departure id, by name, with tickets and payments loaded."""
    by_departure: dict[int, list[Booking]] = {i: [] for i in departure_ids}
    if not departure_ids:
        return by_departure
    bookings = session.execute(
        select(Booking)
        .where(Booking.departure_id.in_(departure_ids), Booking.status == BookingStatus.CONFIRMED)
        .options(
            selectinload(Booking.lines).selectinload(BookingLine.price_category),
            selectinload(Booking.payments).selectinload(Payment.refunds),
            # A prepaid reseller's booking has nothing to collect (``due_on_arrival_cents``).
            selectinload(Booking.channel),
        )
        .order_by(Booking.contact_name, Booking.id)
    ).scalars()
    for booking in bookings:
        by_departure[booking.departure_id].append(booking)
    return by_departure


def _summaries(session: Session, rows, locale: str) -> list[ScheduleItem]:
    bookings = confirmed_bookings(session, [departure.id for departure, _ in rows])
    items = []
    for departure, role in rows:
        text = departure.experience.text(locale)
        party = bookings[departure.id]
        items.append(
            ScheduleItem(
                departure=departure,
                role=role,
                title=text.title if text else departure.experience.slug,
                meeting_point=text.meeting_point if text else "",
                participants=sum(b.participants for b in party),
                bookings=len(party),
                languages=sorted({b.language for b in party}),
                cash_due_cents=sum(
                    cash_outstanding_cents(b) for b in party if b.no_show_at is None
                ),
                currency=departure.experience.currency,
            )
        )
    return items


def my_schedule(
    session: Session, user: User, now: datetime, locale: str = "es"
) -> list[ScheduleItem]:
    """The departures ``user`` guides that have not ended and start in the next 30 days."""
    rows = _assigned_departures(session, user, now, now + timedelta(days=SCHEDULE_DAYS))
    return _summaries(session, rows, locale)


# Calendar feed -----------------------------------------------------------------------------


def rotate_ical_token(membership: Membership) -> str:
    """Give the membership a new secret feed token; the previous URL stops working."""
    membership.ical_token = secrets.token_urlsafe(32)
    return membership.ical_token


def membership_for_token(session: Session, token: str) -> Membership:
    """The guide membership whose feed this token opens, else ``NotFound``."""
    if not token or len(token) > 64:
        raise NotFound()
    membership = session.execute(
        select(Membership).where(Membership.ical_token == token)
    ).scalar_one_or_none()
    if membership is None or membership.role != Role.GUIDE or not membership.user.is_active_account:
        raise NotFound()
    return membership


def ical_feed(
    session: Session,
    membership: Membership,
    now: datetime,
    link: Callable[[Departure], str] | None = None,
) -> bytes:
    """An iCalendar feed of the departures the membership's guide runs for its association:
    the last 30 days and everything ahead, in local time, cancelled ones marked so."""
    user = membership.user
    locale = user.locale or "es"
    zone = display_zone()
    rows = _assigned_departures(
        session,
        user,
        now - timedelta(days=FEED_PAST_DAYS),
        now + timedelta(days=FEED_FUTURE_DAYS),
        association_id=membership.association_id,
    )
    calendar = Calendar()
    calendar.add("prodid", "-//Chakra Routes//Guide schedule//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Chakra Routes · {membership.association.name}")
    with force_locale(locale):
        for item in _summaries(session, rows, locale):
            departure = item.departure
            cancelled = departure.status == DepartureStatus.CANCELLED
            summary = ngettext(
                "%(title)s (%(num)s person)",
                "%(title)s (%(num)s people)",
                item.participants,
                title=item.title,
            )
            event = Event()
            for key, value in (
                ("uid", f"departure-{departure.id}@chakraroutes"),
                ("dtstamp", now),
                ("dtstart", departure.starts_at.astimezone(zone)),
                ("dtend", departure.ends_at.astimezone(zone)),
                ("summary", summary),
                ("location", item.meeting_point or None),
                ("url", link(departure) if link else None),
                ("status", "CANCELLED" if cancelled else "CONFIRMED"),
                ("sequence", 1 if cancelled else 0),
            ):
                if value is not None:
                    event.add(key, value)
            calendar.add_component(event)
    calendar.add_component(vtimezone(str(zone)))
    return calendar.to_ical()
