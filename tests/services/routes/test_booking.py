"""Booking a whole route: all legs, nights and extras held together, or nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tourism.database import utcnow
from tourism.errors import InvalidRequest, NotFound, SoldOut
from tourism.models import (
    Booking,
    BookingStatus,
    Departure,
    HomestayBlackout,
    RouteBooking,
    RouteBookingNight,
)
from tourism.services.booking import availability as seats
from tourism.services.routes import availability, booking, changes, claims, shape, tickets

from .helpers import LANGS, english, request_for, start_of


def book(session, route, start=None, **kw):
    start = start or start_of(route)
    return booking.book_route(session, request_for(route, start, **kw), utcnow(), LANGS)


def counts(session):
    return (
        session.scalar(select(func.count()).select_from(RouteBooking)),
        session.scalar(select(func.count()).select_from(Booking)),
        session.scalar(select(func.count()).select_from(RouteBookingNight)),
    )


def test_booking_a_route_books_every_leg_night_and_extra(session, make):
    route = make.route()
    chocolate = make.route_extra(price=1200, stock=10)
    route.extras.append(chocolate)
    session.flush()
    rb = book(session, route, people=2, extras={chocolate.id: 3})
    assert rb.status == BookingStatus.CONFIRMED  # paid on arrival
    assert rb.reference.startswith("RUT-")
    assert len(rb.legs) == 3 and len(rb.nights) == 2 and len(rb.extras) == 1
    # Each leg is an ordinary booking of its association, with that association's reference.
    for booking_leg in rb.legs:
        leg_booking = booking_leg.booking
        assert leg_booking.status == BookingStatus.CONFIRMED
        assert leg_booking.participants == 2
        code = leg_booking.departure.experience.association.code
        assert leg_booking.reference.startswith(code + "-")
    # Sum of legs: 3 experiences x 2 x 45.00, 2 nights x 2 x 25.00, 3 chocolate boxes x 12.00.
    assert rb.total_cents == 3 * 2 * 4500 + 2 * 2 * 2500 + 3 * 1200
    assert [n.night for n in rb.nights] == [rb.start_date, rb.start_date + timedelta(days=1)]
    for departure in (bl.booking.departure for bl in rb.legs):
        assert seats.seats_left(session, departure, utcnow()) == 8
    assert availability.extra_units_left(session, chocolate, utcnow()) == 7


def test_the_curator_fee_is_its_own_part_of_the_total(session, make):
    route = make.route(curator_fee_cents=300)
    rb = book(session, route, people=2)
    assert rb.curator_fee_cents == 600
    assert rb.total_cents == 3 * 2 * 4500 + 2 * 2 * 2500 + 600


def test_a_full_leg_stops_the_whole_route_and_nothing_is_written(session, make):
    route = make.route(capacities=(10, 3, 10))
    before = counts(session)
    with pytest.raises(SoldOut):
        book(session, route, people=4)
    assert counts(session) == before


def test_a_full_night_stops_the_whole_route(session, make):
    route = make.route(beds=(4, 1))
    before = counts(session)
    with pytest.raises(claims.NotEnoughBeds):
        book(session, route, people=2)
    assert counts(session) == before


def test_a_blackout_night_stops_the_route(session, make):
    route = make.route()
    start = start_of(route)
    night_leg = route.legs[1]
    session.add(HomestayBlackout(homestay_id=night_leg.homestay_id, night=start))
    session.flush()
    with pytest.raises(booking.RouteUnavailable) as raised:
        book(session, route, start=start)
    assert "homestay does not take guests" in english(raised.value)


def test_the_last_beds_go_to_one_route_then_the_next_is_refused(session, make):
    route = make.route(beds=(3, 3))
    book(session, route, people=3)
    with pytest.raises(claims.NotEnoughBeds):
        book(session, route, people=1)


def test_ordinary_bookings_and_route_bookings_share_the_seats(session, make):
    route = make.route(capacities=(10, 4, 10))
    start = start_of(route)
    shared = session.scalars(
        select(Departure).where(Departure.experience_id == route.legs[2].experience_id)
    ).one()
    make.booking(shared, quantities={"adult": 3})
    with pytest.raises(SoldOut) as raised:
        book(session, route, start=start, people=2)
    assert "1 seat is left" in english(raised.value)
    book(session, route, start=start, people=1)
    assert seats.seats_left(session, shared, utcnow()) == 0


def test_extras_over_stock_are_refused_with_what_is_left(session, make):
    route = make.route()
    guayusa = make.route_extra(stock=2, name_en="guayusa pack", name_es="paquete de guayusa")
    route.extras.append(guayusa)
    session.flush()
    before = counts(session)
    with pytest.raises(claims.ExtraOverStock) as raised:
        book(session, route, extras={guayusa.id: 3})
    assert "only 2 of paquete de guayusa" in english(raised.value)
    assert counts(session) == before


def test_an_extra_not_on_the_route_is_refused(session, make):
    route = make.route()
    elsewhere = make.route_extra()
    with pytest.raises(booking.UnknownExtra):
        book(session, route, extras={elsewhere.id: 1})


@pytest.mark.parametrize("quantity", [-1, 51, "2"])
def test_odd_extra_quantities_are_refused(session, make, quantity):
    route = make.route()
    extra = make.route_extra()
    route.extras.append(extra)
    session.flush()
    with pytest.raises(booking.BadExtraQuantity):
        book(session, route, extras={extra.id: quantity})


def test_a_leg_in_the_past_is_refused(session, make):
    route = make.route(start_date=(utcnow() - timedelta(days=1)).date())
    before = counts(session)
    with pytest.raises(booking.LegInThePast):
        book(session, route)
    assert counts(session) == before


def test_a_date_without_departures_is_refused(session, make):
    route = make.route()
    with pytest.raises(booking.RouteUnavailable) as raised:
        book(session, route, start=start_of(route) + timedelta(days=1))
    assert "does not run that day" in english(raised.value)


def test_a_leg_of_an_association_that_did_not_approve_is_refused(session, make):
    route = make.route()
    route.participations[1].status = "declined"
    session.flush()
    before = counts(session)
    with pytest.raises(shape.RouteNotApproved) as raised:
        book(session, route)
    assert route.participations[1].association.name in english(raised.value)
    assert counts(session) == before


@pytest.mark.parametrize("people", [0, 9, -2])
def test_people_out_of_range(session, make, people):
    with pytest.raises(booking.PeopleOutOfRange):
        book(session, make.route(), people=people)


def test_card_is_not_offered_yet(session, make):
    with pytest.raises(InvalidRequest):
        book(session, make.route(), payment_method="card")


def test_cancelling_a_route_frees_every_seat_bed_and_extra(session, make):
    route = make.route(beds=(2, 2))
    extra = make.route_extra(stock=2)
    route.extras.append(extra)
    session.flush()
    rb = book(session, route, people=2, extras={extra.id: 2})
    changes.cancel_route_booking(session, rb, utcnow())
    assert rb.status == BookingStatus.CANCELLED
    assert {bl.booking.status for bl in rb.legs} == {BookingStatus.CANCELLED}
    assert availability.extra_units_left(session, extra, utcnow()) == 2
    book(session, route, people=2, extras={extra.id: 2})  # everything free again


def test_a_cancelled_route_cannot_be_cancelled_again(session, make):
    rb = book(session, make.route())
    changes.cancel_route_booking(session, rb, utcnow())
    with pytest.raises(changes.CannotCancelRoute):
        changes.cancel_route_booking(session, rb, utcnow())


def test_find_by_token(session, make):
    rb = book(session, make.route())
    assert changes.find_route_booking(session, rb.manage_token) is rb
    with pytest.raises(NotFound):
        changes.find_route_booking(session, "x" * 43)


# Price categories on a route ---------------------------------------------------------------


def test_children_pay_each_activitys_child_price_and_adult_where_it_has_none(session, make):
    from tourism.models import PriceCategory

    route = make.route()
    experiences = [leg.experience for leg in route.legs if leg.experience_id]
    # The last activity sells no child ticket, and a resident price only on the first.
    last = experiences[-1]
    for pc in last.price_categories:
        pc.is_active = pc.code == "adult"
    experiences[0].price_categories.append(
        PriceCategory(code="resident", price_cents=1500, position=5)
    )
    session.flush()
    assert tickets.route_category_codes(route) == ["child", "resident"]
    request = request_for(route, start_of(route), people=4, tickets={"child": 1, "resident": 1})
    rb = booking.book_route(session, request, utcnow(), LANGS)
    lines = {
        bl.booking.departure.experience_id: sorted(
            (line.price_category.code, line.quantity, line.unit_price_cents)
            for line in bl.booking.lines
        )
        for bl in rb.legs
    }
    assert lines[experiences[0].id] == [
        ("adult", 2, 4500),
        ("child", 1, 2500),
        ("resident", 1, 1500),
    ]
    assert lines[experiences[1].id] == [("adult", 3, 4500), ("child", 1, 2500)]
    assert lines[last.id] == [("adult", 4, 4500)]
    legs = 2 * 4500 + 2500 + 1500 + 3 * 4500 + 2500 + 4 * 4500
    nights = sum(n.amount_cents for n in rb.nights)
    assert nights == 4 * sum(
        leg.homestay.price_cents_per_person_night for leg in route.legs if leg.homestay_id
    )
    assert rb.total_cents == legs + nights + rb.curator_fee_cents


@pytest.mark.parametrize(
    "wanted, message",
    [
        ({"senior": 1}, "That ticket type is not sold on this route."),
        ({"child": 3}, "There are more tickets of a kind than people."),
        ({"child": -1}, "Ticket numbers must be whole numbers, zero or more."),
        ({"child": "one"}, "Ticket numbers must be whole numbers, zero or more."),
    ],
)
def test_bad_route_tickets_are_refused_and_nothing_is_written(session, make, wanted, message):
    route = make.route()
    before = session.scalar(select(func.count(RouteBooking.id)))
    with pytest.raises(InvalidRequest) as raised:
        booking.book_route(
            session, request_for(route, start_of(route), people=2, tickets=wanted), utcnow(), LANGS
        )
    assert english(raised.value) == message
    assert session.scalar(select(func.count(RouteBooking.id))) == before
