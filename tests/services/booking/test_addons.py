"""Extras and homestay nights on a single-experience booking: held with the seats, under
the same locks, never beyond the extra's stock or the homestay's beds, and freed with the
booking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.sql_log import statements_run
from tourism.database import utcnow, write_transactions
from tourism.errors import InvalidRequest, SoldOut
from tourism.models import (
    Booking,
    BookingExtra,
    BookingNight,
    BookingStatus,
    Departure,
    HomestayBlackout,
)
from tourism.services.booking import addon_stock, addons
from tourism.services.booking import lifecycle as svc
from tourism.timefmt import local

from .test_lifecycle import HOLD, LANGS, request_for


@pytest.fixture(autouse=True)
def write_mode():
    with write_transactions():
        yield


class Shop:
    def __init__(self, session, make) -> None:
        self.session, self.make = session, make
        self.association = make.association()
        self.experience = make.experience(self.association)
        self.departure = make.departure(self.experience, capacity=20)
        self.family = make.family(self.association)
        self.lunch = make.route_extra(self.association, price=750, family=self.family)
        self.box = make.route_extra(self.association, price=1200, stock=3)
        self.experience.extras = [self.lunch, self.box]
        self.homestay = make.homestay(self.family, capacity=3, price=2500)
        session.flush()

    def hold(self, extras=None, nights=None, departure=None, now=None, **qty):
        request = request_for(departure or self.departure, **(qty or {"adult": 2}))
        request.addons = addons.AddonRequest(extras=extras or {}, nights=nights or {})
        return svc.hold_seats(self.session, request, now or utcnow(), HOLD, LANGS)


@pytest.fixture
def shop(session, make) -> Shop:
    return Shop(session, make)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_extras_and_nights_are_held_with_the_seats_and_priced(session, shop):
    booking = shop.hold(
        extras={shop.lunch.id: 2, shop.box.id: 1},
        nights={"before": shop.homestay.id, "after": shop.homestay.id},
        adult=1,
        child=1,
    )
    assert booking.status == BookingStatus.HELD
    tickets = 4500 + 2500
    assert booking.addons_cents == 2 * 750 + 1200 + 2 * 2 * 2500
    assert booking.total_cents == tickets + booking.addons_cents
    assert booking.tickets_cents == tickets
    day = local(shop.departure.starts_at).date()
    assert [
        (n.side.value, n.night, n.people) for n in sorted(booking.nights, key=lambda n: n.night)
    ] == [
        ("before", day - timedelta(days=1), 2),
        ("after", day, 2),
    ]
    assert addon_stock.extra_units_left(session, shop.box, utcnow()) == 2


@pytest.mark.parametrize(
    "extras, nights",
    [
        ({999_999: 1}, {}),
        ({"lunch": -1}, {}),
        ({"lunch": 51}, {}),
        ({}, {"before": 999_999}),
        ({}, {"sideways": "homestay"}),
    ],
)
def test_bad_addons_are_refused_and_nothing_is_written(session, shop, extras, nights):
    extras = {shop.lunch.id if k == "lunch" else k: v for k, v in extras.items()}
    nights = {k: shop.homestay.id if v == "homestay" else v for k, v in nights.items()}
    before = count(session, Booking)
    with pytest.raises(InvalidRequest) as raised:
        shop.hold(extras=extras, nights=nights)
    assert raised.value.status_code == 400
    assert count(session, Booking) == before
    assert count(session, BookingExtra) == 0 and count(session, BookingNight) == 0


def test_an_extra_not_offered_on_the_experience_is_refused(session, shop, make):
    other = make.route_extra(shop.association, price=100)  # same association, not offered
    foreign = make.route_extra(make.association(), price=100)
    shop.experience.extras.append(foreign)  # another association's: never offered here
    session.flush()
    for extra in (other, foreign):
        with pytest.raises(addons.UnknownExtra):
            shop.hold(extras={extra.id: 1})


def test_another_associations_homestay_is_refused(session, shop, make):
    elsewhere = make.homestay(make.family(make.association()))
    with pytest.raises(addons.UnknownHomestay):
        shop.hold(nights={"after": elsewhere.id})


def test_an_extra_is_never_sold_beyond_its_stock(session, shop):
    shop.hold(extras={shop.box.id: 2})
    before = count(session, Booking)
    with pytest.raises(addons.ExtraSoldOut) as raised:
        shop.hold(extras={shop.box.id: 2})
    assert raised.value.status_code == 409
    assert "1" in str(raised.value)
    assert count(session, Booking) == before
    shop.hold(extras={shop.box.id: 1})  # the last one
    assert addon_stock.extra_units_left(session, shop.box, utcnow()) == 0


def test_stock_is_one_pool_with_route_bookings(session, shop, make):
    route = make.route()
    route.extras.append(shop.box)
    session.flush()
    from tests.services.routes.helpers import request_for as route_request
    from tests.services.routes.helpers import start_of
    from tourism.services.routes import booking as route_booking

    route_booking.book_route(
        session,
        route_request(route, start_of(route), people=1, extras={shop.box.id: 2}),
        utcnow(),
        LANGS,
    )
    with pytest.raises(addons.ExtraSoldOut):
        shop.hold(extras={shop.box.id: 2})


def test_a_stock_per_departure_counts_each_departure_apart(session, shop, make):
    shop.box.stock_per_departure = True
    other = make.departure(shop.experience, starts_in=timedelta(days=6))
    shop.hold(extras={shop.box.id: 3})
    with pytest.raises(addons.ExtraSoldOut):
        shop.hold(extras={shop.box.id: 1})
    shop.hold(extras={shop.box.id: 3}, departure=other)
    left = addon_stock.extra_units_left(session, shop.box, utcnow(), other.id)
    assert left == 0


def test_a_homestay_night_respects_beds_and_blackouts(session, shop):
    shop.hold(nights={"after": shop.homestay.id}, adult=2)
    with pytest.raises(addons.NoBedsLeft) as raised:
        shop.hold(nights={"after": shop.homestay.id}, adult=2)
    assert raised.value.status_code == 409
    shop.hold(nights={"after": shop.homestay.id}, adult=1)  # the third bed
    day = local(shop.departure.starts_at).date()
    shop.homestay.blackouts.append(HomestayBlackout(night=day - timedelta(days=1)))
    session.flush()
    with pytest.raises(addons.NightClosed):
        shop.hold(nights={"before": shop.homestay.id}, adult=1)


def test_an_expired_or_cancelled_booking_frees_its_stock_and_beds(session, shop):
    booking = shop.hold(extras={shop.box.id: 3}, nights={"after": shop.homestay.id}, adult=3)
    later = utcnow() + HOLD + timedelta(minutes=1)
    assert addon_stock.extra_units_left(session, shop.box, later) == 3
    night = booking.nights[0].night
    assert addon_stock.beds_taken(session, shop.homestay.id, night, later) == 0
    svc.cancel_booking(session, booking, utcnow())
    assert addon_stock.extra_units_left(session, shop.box, utcnow()) == 3
    assert addon_stock.beds_taken(session, shop.homestay.id, night, utcnow()) == 0


def test_route_plans_count_beds_sold_with_single_bookings(session, shop, make):
    route = make.route(beds=(2, 2))
    from tests.services.routes.helpers import start_of
    from tourism.services.routes import availability

    start = start_of(route)
    night_leg = next(leg for leg in route.legs if leg.homestay_id)
    night = availability.leg_day(start, night_leg)
    experience = shop.experience
    # A departure of the shop's experience whose "night after" is the route's night.
    departure = make.departure(
        experience, starts_at=availability.leg_starts_at(night, route.legs[0])
    )
    experience.association_id = night_leg.homestay.family.association_id
    session.flush()
    shop.hold(nights={"after": night_leg.homestay_id}, departure=departure, adult=1)
    (plan,) = availability.plan_route(session, route, [start], 2, utcnow(), svc.DEFAULT_CUTOFF)
    assert availability.NO_BEDS in plan.problems


def test_sold_out_is_a_sold_out(shop):
    assert issubclass(addons.ExtraSoldOut, SoldOut) and issubclass(addons.NoBedsLeft, SoldOut)


def seats_confirmed(session, departure) -> int:
    return session.scalar(select(Departure.seats_confirmed).where(Departure.id == departure.id))


def hold_on_arrival(shop, extras):
    request = request_for(shop.departure, adult=2)
    request.addons = addons.AddonRequest(extras=extras)
    return svc.hold_seats(shop.session, request, utcnow(), HOLD, LANGS, accept_unpaid=True)


def test_a_pay_on_arrival_booking_with_extras_is_confirmed_with_their_total(session, shop):
    booking = hold_on_arrival(shop, {shop.lunch.id: 2, shop.box.id: 1})
    assert booking.status == BookingStatus.CONFIRMED and booking.hold_expires_at is None
    tickets = sum(line.amount_cents for line in booking.lines)
    assert booking.total_cents == tickets + 2 * 750 + 1200
    assert booking.addons_cents == 2 * 750 + 1200 and booking.online_due_cents == 0
    session.commit()
    assert seats_confirmed(session, shop.departure) == 2


def test_an_extra_sold_out_leaves_the_booking_and_its_seats_behind(session, shop):
    hold_on_arrival(shop, {shop.box.id: 3})
    session.commit()
    bookings, extras = count(session, Booking), count(session, BookingExtra)
    with pytest.raises(addons.ExtraSoldOut):
        hold_on_arrival(shop, {shop.box.id: 1, shop.lunch.id: 1})
    # Even for a caller that commits after catching it: no booking, no extra, no seats.
    session.commit()
    assert (count(session, Booking), count(session, BookingExtra)) == (bookings, extras)
    assert seats_confirmed(session, shop.departure) == 2


def test_extras_all_at_zero_are_a_booking_of_tickets_alone(session, shop):
    """A booking form sends every extra it offers, at 0 when none is wanted: that booking is
    written like any booking of tickets alone (``hold_rows``), the extras still checked."""
    with statements_run(session) as statements:
        booking = hold_on_arrival(shop, {shop.lunch.id: 0, shop.box.id: 0})
    assert booking.status == BookingStatus.CONFIRMED and booking.extras == []
    assert booking.total_cents == sum(line.amount_cents for line in booking.lines)
    assert not any("booking_extras" in statement for statement in statements)
    assert not any("UPDATE bookings" in statement for statement in statements)
    with pytest.raises(addons.UnknownExtra):
        hold_on_arrival(shop, {shop.lunch.id: 0, 999999: 0})
    with pytest.raises(addons.BadExtraQuantity):
        hold_on_arrival(shop, {shop.lunch.id: -1})
