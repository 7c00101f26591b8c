"""A family's homestays as the association keeps them (one or several: two houses,
separate cabins; beds, price per person and night, meals, blackout nights, retired), the
coordinates of homestays and stops, and the list of who sleeps at a family's homes on which
night."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ...errors import InvalidRequest, NotFound
from ...models import (
    Booking,
    BookingNight,
    BookingStatus,
    Departure,
    Experience,
    Family,
    Homestay,
    HomestayBlackout,
    Route,
    RouteBooking,
    RouteBookingLeg,
    RouteBookingNight,
)
from ..booking.addon_stock import booking_holds, route_booking_holds
from ..catalog.experience_input import whole

MAX_BEDS = 100
#: The most a night can cost one person (cents).
MAX_NIGHT_CENTS = 1_000_00


@dataclass(frozen=True)
class HomestayInput:
    name: str
    description_es: str
    description_en: str
    capacity: int
    price_cents_per_person_night: int
    meals_included: bool
    is_active: bool


def family_homestays(session: Session, family: Family) -> list[Homestay]:
    """Every homestay of the family (two houses, separate cabins…): those taking guests
    first, then the retired ones, each by name."""
    return list(
        session.scalars(
            select(Homestay)
            .where(Homestay.family_id == family.id)
            .options(selectinload(Homestay.blackouts))
            .order_by(Homestay.is_active.desc(), Homestay.name, Homestay.id)
        )
    )


def save_homestay(
    session: Session, family: Family, homestay: Homestay | None, data: HomestayInput
) -> Homestay:
    """Add a homestay to the family (``homestay`` None), or change one of its homestays.
    Beds and price apply to bookings made from now on; nights already booked keep their
    price and count against the beds. Names tell a family's homestays apart: two of one
    family cannot share one."""
    name = data.name.strip()
    if not name:
        raise InvalidRequest(_l("A homestay needs a name."))
    whole(data.capacity, 1, MAX_BEDS, _l("Beds: a number from 1 to %(num)s.", num=MAX_BEDS))
    whole(
        data.price_cents_per_person_night,
        1,
        MAX_NIGHT_CENTS,
        _l("Write a price above zero, like 25 or 25.50."),
    )
    if homestay is not None and homestay.family_id != family.id:
        raise NotFound()
    same_name = select(Homestay.id).where(
        Homestay.family_id == family.id, func.lower(Homestay.name) == name.lower()
    )
    if homestay is not None:
        same_name = same_name.where(Homestay.id != homestay.id)
    if session.scalar(same_name.limit(1)) is not None:
        raise InvalidRequest(_l("This family already has a homestay with that name."))
    if homestay is None:
        homestay = Homestay(
            family_id=family.id, capacity=data.capacity, price_cents_per_person_night=0
        )
        session.add(homestay)
    homestay.name = name
    homestay.description_es = data.description_es.strip()
    homestay.description_en = data.description_en.strip()
    homestay.capacity = data.capacity
    homestay.price_cents_per_person_night = data.price_cents_per_person_night
    homestay.meals_included = data.meals_included
    homestay.is_active = data.is_active
    session.flush()
    return homestay


def retire_homestay(session: Session, homestay: Homestay) -> None:
    """The homestay takes no new guests: it leaves the booking forms, the route composer
    and the dates a route can start on; nights already booked stay booked (its guests are
    still listed) and count as before. Editing it with "takes guests" opens it again."""
    homestay.is_active = False
    session.flush()


def add_blackout(session: Session, homestay: Homestay, night: date, today: date) -> None:
    """A night the family takes no guests; refused for a past night, or one already booked
    (the family is told who comes instead of being silently closed)."""
    if night < today:
        raise InvalidRequest(_l("Choose a night from today on."))
    if night in {b.night for b in homestay.blackouts}:
        raise InvalidRequest(_l("That night is already closed."))
    booked = session.scalar(
        select(RouteBookingNight.id)
        .join(RouteBooking, RouteBooking.id == RouteBookingNight.route_booking_id)
        .where(
            RouteBookingNight.homestay_id == homestay.id,
            RouteBookingNight.night == night,
            RouteBooking.status.in_([BookingStatus.CONFIRMED, BookingStatus.HELD]),
        )
        .limit(1)
    )
    if booked is not None:
        raise InvalidRequest(
            _l("Guests are booked that night: close it only after talking to them.")
        )
    homestay.blackouts.append(HomestayBlackout(night=night))
    session.flush()


def remove_blackout(session: Session, homestay: Homestay, blackout_id: int) -> None:
    for blackout in homestay.blackouts:
        if blackout.id == blackout_id:
            homestay.blackouts.remove(blackout)
            session.flush()
            return
    raise NotFound()


def parse_coordinates(latitude: str, longitude: str) -> tuple[Decimal | None, Decimal | None]:
    """Two decimal degrees (both, or neither to clear them), six decimals at most."""
    latitude, longitude = (latitude or "").strip(), (longitude or "").strip()
    if not latitude and not longitude:
        return None, None
    bad = InvalidRequest(
        _l("Write the latitude and the longitude in decimal degrees, like -0.99 and -77.81.")
    )
    if not latitude or not longitude:
        raise bad
    try:
        lat, lon = Decimal(latitude), Decimal(longitude)
    except InvalidOperation as exc:
        raise bad from exc
    if not (lat.is_finite() and lon.is_finite()) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise bad
    return round(lat, 6), round(lon, 6)


def set_coordinates(place, latitude: str, longitude: str, approximate: bool) -> None:
    """A stop's or a homestay's coordinates; ``approximate`` marks a place given roughly
    (demo values always are)."""
    place.latitude, place.longitude = parse_coordinates(latitude, longitude)
    place.location_is_approximate = bool(approximate) if place.latitude is not None else False


@dataclass(frozen=True)
class Guest:
    night: date
    homestay: Homestay
    people: int
    #: Who booked: a ``RouteBooking``, or the ``Booking`` of a single experience the night
    #: was added to (both have the contact, language, status and reference).
    party: RouteBooking | Booking
    #: Dietary and other needs the visitor gave (kept on the leg bookings).
    needs: str

    @property
    def route_booking(self) -> RouteBooking | None:
        return self.party if isinstance(self.party, RouteBooking) else None

    def trip_title(self, locale: str) -> str:
        """The route, or the experience the night goes with."""
        if isinstance(self.party, RouteBooking):
            text = self.party.route.text(locale)
            return text.title if text else self.party.route.slug
        experience = self.party.departure.experience
        text = experience.text(locale)
        return text.title if text else experience.slug


def guests(session: Session, family: Family, since: date, now: datetime) -> list[Guest]:
    """Who sleeps at the family's homes from ``since`` on, night by night: confirmed route
    bookings, and single bookings a night was added to, and holds still running, with their
    contact and needs (dietary included)."""
    rows = session.execute(
        select(RouteBookingNight, RouteBooking)
        .join(RouteBooking, RouteBooking.id == RouteBookingNight.route_booking_id)
        .join(Homestay, Homestay.id == RouteBookingNight.homestay_id)
        .where(
            Homestay.family_id == family.id,
            RouteBookingNight.night >= since,
            route_booking_holds(now),
        )
        .options(
            joinedload(RouteBookingNight.homestay),
            joinedload(RouteBooking.route).selectinload(Route.texts),
            selectinload(RouteBooking.legs).joinedload(RouteBookingLeg.booking),
        )
        .order_by(RouteBookingNight.night, RouteBooking.reference)
    ).all()
    found = [Guest(n.night, n.homestay, n.people, rb, route_booking_needs(rb)) for n, rb in rows]
    singles = session.execute(
        select(BookingNight, Booking)
        .join(Booking, Booking.id == BookingNight.booking_id)
        .join(Homestay, Homestay.id == BookingNight.homestay_id)
        .where(Homestay.family_id == family.id, BookingNight.night >= since, booking_holds(now))
        .options(
            joinedload(BookingNight.homestay),
            joinedload(Booking.departure)
            .joinedload(Departure.experience)
            .selectinload(Experience.texts),
        )
    ).all()
    found += [Guest(n.night, n.homestay, n.people, b, b.special_needs) for n, b in singles]
    return sorted(found, key=lambda g: (g.night, g.party.reference))


def route_booking_needs(route_booking: RouteBooking) -> str:
    """The needs (dietary included) the visitor gave, kept on the route's leg bookings."""
    return next(
        (leg.booking.special_needs for leg in route_booking.legs if leg.booking.special_needs), ""
    )
