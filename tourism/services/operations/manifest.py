"""The manifest of a departure: its confirmed parties with their tickets and money (paid
online, cash collected, still due), and its stops with when each was visited.

It is what a guide works from on the day (``checkin`` records what happens)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from ...models import (
    Booking,
    BookingExtra,
    BookingNight,
    Departure,
    Experience,
    Extra,
    Homestay,
    LegKind,
    Route,
    RouteBooking,
    RouteBookingLeg,
    RouteLeg,
    Stop,
    StopVisit,
)
from .guide_calendar import cash_collected_cents, cash_outstanding_cents, confirmed_bookings


@dataclass(frozen=True)
class Neighbour:
    """The leg a route guest comes from or goes to next: an activity or a night."""

    kind: str
    #: The experience's title, or the homestay's name.
    name: str
    #: The association (activity) or family (night) that receives them.
    host: str
    #: Local start time of an activity; None for a night.
    start_time: object = None


@dataclass(frozen=True)
class RouteGuest:
    """A party on this departure as one leg of a route booking."""

    reference: str
    route_title: str
    day: int
    days: int
    comes_from: Neighbour | None
    goes_next: Neighbour | None


@dataclass(frozen=True)
class ManifestRow:
    booking: Booking
    #: (price category code, quantity) per ticket line.
    tickets: list[tuple[str, int]]
    paid_online_cents: int
    cash_collected_cents: int
    outstanding_cents: int
    #: Set when the party is on a route across communities.
    route: RouteGuest | None = None


@dataclass(frozen=True)
class StopRow:
    stop: Stop
    name: str
    family: str
    visited_at: datetime | None


@dataclass(frozen=True)
class PrepareRow:
    """One extra to prepare for the departure: its units over the confirmed parties."""

    name: str
    provider: str
    units: int


@dataclass(frozen=True)
class Manifest:
    departure: Departure
    title: str
    meeting_point: str
    rows: list[ManifestRow]
    stops: list[StopRow]
    #: What to prepare: the extras the parties chose, counted per extra.
    to_prepare: list[PrepareRow] = field(default_factory=list)
    #: Per booking id: its extras as (name, units).
    extras: dict[int, list[tuple[str, int]]] = field(default_factory=dict)
    #: Per booking id: its homestay nights (before or after the departure).
    nights: dict[int, list[BookingNight]] = field(default_factory=dict)

    @property
    def participants(self) -> int:
        return sum(row.booking.participants for row in self.rows)

    @property
    def checked_in(self) -> int:
        return sum(row.booking.participants for row in self.rows if row.booking.checked_in_at)

    @property
    def outstanding_cents(self) -> int:
        """Cash still to collect from the parties that may still turn up: a party marked
        as not come pays nothing on the day, whatever it still owes."""
        return sum(row.outstanding_cents for row in self.rows if row.booking.no_show_at is None)

    def as_data(self) -> dict:
        """What the page embeds for working offline (no contact details)."""
        return {
            "departure_id": self.departure.id,
            "currency": self.departure.experience.currency,
            "bookings": [
                {
                    "reference": row.booking.reference,
                    "name": row.booking.contact_name,
                    "participants": row.booking.participants,
                    "outstanding_cents": row.outstanding_cents,
                    "checked_in": row.booking.checked_in_at is not None,
                    "no_show": row.booking.no_show_at is not None,
                }
                for row in self.rows
            ],
            "stops": [
                {"id": s.stop.id, "name": s.name, "visited": s.visited_at is not None}
                for s in self.stops
            ],
        }


def _neighbour(leg: RouteLeg | None, locale: str) -> Neighbour | None:
    if leg is None:
        return None
    if leg.kind == LegKind.EXPERIENCE:
        text = leg.experience.text(locale)
        return Neighbour(
            kind="experience",
            name=text.title if text else leg.experience.slug,
            host=leg.experience.association.name,
            start_time=leg.start_time,
        )
    return Neighbour(kind="homestay", name=leg.homestay.name, host=leg.homestay.family.name)


def route_guests(session: Session, booking_ids: list[int], locale: str) -> dict[int, RouteGuest]:
    """For the bookings that are a leg of a route booking: which route, which day, and the
    legs just before and after (where the party comes from, where it goes next). A fixed
    number of queries whatever the number of bookings."""
    if not booking_ids:
        return {}
    rows = session.execute(
        select(RouteBookingLeg.booking_id, RouteBookingLeg.leg_id, RouteBooking)
        .join(RouteBooking, RouteBooking.id == RouteBookingLeg.route_booking_id)
        .where(RouteBookingLeg.booking_id.in_(booking_ids))
        .options(
            joinedload(RouteBooking.route).options(
                selectinload(Route.texts),
                selectinload(Route.legs).options(
                    joinedload(RouteLeg.experience).options(
                        joinedload(Experience.association), selectinload(Experience.texts)
                    ),
                    joinedload(RouteLeg.homestay).joinedload(Homestay.family),
                ),
            )
        )
    ).all()
    found = {}
    for booking_id, leg_id, route_booking in rows:
        route = route_booking.route
        legs = list(route.legs)
        index = next(i for i, leg in enumerate(legs) if leg.id == leg_id)
        text = route.text(locale)
        found[booking_id] = RouteGuest(
            reference=route_booking.reference,
            route_title=text.title if text else route.slug,
            day=legs[index].day,
            days=route.days,
            comes_from=_neighbour(legs[index - 1] if index > 0 else None, locale),
            goes_next=_neighbour(legs[index + 1] if index + 1 < len(legs) else None, locale),
        )
    return found


def manifest(session: Session, departure: Departure, locale: str) -> Manifest:
    """The departure's confirmed parties, with tickets and money, and its stops; a party on
    a route says so, with where it comes from and goes next."""
    bookings = confirmed_bookings(session, [departure.id])[departure.id]
    guests = route_guests(session, [b.id for b in bookings], locale)
    rows = [
        ManifestRow(
            booking=b,
            tickets=[(line.price_category.code, line.quantity) for line in b.lines],
            paid_online_cents=b.paid_online_cents,
            cash_collected_cents=cash_collected_cents(b),
            outstanding_cents=cash_outstanding_cents(b),
            route=guests.get(b.id),
        )
        for b in bookings
    ]
    visits = {
        v.stop_id: v.confirmed_at
        for v in session.execute(
            select(StopVisit).where(StopVisit.departure_id == departure.id)
        ).scalars()
    }
    stops = []
    route = session.scalars(
        select(Stop)
        .where(Stop.experience_id == departure.experience_id)
        .options(selectinload(Stop.texts), joinedload(Stop.family))
        .order_by(Stop.position)
    )
    for stop in route:
        text = stop.text(locale)
        stops.append(
            StopRow(
                stop=stop,
                name=text.name if text else str(stop.position + 1),
                family=stop.family.name if stop.family else "",
                visited_at=visits.get(stop.id),
            )
        )
    text = departure.experience.text(locale)
    to_prepare, extras, nights = _addons(session, [b.id for b in bookings], locale)
    return Manifest(
        departure=departure,
        title=text.title if text else departure.experience.slug,
        meeting_point=text.meeting_point if text else "",
        rows=rows,
        stops=stops,
        to_prepare=to_prepare,
        extras=extras,
        nights=nights,
    )


def _addons(session: Session, booking_ids: list[int], locale: str):
    """What to prepare (units per extra, over the parties) and each party's extras and
    homestay nights, in two queries."""
    if not booking_ids:
        return [], {}, {}
    extras = session.scalars(
        select(BookingExtra)
        .where(BookingExtra.booking_id.in_(booking_ids))
        .options(joinedload(BookingExtra.extra).options(joinedload(Extra.family)))
        .order_by(BookingExtra.extra_id, BookingExtra.booking_id)
    ).all()
    nights = session.scalars(
        select(BookingNight)
        .where(BookingNight.booking_id.in_(booking_ids))
        .options(joinedload(BookingNight.homestay))
        .order_by(BookingNight.night)
    ).all()
    totals: dict[int, PrepareRow] = {}
    per_booking: dict[int, list[tuple[str, int]]] = {}
    for item in extras:
        extra = item.extra
        name = extra.name(locale)
        found = totals.get(extra.id)
        units = item.quantity + (found.units if found else 0)
        provider = extra.family.name if extra.family else ""
        totals[extra.id] = PrepareRow(name, provider, units)
        per_booking.setdefault(item.booking_id, []).append((name, item.quantity))
    nights_of: dict[int, list[BookingNight]] = {}
    for night in nights:
        nights_of.setdefault(night.booking_id, []).append(night)
    return list(totals.values()), per_booking, nights_of
