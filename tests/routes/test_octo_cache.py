"""Resellers' availability polls are answered from the response cache, and every sale is in
the next answer (``response_cache.cached_query``): a web booking, a channel reservation, a
change of commission. A revoked key is refused even when an answer is cached."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from tests import octo_spec
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import Departure, HomestayBlackout
from tourism.timefmt import local


@pytest.fixture
def world(app, make):
    experience = make.experience(prices={"adult": 4500})
    departure = make.departure(experience, capacity=8, starts_in=timedelta(days=3))
    reseller, key = make.reseller(experiences=[experience], commission_bp=1_000)
    other, other_key = make.reseller(
        association=experience.association, experiences=[experience], commission_bp=2_000
    )
    db.session.commit()
    first_day = local(departure.starts_at).date()
    return {
        "experience": experience,
        "departure": departure,
        "reseller": reseller,
        "key": key,
        "other_key": other_key,
        "query": {
            "productId": experience.slug,
            "optionId": "DEFAULT",
            "localDateStart": first_day.isoformat(),
            "localDateEnd": (first_day + timedelta(days=29)).isoformat(),
        },
    }


@pytest.fixture
def statements(app):
    seen = []

    def count(_conn, _cursor, statement, *_args):
        if not statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    yield seen
    event.remove(db.engine, "before_cursor_execute", count)


def _ask(client, key, path, body, status=200):
    response = client.post(
        "/octo" + path,
        json=body,
        headers={"Authorization": f"Bearer {key}", "Octo-Capabilities": "octo/pricing"},
    )
    assert response.status_code == status, response.get_json()
    if status == 200:
        octo_spec.check(path, "POST", response)
    return response


def _vacancies(client, key, body) -> int:
    return _ask(client, key, "/availability", body).get_json()[0]["vacancies"]


def test_a_repeated_poll_is_answered_from_the_cache(client, world, statements):
    first = _ask(client, world["key"], "/availability/calendar", world["query"])
    statements.clear()
    again = _ask(client, world["key"], "/availability/calendar", world["query"])
    assert again.get_json() == first.get_json()
    # No statement at all: the answer, given to this very key, came from the cache.
    assert statements == [], statements


@pytest.mark.parametrize("path", ["/availability", "/availability/calendar"])
def test_a_web_booking_is_in_the_next_answer(client, world, make, path):
    before = _ask(client, world["key"], path, world["query"]).get_json()
    make.booking(world["departure"], quantities={"adult": 3})
    db.session.commit()
    after = _ask(client, world["key"], path, world["query"]).get_json()
    assert before[0]["vacancies"] == 8
    assert after[0]["vacancies"] == 5


def test_a_channel_reservation_is_in_the_next_answer(client, world):
    assert _vacancies(client, world["key"], world["query"]) == 8
    _ask(
        client,
        world["other_key"],
        "/bookings",
        {
            "productId": world["experience"].slug,
            "optionId": "DEFAULT",
            "availabilityId": str(world["departure"].id),
            "unitItems": [{"unitId": "adult"}, {"unitId": "adult"}],
        },
    )
    assert _vacancies(client, world["key"], world["query"]) == 6


def test_each_reseller_gets_its_own_prices_and_a_new_commission_shows(client, world):
    def net(key):
        day = _ask(client, key, "/availability", world["query"]).get_json()[0]
        return day["unitPricing"][0]["net"]

    assert (net(world["key"]), net(world["other_key"])) == (4050, 3600)
    world["reseller"].commission_bp = 3_000
    db.session.commit()
    assert net(world["key"]) == 3150


def test_a_revoked_key_is_refused_with_an_answer_in_the_cache(client, world):
    _ask(client, world["key"], "/availability", world["query"])
    world["reseller"].key_revoked_at = utcnow()
    db.session.commit()
    _ask(client, world["key"], "/availability", world["query"], status=403)


def test_a_commission_per_experience_shows_in_the_next_answer(client, world, make):
    from tourism.services.channels import resellers

    body = {**world["query"], "localDate": world["query"]["localDateStart"]}
    del body["localDateStart"], body["localDateEnd"]
    net = _ask(client, world["key"], "/availability", body).get_json()[0]["unitPricing"][0]["net"]
    assert net == 4500 - 450
    resellers.set_rate(
        db.session, make.user(), world["reseller"], world["experience"], 2_500, utcnow()
    )
    db.session.commit()
    net = _ask(client, world["key"], "/availability", body).get_json()[0]["unitPricing"][0]["net"]
    assert net == 4500 - 1125


def test_another_key_never_gets_a_cached_answer(client, world):
    _ask(client, world["key"], "/availability/calendar", world["query"])
    stranger = "chk_" + "y" * 40  # well formed, but nobody's
    _ask(client, stranger, "/availability/calendar", world["query"], status=401)
    _ask(client, "not-a-key", "/availability/calendar", world["query"], status=401)


# Routes as products: a sale of one leg's last seats is in the next calendar -------------------


@pytest.fixture
def route_world(app, make):
    start = (utcnow() + timedelta(days=6)).date()
    route = make.route(start_date=start, capacities=(10, 3, 10))
    association = route.legs[0].experience.association
    _, key = make.reseller(association=association)
    _, other_key = make.reseller(association=association)
    db.session.commit()
    return {
        "route": route,
        "start": start,
        "key": key,
        "other_key": other_key,
        "query": {
            "productId": f"route:{route.slug}",
            "optionId": "DEFAULT",
            "localDateStart": start.isoformat(),
            "localDateEnd": (start + timedelta(days=1)).isoformat(),
        },
    }


def _route_day(client, route_world) -> dict:
    return _ask(
        client, route_world["key"], "/availability/calendar", route_world["query"]
    ).get_json()[0]


def test_a_cached_route_calendar_shows_a_channel_sale_of_a_legs_last_seats(
    client, route_world, statements
):
    assert _route_day(client, route_world)["vacancies"] == 3
    statements.clear()
    assert _route_day(client, route_world)["vacancies"] == 3
    assert statements == []  # answered from the cache
    _ask(
        client,
        route_world["other_key"],
        "/bookings",
        {
            "productId": f"route:{route_world['route'].slug}",
            "optionId": "DEFAULT",
            "availabilityId": route_world["start"].isoformat(),
            "unitItems": [{"unitId": "adult"}] * 3,
        },
    )
    day = _route_day(client, route_world)
    assert (day["vacancies"], day["status"], day["available"]) == (0, "SOLD_OUT", False)


def test_a_cached_route_calendar_shows_a_web_sale_of_a_legs_last_seats(client, route_world, make):
    assert _route_day(client, route_world)["status"] == "AVAILABLE"
    second_leg = route_world["route"].legs[2]  # day 2's activity (after the first night)
    departure = db.session.scalars(
        select(Departure).where(Departure.experience_id == second_leg.experience_id)
    ).one()
    make.booking(departure, quantities={"adult": 3})
    db.session.commit()
    day = _route_day(client, route_world)
    assert (day["vacancies"], day["status"]) == (0, "SOLD_OUT")


def test_a_cached_route_calendar_shows_a_night_the_family_closed(client, route_world):
    assert _route_day(client, route_world)["status"] == "AVAILABLE"
    night = route_world["route"].legs[1]
    night.homestay.blackouts.append(HomestayBlackout(night=route_world["start"]))
    db.session.commit()
    assert _route_day(client, route_world)["status"] == "CLOSED"
