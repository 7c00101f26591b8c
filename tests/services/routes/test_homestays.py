"""A family with several homestays: each has its own beds, blackouts and price, is booked on
its own in routes and as a night before or after an activity, and can be retired alone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.services.booking.test_lifecycle import HOLD, LANGS
from tests.services.booking.test_lifecycle import request_for as hold_request
from tests.services.routes.helpers import request_for, start_of
from tourism.database import utcnow
from tourism.errors import InvalidRequest, NotFound
from tourism.models import HomestayBlackout
from tourism.services.booking import addon_stock, addons, lifecycle
from tourism.services.routes import availability, booking, curation, homestays
from tourism.timefmt import local

CABIN = homestays.HomestayInput(
    name="Cabaña del río",
    description_es="",
    description_en="",
    capacity=3,
    price_cents_per_person_night=4000,
    meals_included=True,
    is_active=True,
)


@pytest.fixture
def world(session, make):
    """A route whose first night is at the family's house (2 beds); the family also has a
    cabin, and the day-1 activity can be booked alone with a night after it."""
    route = make.route(beds=(2, 4))
    house = route.legs[1].homestay
    family = house.family
    cabin = homestays.save_homestay(session, family, None, CABIN)
    start = start_of(route)
    experience = route.legs[0].experience
    departure = make.departure(experience, capacity=10, starts_in=timedelta(days=8))
    session.flush()
    return dict(
        route=route, start=start, house=house, cabin=cabin, family=family, departure=departure
    )


def test_a_family_lists_every_homestay_taking_guests_first(session, world):
    house, cabin = world["house"], world["cabin"]
    assert homestays.family_homestays(session, world["family"]) == [cabin, house]
    homestays.retire_homestay(session, cabin)
    assert homestays.family_homestays(session, world["family"]) == [house, cabin]


def test_each_homestay_is_offered_and_its_beds_counted_apart(session, world):
    house, cabin, departure = world["house"], world["cabin"], world["departure"]
    offered = addons.offered_homestays(session, departure.experience)
    assert house in offered and cabin in offered
    # The house's two beds go to a route; the cabin's three stay free.
    start = world["start"]
    booking.book_route(session, request_for(world["route"], start), utcnow(), LANGS)
    assert addon_stock.beds_taken(session, house.id, start, utcnow()) == 2
    assert addon_stock.beds_taken(session, cabin.id, start, utcnow()) == 0
    # A night after the activity at the cabin, priced at the cabin's price.
    request = hold_request(departure, adult=3)
    request.addons = addons.AddonRequest(nights={"after": cabin.id})
    held = lifecycle.hold_seats(session, request, utcnow(), HOLD, LANGS)
    (night,) = held.nights
    assert (night.homestay_id, night.unit_price_cents) == (cabin.id, 4000)
    assert night.night == local(departure.starts_at).date()
    # The house's blackout or retirement does not close the cabin.
    house.blackouts.append(HomestayBlackout(night=night.night + timedelta(days=1)))
    homestays.retire_homestay(session, house)
    assert addons.offered_homestays(session, departure.experience) == [cabin]


def test_a_route_can_sleep_at_the_family_cabin_and_its_house_apart(session, make, world):
    route, cabin = world["route"], world["cabin"]
    start = world["start"]
    # A second route whose first night is at the cabin.
    other = make.route(start_date=start, approve=False)
    other.legs[1].homestay = cabin
    curation.participation(session, other, cabin.family.association)
    session.flush()
    for taking_part in list(other.participations):
        curation.decide_participation(session, other, taking_part.association, True, None, utcnow())
    curation.publish_route(session, other)
    rb = booking.book_route(session, request_for(other, start, people=3), utcnow(), LANGS)
    assert [(n.homestay_id, n.people, n.unit_price_cents) for n in rb.nights][0] == (
        cabin.id,
        3,
        4000,
    )
    # The cabin is full that night; the house still has its two beds for the first route.
    (plan,) = availability.plan_route(session, other, [start], 1, utcnow(), HOLD)
    assert availability.NO_BEDS in plan.problems
    booking.book_route(session, request_for(route, start), utcnow(), LANGS)
    # Retired, the cabin closes the second route's dates; the first route is untouched.
    homestays.retire_homestay(session, cabin)
    (plan,) = availability.plan_route(
        session, other, [start + timedelta(days=7)], 1, utcnow(), HOLD
    )
    assert availability.CLOSED_NIGHT in plan.problems


def test_a_homestay_is_changed_only_through_its_own_family(session, make, world):
    stranger = make.family(world["family"].association)
    with pytest.raises(NotFound):
        homestays.save_homestay(session, stranger, world["cabin"], CABIN)
    with pytest.raises(InvalidRequest):
        homestays.save_homestay(session, world["family"], None, CABIN)  # its name is taken
    renamed = homestays.save_homestay(
        session, stranger, None, CABIN
    )  # another family may use the name
    assert renamed.family_id == stranger.id
