"""Extras and homestay nights added to a single-experience booking.

``add_to_booking`` checks what the visitor asked for and writes it on the new booking
(prices kept, the total grown) before any lock; ``claim`` then counts, under the locks, in
the order every booking takes them: the departure (``lifecycle`` already holds it), then
homestays by id, then stocked extras by id, exactly as a route booking locks. So stock and
beds are never oversold, whoever sells them, and nothing deadlocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ...errors import DepartureUnavailable, InvalidRequest, SoldOut
from ...models import (
    Booking,
    BookingExtra,
    BookingNight,
    Departure,
    Experience,
    ExperienceExtra,
    Extra,
    Family,
    Homestay,
    NightSide,
)
from ...timefmt import local
from . import addon_stock, availability

#: The most of one extra a booking may take (as on routes).
MAX_EXTRA_QUANTITY = 50


class UnknownExtra(InvalidRequest):
    default_message = _l("That extra is not offered on this experience.")


class BadExtraQuantity(InvalidRequest):
    default_message = _l("Extras must be whole numbers, zero or more.")


class UnknownHomestay(InvalidRequest):
    default_message = _l("That homestay does not take guests with this experience.")


class NightClosed(DepartureUnavailable):
    default_message = _l("The homestay does not take guests that night.")


class NoBedsLeft(SoldOut):
    def __init__(self, left: int) -> None:
        super().__init__(
            _ln(
                "Sorry, the homestay has only %(num)s bed left that night.",
                "Sorry, the homestay has only %(num)s beds left that night.",
                left,
            )
        )


class ExtraSoldOut(SoldOut):
    def __init__(self, name: str, left: int) -> None:
        super().__init__(
            _ln(
                "Sorry, only %(num)s of %(extra)s is left.",
                "Sorry, only %(num)s of %(extra)s are left.",
                left,
                extra=name,
            )
        )


@dataclass
class AddonRequest:
    #: Units wanted per extra id.
    extras: dict[int, int] = field(default_factory=dict)
    #: The homestay chosen for the night before and/or after the departure (``NightSide``).
    nights: dict[str, int] = field(default_factory=dict)


def offered_extras(experience: Experience) -> list[Extra]:
    """The extras on the experience's booking form: active, of its own association."""
    return [
        extra
        for extra in experience.extras
        if extra.is_active and extra.association_id == experience.association_id
    ]


def offered_homestays(session: Session, experience: Experience) -> list[Homestay]:
    """The homestays a visitor may add a night at: the active ones of the experience's
    association's families."""
    return list(
        session.scalars(
            select(Homestay)
            .join(Family, Family.id == Homestay.family_id)
            .where(Family.association_id == experience.association_id, Homestay.is_active)
            .order_by(Homestay.name, Homestay.id)
        )
    )


def quote_cents(
    experience: Experience, homestays: list[Homestay], request: AddonRequest, people: int
) -> int:
    """What the extras and nights asked for add to the quote, counted as the booking form's
    script counts them: what is not offered, or not a whole number in range, counts 0."""
    prices = {extra.id: extra.price_cents for extra in offered_extras(experience)}
    night_prices = {h.id: h.price_cents_per_person_night for h in homestays}
    cents = sum(
        prices[extra_id] * quantity
        for extra_id, quantity in request.extras.items()
        if extra_id in prices and isinstance(quantity, int) and 0 <= quantity <= MAX_EXTRA_QUANTITY
    )
    for side, homestay_id in request.nights.items():
        if side in NightSide.__members__.values() and homestay_id in night_prices:
            cents += night_prices[homestay_id] * max(people, 0)
    return cents


def night_of(departure: Departure, side: str):
    """The night a homestay night on ``side`` of the departure is: the evening before its
    local date, or the evening of it."""
    day = local(departure.starts_at).date()
    return day - timedelta(days=1) if side == NightSide.BEFORE else day


def _wanted_extras(experience: Experience, request: AddonRequest) -> list[tuple[Extra, int]]:
    """The extras asked for with how many of each (none at 0), checked: ``UnknownExtra``
    or ``BadExtraQuantity`` for one that cannot be sold."""
    offered = {extra.id: extra for extra in offered_extras(experience)}
    wanted = []
    for extra_id, quantity in sorted(request.extras.items()):
        if extra_id not in offered:
            raise UnknownExtra()
        if not isinstance(quantity, int) or not 0 <= quantity <= MAX_EXTRA_QUANTITY:
            raise BadExtraQuantity()
        if quantity:
            wanted.append((offered[extra_id], quantity))
    return wanted


def adds_anything(departure: Departure, request: AddonRequest | None) -> bool:
    """Whether ``request`` adds an extra or a night to a booking on ``departure``; its
    extras are checked as ``add_to_booking`` checks them (a form that sends every extra at
    0 adds nothing, and a booking of tickets alone is written without the ORM)."""
    if request is None:
        return False
    if request.nights:
        return True
    # No extra sent at all: nothing to check, and the extras are not read.
    return bool(request.extras) and bool(_wanted_extras(departure.experience, request))


def asks_for_any(request: AddonRequest | None) -> bool:
    """Whether ``request`` asks for a night, or for an extra at anything but 0 (an amount
    that ``adds_anything`` then checks): a booking form sends every extra it offers, at 0
    when none is wanted."""
    if request is None:
        return False
    return bool(request.nights) or not all(
        isinstance(quantity, int) and quantity == 0 for quantity in request.extras.values()
    )


#: The ids of the extras an experience offers (``offered_extras``), built once.
_OFFERED_EXTRA_IDS = (
    select(Extra.id)
    .join(ExperienceExtra, ExperienceExtra.extra_id == Extra.id)
    .where(
        ExperienceExtra.experience_id == bindparam("experience_id"),
        Extra.is_active.is_(True),
        Extra.association_id == bindparam("association_id"),
    )
)


def check_offered(session: Session, experience, request: AddonRequest | None) -> None:
    """For a ``request`` that asks for nothing (``asks_for_any`` is false): raise
    ``UnknownExtra`` when it names an extra the experience does not offer, as
    ``adds_anything`` would. ``experience``: its ``id`` and ``association_id`` are read."""
    if request is None or not request.extras:
        return
    params = {"experience_id": experience.id, "association_id": experience.association_id}
    offered = set(session.scalars(_OFFERED_EXTRA_IDS, params))
    if not offered.issuperset(request.extras):
        raise UnknownExtra()


def add_to_booking(
    session: Session, booking: Booking, departure: Departure, request: AddonRequest | None
) -> int:
    """Check the extras and nights asked for and add them to ``booking`` (not yet counted
    against stock or beds: ``claim`` does, under the locks); returns the cents they add."""
    if request is None:
        return 0
    experience = departure.experience
    for extra, quantity in _wanted_extras(experience, request):
        booking.extras.append(
            BookingExtra(extra=extra, quantity=quantity, unit_price_cents=extra.price_cents)
        )
    people = sum(line.quantity for line in booking.lines)
    homestays = {h.id: h for h in offered_homestays(session, experience)} if request.nights else {}
    for side, homestay_id in sorted(request.nights.items()):
        homestay = homestays.get(homestay_id)
        if side not in NightSide.__members__.values() or homestay is None:
            raise UnknownHomestay()
        booking.nights.append(
            BookingNight(
                homestay=homestay,
                night=night_of(departure, side),
                side=NightSide(side),
                people=people,
                unit_price_cents=homestay.price_cents_per_person_night,
                currency=homestay.currency,
            )
        )
    return booking.addons_cents


def claim(session: Session, booking: Booking, now: datetime) -> None:
    """With the departure locked by the caller: lock the booking's homestays, then its
    stocked extras, by id, and check that this booking (already inserted) still fits."""
    nights = sorted(booking.nights, key=lambda n: (n.homestay_id, n.night))
    for homestay_id in sorted({night.homestay_id for night in nights}):
        homestay = availability.lock_homestay(session, homestay_id)
        closed = {b.night for b in homestay.blackouts}
        for night in (n for n in nights if n.homestay_id == homestay_id):
            if not homestay.is_active or night.night in closed:
                raise NightClosed()
            taken = addon_stock.beds_taken(session, homestay_id, night.night, now)
            if taken > homestay.capacity:
                raise NoBedsLeft(left=max(homestay.capacity - (taken - night.people), 0))
    for item in sorted(booking.extras, key=lambda e: e.extra_id):
        if item.extra.stock is None:
            continue
        extra = availability.lock_extra(session, item.extra_id)
        scope = booking.departure_id if extra.stock_per_departure else None
        sold = addon_stock.extra_units_sold(session, extra.id, now, scope)
        if extra.stock is not None and sold > extra.stock:
            raise ExtraSoldOut(
                name=extra.name(booking.language),
                left=max(extra.stock - (sold - item.quantity), 0),
            )
