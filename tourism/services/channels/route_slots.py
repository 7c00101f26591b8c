"""Start dates of a route as OCTO availability: each date is a slot whose id is the date
(``YYYY-MM-DD``). It is open only when every leg has its departure with seats and every
night its beds (``routes.availability.plan_route``, counted as the website counts them);
its vacancies are the fewest seats or beds left over the legs, its capacity the smallest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from ...models import LegKind, Reseller, Route
from ..booking.lifecycle import DEFAULT_CUTOFF
from ..routes import availability as route_availability
from . import octo_errors as errors
from . import route_units
from .products import Capabilities, day_range, local_text, parse_day, utc_text
from .route_products import parse_start

#: What stops a date whatever the party's size (as opposed to too few seats or beds).
CLOSING = (
    route_availability.NO_DEPARTURE,
    route_availability.DEPARTURE_CANCELLED,
    route_availability.TOO_LATE,
    route_availability.CLOSED_NIGHT,
)


@dataclass(frozen=True)
class RouteSlot:
    """One start date of a route: when it begins and ends, its room and its OCTO status."""

    start_date: date
    starts_at: datetime | None
    ends_at: datetime | None
    vacancies: int
    capacity: int
    status: str
    #: Every activity leg has its departure that day (else the date is only in the calendar).
    complete: bool


def _slot(plan: route_availability.RoutePlan) -> RouteSlot:
    rooms = []
    for leg in plan.legs:
        if leg.leg.kind == LegKind.EXPERIENCE:
            capacity = leg.departure.capacity if leg.departure is not None else 0
            rooms.append((leg.seats_left, capacity))
        else:
            rooms.append((leg.beds_left, leg.leg.homestay.capacity))
    vacancies = min((left for left, _ in rooms), default=0)
    capacity = min((cap for _, cap in rooms), default=0)
    departures = plan.departures
    if any(problem is closing for problem in plan.problems for closing in CLOSING):
        status = "CLOSED"
    elif vacancies <= 0:
        status = "SOLD_OUT"
    elif vacancies * 2 < capacity:
        status = "LIMITED"
    else:
        status = "AVAILABLE"
    return RouteSlot(
        start_date=plan.start_date,
        starts_at=min((d.starts_at for d in departures), default=None),
        ends_at=max((d.ends_at for d in departures), default=None),
        vacancies=vacancies,
        capacity=capacity,
        status=status,
        complete=not any(p is route_availability.NO_DEPARTURE for p in plan.problems),
    )


def slots(session: Session, route: Route, dates: list[date], now: datetime) -> list[RouteSlot]:
    """Every date of ``dates`` with its room (counted as the website counts it) and status."""
    plans = route_availability.plan_route(session, route, dates, 1, now, DEFAULT_CUTOFF)
    return [_slot(plan) for plan in plans]


def days(first: date, last: date) -> list[date]:
    day_range(first, last)  # refuses a span backwards or too long
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def calendar_dates(body: dict) -> list[date]:
    """The start dates an availability calendar request asks about."""
    first = parse_day(body.get("localDateStart"), "localDateStart")
    return days(first, parse_day(body.get("localDateEnd"), "localDateEnd"))


def _as_date(text: str) -> date | None:
    try:
        return parse_start(text)
    except errors.OctoError:
        return None


def asked_dates(body: dict) -> list[date]:
    """The start dates an availability request asks about: by id (a start date), one local
    date, or a span of them."""
    ids = body.get("availabilityIds")
    if ids is not None:
        if not isinstance(ids, list) or len(ids) > 500 or not all(isinstance(i, str) for i in ids):
            raise errors.bad_request("availabilityIds must be a list of ids")
        # Ids that are no start date name no slot: left out, as unknown departure ids are.
        return [day for day in (_as_date(i) for i in ids) if day is not None]
    if body.get("localDate") is not None:
        return [parse_day(body.get("localDate"), "localDate")]
    if body.get("localDateStart") is not None or body.get("localDateEnd") is not None:
        return calendar_dates(body)
    raise errors.bad_request(
        "either localDate, localDateStart/localDateEnd or availabilityIds is required"
    )


def availability(
    slot: RouteSlot,
    route: Route,
    reseller: Reseller,
    caps: Capabilities,
    units: dict[str, int] | None,
) -> dict:
    """OCTO's availability object of one start date (one that has every departure), with
    ``octo/pricing`` each unit's price per person and the price of ``units`` asked."""
    wanted = sum((units or {}).values())
    open_ = (
        slot.status in ("AVAILABLE", "LIMITED")
        and wanted <= slot.vacancies
        and wanted <= route.max_people_per_booking
    )
    data = {
        "id": slot.start_date.isoformat(),
        "localDateTimeStart": local_text(slot.starts_at),
        "localDateTimeEnd": local_text(slot.ends_at),
        "allDay": False,
        "available": open_,
        "status": slot.status
        if open_ or slot.status not in ("AVAILABLE", "LIMITED")
        else "SOLD_OUT",
        "vacancies": slot.vacancies,
        "capacity": slot.capacity,
        "maxUnits": min(route.max_people_per_booking, slot.vacancies),
        "utcCutoffAt": utc_text(slot.starts_at - DEFAULT_CUTOFF),
        "openingHours": [],
    }
    if caps.pricing:
        prices = route_units.unit_prices(route, reseller.commission_bp)
        data["unitPricing"] = [{"unitId": code} | price.octo() for code, price in prices.items()]
        if wanted:
            data["pricing"] = route_units.total_price(prices, units, route.currency)
    return data


def calendar_entry(slot: RouteSlot, route: Route, units: dict[str, int] | None) -> dict:
    people = sum((units or {}).values())
    fits = (
        slot.status in ("AVAILABLE", "LIMITED")
        and slot.vacancies >= max(people or 0, 1)
        and people <= route.max_people_per_booking
    )
    status = slot.status
    if status in ("AVAILABLE", "LIMITED") and not fits:
        status = "SOLD_OUT"
    return {
        "localDate": slot.start_date.isoformat(),
        "available": fits,
        "status": status,
        "vacancies": slot.vacancies if status != "CLOSED" else 0,
        "capacity": slot.capacity if slot.starts_at is not None else 0,
        "openingHours": [],
    }
