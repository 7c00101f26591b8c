"""Finding routes: the route list's filters (days, community, price per person), the JSON
API's routes, and pages whose statement count does not grow with the bookings."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from tests.services.routes.helpers import request_for, start_of
from tests.web.test_query_counts import counting
from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import ExperienceStatus, Route, RouteText
from tourism.services.routes import booking, curation

EN = {"Accept-Language": "en"}
ES = {"Accept-Language": "es"}


def _one_day_route(make) -> Route:
    """A one-day route: a single activity, curated by its own association, $20 + $1 fee."""
    association = make.association()
    experience = make.experience(association, prices={"adult": 2000})
    route = Route(
        slug="one-day-walk",
        status=ExperienceStatus.DRAFT,
        curator_association_id=association.id,
        curator_fee_cents=100,
    )
    route.texts = [RouteText(locale="es", title="Un día"), RouteText(locale="en", title="One day")]
    db.session.add(route)
    db.session.flush()
    curation.add_experience_leg(db.session, route, experience, 1, time(9))
    curation.decide_participation(db.session, route, association, True, None, utcnow())
    curation.publish_route(db.session, route)
    return route


@pytest.fixture
def routes(make):
    long = make.route()  # three days, $45 x 3 + $25 x 2 = $185.00 per person
    short = _one_day_route(make)
    db.session.commit()
    return long, short


def _listed(client, query, headers=EN):
    response = client.get(f"/routes{query}", headers=headers)
    body = response.get_data(as_text=True)
    return response.status_code, body


def test_the_route_list_filters(client, routes):
    long, short = routes
    status, body = _listed(client, "")
    assert status == 200 and "One day" in body and long.text("en").title in body
    assert "From $185.00 per person" in body and "From $21.00 per person" in body
    status, body = _listed(client, "?days=1")
    assert status == 200 and "One day" in body and long.text("en").title not in body
    community = long.legs[-1].experience.association.slug
    status, body = _listed(client, f"?community={community}")
    assert status == 200 and "One day" not in body and long.text("en").title in body
    status, body = _listed(client, "?max_price=185")
    assert long.text("en").title in body
    status, body = _listed(client, "?max_price=184.99")
    assert long.text("en").title not in body and "One day" in body
    status, body = _listed(client, "?days=2")
    assert status == 200 and "No route matches these filters" in body


@pytest.mark.parametrize(
    "query, message",
    [
        ("?days=0", "Choose a number from 1 to 14."),
        ("?days=many", "Write a whole number."),
        ("?max_price=cheap", "Write an amount like 25 or 25.50."),
        ("?community=nowhere", "Not a valid choice"),
    ],
)
def test_bad_filters_get_a_message_and_400(client, routes, query, message):
    status, body = _listed(client, query)
    assert status == 400 and message in body
    assert "One day" not in body


def test_bad_filters_in_spanish(client, routes):
    status, body = _listed(client, "?days=0", headers=ES)
    assert status == 400 and "Elige un número de 1 a 14." in body


def test_the_api_lists_filters_and_describes_routes(client, routes):
    long, short = routes
    listed = client.get("/api/v1/routes", headers=EN).get_json()["routes"]
    assert [r["slug"] for r in listed] == sorted([long.slug, short.slug])
    only = client.get("/api/v1/routes?days=1&max_price=21").get_json()["routes"]
    assert [r["slug"] for r in only] == [short.slug]
    assert only[0]["price_per_person"] == {"amount_cents": 2100, "currency": "USD"}
    bad = client.get("/api/v1/routes?days=99", headers=EN)
    assert bad.status_code == 400 and "days" in bad.get_json()["error"]["fields"]

    detail = client.get(f"/api/v1/routes/{long.slug}", headers=EN).get_json()
    assert [leg["kind"] for leg in detail["legs"]] == [
        "experience",
        "homestay",
        "experience",
        "homestay",
        "experience",
    ]
    assert detail["legs"][0]["start_time"] == "08:30" and detail["days"] == 3
    assert detail["legs"][1]["homestay"]["price_per_night"]["amount_cents"] == 2500
    assert detail["price_per_person"]["amount_cents"] == 18500


def test_the_api_gives_the_start_dates(client, routes):
    long, _short = routes
    start = start_of(long)
    url = f"/api/v1/routes/{long.slug}/availability"
    answer = client.get(f"{url}?from={start}&to={start}&people=4", headers=EN).get_json()
    (day,) = answer["start_dates"]
    # Four beds a night in the factory's homestays: four people fit, five do not.
    assert day == {
        "start_date": start.isoformat(),
        "bookable": True,
        "places_left": 4,
        "problems": [],
        "book_url": day["book_url"],
    }
    assert day["book_url"].endswith(f"/routes/{long.slug}/book?start={start}")
    answer = client.get(f"{url}?from={start}&to={start}&people=5", headers=EN).get_json()
    (day,) = answer["start_dates"]
    assert not day["bookable"] and day["book_url"] is None
    assert day["problems"] == ["a homestay has not enough beds left that night"]
    refused = client.get(f"{url}?people=9", headers=EN)
    assert refused.status_code == 400
    # Digits that are not ASCII: "²" passes str.isdigit but not int(); "٤" reads as 4.
    for odd in ("²", "٤", "４", "1e1"):
        refused = client.get(url, query_string={"people": odd}, headers=EN)
        assert refused.status_code == 400, odd
    assert "from 1 to 8" in refused.get_json()["error"]["message"]
    far = client.get(f"{url}?from={start}&to={start + timedelta(days=200)}", headers=EN)
    assert far.status_code == 400


def _count(client, url) -> int:
    with counting() as statements:
        response = client.get(url, headers=EN)
    assert response.status_code == 200, url
    return len(statements)


def test_route_pages_run_as_many_statements_whatever_the_bookings(make_app):
    app = make_app(RESPONSE_CACHE_SECONDS=0)
    with app.app_context():
        from tests.factories import Factories

        make = Factories(db.session)
        route = make.route(capacities=(40, 40, 40), beds=(20, 20))
        db.session.commit()
        start = start_of(route)
        client = app.test_client()
        urls = [
            f"/routes/{route.slug}",
            "/routes",
            f"/api/v1/routes/{route.slug}",
            f"/api/v1/routes/{route.slug}/availability",
        ]
        before = {url: _count(client, url) for url in urls}
        for _ in range(3):
            with write_transactions():
                booking.book_route(
                    db.session, request_for(route, start, people=2), utcnow(), ["es", "en"]
                )
            db.session.commit()
        after = {url: _count(client, url) for url in urls}
        assert after == before


def test_a_blank_price_means_no_price_filter(client, routes):
    status, body = _listed(client, "?max_price=%20")
    assert status == 200 and "One day" in body
