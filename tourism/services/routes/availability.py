"""Whether a route can be done from a start date: every leg has its departure with seats
and every night its beds. Counting only; the locks are taken when booking (``booking``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import (
    Departure,
    DepartureStatus,
    Extra,
    Homestay,
    LegKind,
    Route,
    RouteBooking,
    RouteBookingNight,
    RouteLeg,
)
from ...timefmt import local_to_utc
from ..booking import addon_stock
from ..booking import availability as seats

#: Problems a date can have, shown next to it.
NO_DEPARTURE = _l("an activity does not run that day")
DEPARTURE_CANCELLED = _l("an activity was cancelled that day")
TOO_LATE = _l("an activity has already left or closed for bookings")
NO_SEATS = _l("an activity has not enough seats left")
NO_BEDS = _l("a homestay has not enough beds left that night")
CLOSED_NIGHT = _l("a homestay does not take guests that night")


# Beds and stock are one pool with single bookings: counted there.
route_booking_holds = addon_stock.route_booking_holds
beds_taken = addon_stock.beds_taken
extra_units_sold = addon_stock.extra_units_sold


def extra_units_left(session: Session, extra: Extra, now: datetime) -> int | None:
    """Units of ``extra`` still for sale on a route; None when it has no stock limit."""
    return addon_stock.extra_units_left(session, extra, now)


def leg_day(start_date: date, leg: RouteLeg) -> date:
    return start_date + timedelta(days=leg.day - 1)


def leg_starts_at(start_date: date, leg: RouteLeg, zone: ZoneInfo | None = None) -> datetime:
    """When an experience leg's departure starts, for a route starting on ``start_date``."""
    return local_to_utc(leg_day(start_date, leg), leg.start_time, zone)


@dataclass
class LegPlan:
    leg: RouteLeg
    departure: Departure | None = None
    seats_left: int = 0
    #: The night, for a homestay leg.
    night: date | None = None
    beds_left: int = 0


@dataclass
class RoutePlan:
    route: Route
    start_date: date
    people: int
    legs: list[LegPlan] = field(default_factory=list)
    #: Why the date cannot be booked; empty when it can.
    problems: list = field(default_factory=list)

    @property
    def bookable(self) -> bool:
        return not self.problems

    @property
    def departures(self) -> list[Departure]:
        return [plan.departure for plan in self.legs if plan.departure is not None]


def plan_route(
    session: Session,
    route: Route,
    start_dates: Iterable[date],
    people: int,
    now: datetime,
    cutoff: timedelta,
) -> list[RoutePlan]:
    """A plan per start date, from a few queries whatever the number of dates: which
    departure each leg takes, its seats and beds left, and what stops the date (if
    anything). The date rules only; ``shape.check_route`` checks the route itself."""
    dates = sorted(set(start_dates))
    if not dates or not route.legs:
        return []
    legs = list(route.legs)
    experience_legs = [leg for leg in legs if leg.kind == LegKind.EXPERIENCE]
    wanted = {
        (leg.experience_id, leg_starts_at(day, leg)) for day in dates for leg in experience_legs
    }
    departures: dict[tuple[int, datetime], Departure] = {}
    if wanted:
        found = session.scalars(
            select(Departure).where(
                Departure.experience_id.in_({experience_id for experience_id, _ in wanted}),
                Departure.starts_at >= min(at for _, at in wanted),
                Departure.starts_at <= max(at for _, at in wanted),
                Departure.group_request_id.is_(None),
            )
        )
        departures = {(d.experience_id, d.starts_at): d for d in found}
    taken = seats.seats_taken(session, [d.id for d in departures.values()], now)
    night_legs = [leg for leg in legs if leg.kind == LegKind.HOMESTAY]
    beds = _beds_taken_by_night(session, night_legs, dates, now)

    plans = []
    for day in dates:
        plan = RoutePlan(route=route, start_date=day, people=people)
        for leg in legs:
            if leg.kind == LegKind.EXPERIENCE:
                plan.legs.append(_plan_leg(plan, leg, departures, taken, now, cutoff))
            else:
                plan.legs.append(_plan_night(plan, leg, beds))
        plans.append(plan)
    return plans


def _plan_leg(plan, leg, departures, taken, now, cutoff) -> LegPlan:
    departure = departures.get((leg.experience_id, leg_starts_at(plan.start_date, leg)))
    if departure is None:
        plan.problems.append(NO_DEPARTURE)
        return LegPlan(leg=leg)
    left = max(departure.capacity - taken.get(departure.id, 0), 0)
    if departure.status != DepartureStatus.SCHEDULED:
        plan.problems.append(DEPARTURE_CANCELLED)
        left = 0
    elif departure.starts_at - cutoff <= now:
        plan.problems.append(TOO_LATE)
    elif left < plan.people:
        plan.problems.append(NO_SEATS)
    return LegPlan(leg=leg, departure=departure, seats_left=left)


def _plan_night(plan, leg, beds) -> LegPlan:
    homestay: Homestay = leg.homestay
    night = leg_day(plan.start_date, leg)
    closed = not homestay.is_active or night in {b.night for b in homestay.blackouts}
    left = 0 if closed else max(homestay.capacity - beds.get((homestay.id, night), 0), 0)
    if closed:
        plan.problems.append(CLOSED_NIGHT)
    elif left < plan.people:
        plan.problems.append(NO_BEDS)
    return LegPlan(leg=leg, night=night, beds_left=left)


def _beds_taken_by_night(session, night_legs, dates, now) -> dict[tuple[int, date], int]:
    if not night_legs:
        return {}
    nights = {leg_day(day, leg) for day in dates for leg in night_legs}
    rows = session.execute(
        select(
            RouteBookingNight.homestay_id,
            RouteBookingNight.night,
            func.sum(RouteBookingNight.people),
        )
        .join(RouteBooking, RouteBookingNight.route_booking_id == RouteBooking.id)
        .where(
            RouteBookingNight.homestay_id.in_({leg.homestay_id for leg in night_legs}),
            RouteBookingNight.night >= min(nights),
            RouteBookingNight.night <= max(nights),
            route_booking_holds(now),
        )
        .group_by(RouteBookingNight.homestay_id, RouteBookingNight.night)
    )
    taken = {(homestay_id, night): int(count) for homestay_id, night, count in rows}
    homestay_ids = {leg.homestay_id for leg in night_legs}
    single = addon_stock.single_beds_by_night(session, homestay_ids, min(nights), max(nights), now)
    for key, count in single.items():
        taken[key] = taken.get(key, 0) + count
    return taken


def bookable_start_dates(
    session: Session,
    route: Route,
    first: date,
    days: int,
    people: int,
    now: datetime,
    cutoff: timedelta,
) -> list[RoutePlan]:
    """The plans of the start dates in ``[first, first + days)`` that can be booked."""
    candidates = [first + timedelta(days=n) for n in range(days)]
    return [p for p in plan_route(session, route, candidates, people, now, cutoff) if p.bookable]
