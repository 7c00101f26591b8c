"""The guide's manifest marks route guests: which route, which day, where they come from
and where they go next; in a fixed number of statements."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.routes.test_guide import login
from tests.services.routes.helpers import request_for, start_of
from tests.web.test_query_counts import counting
from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import Departure
from tourism.services.routes import booking

EN = {"Accept-Language": "en"}


def _book(route, people=2):
    with write_transactions():
        found = booking.book_route(
            db.session, request_for(route, start_of(route), people=people), utcnow(), ["es", "en"]
        )
    db.session.commit()
    return found


@pytest.fixture
def trip(make):
    route = make.route()
    departures = {}
    guides = {}
    for leg in route.legs:
        if leg.experience is None:
            continue
        departure = db.session.scalars(
            select(Departure).where(Departure.experience_id == leg.experience_id)
        ).one()
        guide = make.guide(leg.experience.association)
        make.assign(departure, guide)
        departures[leg.day], guides[leg.day] = departure, guide
    make.booking(departures[2], contact_name="Walk-in Visitor")
    db.session.commit()
    return dict(route=route, departures=departures, guides=guides)


def _manifest(client, trip, day) -> str:
    login(client, db.session, trip["guides"][day])
    response = client.get(f"/guide/departures/{trip['departures'][day].id}", headers=EN)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_route_guests_are_marked_with_where_they_come_from_and_go(client, trip):
    route = trip["route"]
    rb = _book(route)
    nights = [leg.homestay for leg in route.legs if leg.homestay is not None]
    day_two = route.legs[2].experience
    page = _manifest(client, trip, 2)
    assert "Route guest" in page
    assert f"{route.text('en').title} ({rb.reference}), day 2 of 3" in page
    assert f"Comes from: a night at {nights[0].name} ({nights[0].family.name})" in page
    assert f"Goes next: a night at {nights[1].name} ({nights[1].family.name})" in page
    # The walk-in party on the same departure is not a route guest.
    assert page.count("Route guest") == 1 and "Walk-in Visitor" in page
    assert day_two.association.name not in page.split("Route guest")[1].split("Goes next")[0]

    first = _manifest(client, trip, 1)
    assert "Comes from: starts the route here" in first
    last = _manifest(client, trip, 3)
    assert "Goes next: ends the route here" in last


def test_spanish_manifest(client, trip):
    _book(trip["route"])
    login(client, db.session, trip["guides"][3])
    page = client.get(
        f"/guide/departures/{trip['departures'][3].id}", headers={"Accept-Language": "es"}
    ).get_data(as_text=True)
    assert "Huésped de ruta" in page and "día 3 de 3" in page
    assert "Sigue: aquí termina la ruta" in page


def test_the_manifest_runs_as_many_statements_with_more_route_guests(client, trip):
    _book(trip["route"], people=1)
    login(client, db.session, trip["guides"][2])
    url = f"/guide/departures/{trip['departures'][2].id}"
    client.get(url)
    with counting() as few:
        client.get(url)
    for _ in range(3):
        _book(trip["route"], people=1)
    with counting() as many:
        assert "Route guest" in client.get(url, headers=EN).get_data(as_text=True)
    assert len(many) == len(few)
