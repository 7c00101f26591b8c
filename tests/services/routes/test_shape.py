"""A route's shape: approvals, nights that join the days up, legs that do not overlap."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from tourism.database import utcnow
from tourism.errors import InvalidRequest
from tourism.models import ExperienceStatus, ParticipationStatus, Route
from tourism.services.routes import availability, curation, shape

from .helpers import start_of


def draft(session):
    route = Route(slug="draft-route", status=ExperienceStatus.DRAFT)
    session.add(route)
    session.flush()
    return route


def test_the_factory_route_is_sound(make):
    shape.check_route(make.route())


def test_adding_a_leg_asks_its_association_to_take_part(session, make):
    route = draft(session)
    experience = make.experience()
    curation.add_experience_leg(session, route, experience, 1, time(9))
    (row,) = route.participations
    assert row.association_id == experience.association_id
    assert row.status == ParticipationStatus.PENDING
    with pytest.raises(shape.RouteNotApproved):
        curation.publish_route(session, route)
    curation.decide_participation(session, route, experience.association, True, None, utcnow())
    curation.publish_route(session, route)
    assert route.status == ExperienceStatus.PUBLISHED


def test_nights_must_join_the_days_up(session, make):
    route = draft(session)
    first, last = make.experience(), make.experience()
    curation.add_experience_leg(session, route, first, 1, time(9))
    curation.add_experience_leg(session, route, last, 2, time(9))
    with pytest.raises(shape.NightsDoNotJoinUp):
        shape.check_nights(route)  # two days, no night between
    curation.add_homestay_leg(session, route, make.homestay(), 1)
    with pytest.raises(shape.NightsDoNotJoinUp):
        shape.check_nights(route)  # the night comes after day 2's activity
    route.legs[1].position, route.legs[2].position = 9, 1
    session.flush()
    route.legs[1].position = 2
    session.flush()
    session.expire(route, ["legs"])
    shape.check_nights(route)


def test_a_route_ending_with_a_night_does_not_join_up(session, make):
    route = draft(session)
    curation.add_experience_leg(session, route, make.experience(), 1, time(9))
    curation.add_homestay_leg(session, route, make.homestay(), 1)
    with pytest.raises(shape.NightsDoNotJoinUp):
        shape.check_nights(route)


def test_an_empty_route_cannot_be_published(session):
    with pytest.raises(shape.EmptyRoute):
        curation.publish_route(session, draft(session))


def test_overlapping_legs_are_refused(session, make):
    route = draft(session)
    long_visit = make.experience(duration_minutes=240)
    curation.add_experience_leg(session, route, long_visit, 1, time(8))
    curation.add_experience_leg(session, route, make.experience(), 1, time(11))
    for association in {leg.experience.association for leg in route.legs}:
        curation.decide_participation(session, route, association, True, None, utcnow())
    with pytest.raises(shape.LegsOverlap):
        curation.publish_route(session, route)


def test_back_to_back_legs_do_not_overlap(session, make):
    route = draft(session)
    curation.add_experience_leg(session, route, make.experience(duration_minutes=180), 1, time(8))
    curation.add_experience_leg(session, route, make.experience(), 1, time(11))
    shape.check_overlaps(shape.pattern_intervals(route))


@pytest.mark.parametrize("day", [0, 15, -1])
def test_days_out_of_range(session, make, day):
    with pytest.raises(InvalidRequest):
        curation.add_experience_leg(session, draft(session), make.experience(), day, time(9))


def test_availability_names_each_problem(session, make):
    route = make.route(capacities=(10, 1, 10), beds=(4, 0))
    start = start_of(route)
    (plan,) = availability.plan_route(session, route, [start], 2, utcnow(), timedelta(minutes=60))
    assert not plan.bookable
    assert availability.NO_SEATS in plan.problems and availability.NO_BEDS in plan.problems
    (one,) = availability.plan_route(session, route, [start], 1, utcnow(), timedelta(minutes=60))
    assert one.problems == [availability.NO_BEDS]


def test_bookable_start_dates_lists_only_dates_with_room(session, make):
    route = make.route()
    start = start_of(route)
    plans = availability.bookable_start_dates(
        session, route, start - timedelta(days=3), 7, 2, utcnow(), timedelta(minutes=60)
    )
    assert [p.start_date for p in plans] == [start]
    assert [d.experience_id for d in plans[0].departures] == [
        leg.experience_id for leg in route.legs if leg.experience_id
    ]
    # Negative control: with more people than the beds, no date is offered.
    assert not availability.bookable_start_dates(
        session, route, start - timedelta(days=3), 7, 5, utcnow(), timedelta(minutes=60)
    )
