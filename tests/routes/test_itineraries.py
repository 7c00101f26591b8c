"""Routes across communities through the pages: the list, a route with its map, booking a
route (and bad input that writes nothing), its private page and cancelling it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tourism.extensions import db
from tourism.models import Booking, BookingStatus, Departure, RouteBooking
from tourism.timefmt import local

ES = {"Accept-Language": "es"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def route(make):
    route = make.route()
    for n, leg in enumerate(route.legs):
        if leg.experience is not None:
            make.stop(
                leg.experience,
                latitude=Decimal("-1.05") - Decimal(n) / 10,
                longitude=Decimal("-77.8") + Decimal(n) / 10,
                location_is_approximate=True,
            )
    lunch = make.route_extra(price=900, stock=5, name_en="Family lunch", name_es="Almuerzo")
    route.extras.append(lunch)
    db.session.commit()
    return route


def start_of(route) -> str:
    """The first leg's local date: the start date the factory made departures for."""
    first = db.session.scalars(
        select(Departure).where(Departure.experience_id == route.legs[0].experience_id)
    ).one()
    return local(first.starts_at).date().isoformat()


def form_for(route, **changes) -> dict:
    data = {
        "start_date": start_of(route),
        "people": "2",
        f"extra_{route.extras[0].id}": "1",
        "name": "Ana Quispe",
        "email": "ana@example.org",
        "phone": "+593 99 123 4567",
        "country": "EC",
        "language": "es",
        "payment_method": "on_arrival",
    }
    data.update(changes)
    return data


def counts():
    db.session.rollback()
    return (
        db.session.scalar(select(func.count()).select_from(RouteBooking)),
        db.session.scalar(select(func.count()).select_from(Booking)),
    )


def test_the_route_list_and_the_catalog_show_the_route(client, route):
    for path in ("/routes", "/"):
        page = client.get(path, headers=EN).get_data(as_text=True)
        assert f"/routes/{route.slug}" in page
        assert "3 days" in page
    # Catalog filters apply to experiences: a filtered catalog leaves the routes out.
    filtered = client.get("/?province=napo", headers=EN).get_data(as_text=True)
    assert f"/routes/{route.slug}" not in filtered


def test_the_route_page_has_the_days_the_map_and_the_dates(client, route):
    response = client.get(f"/routes/{route.slug}", headers=EN)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Day 1" in page and "Day 3" in page
    assert page.count("Night with a host family") == 2
    svg = re.search(r"<svg viewBox.*?</svg>", page, re.S).group(0)
    assert svg.count("<circle") == 3 and svg.count("<rect") == 1 + 2  # background + 2 homestays
    assert "openstreetmap.org/?mlat=" in page
    assert "approximate location" in page
    assert f"/routes/{route.slug}/book?start={start_of(route)}" in page
    # One person: 3 x 45.00 + 2 x 25.00 across the communities.
    assert "$185.00 per person" in page


def test_the_route_page_in_spanish(client, route):
    page = client.get(f"/routes/{route.slug}", headers=ES).get_data(as_text=True)
    assert "Día 1" in page and "Mapa" in page


def test_booking_a_route_through_the_form(client, route):
    response = client.post(f"/routes/{route.slug}/book", data=form_for(route), headers=EN)
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    rb = db.session.scalars(select(RouteBooking)).one()
    assert rb.status == BookingStatus.CONFIRMED and rb.people == 2
    assert rb.reference in page
    for booking_leg in rb.legs:
        assert booking_leg.booking.reference in page
    assert "What you pay, to whom, and when" in page
    assert "$379.00" in page  # 2 x 185.00 + one lunch at 9.00
    # The page after paying, reached with nothing paid online, does not claim a payment.
    processing = client.get(f"{response.headers['Location']}/processing", headers=EN)
    assert processing.status_code == 303
    page = client.get(processing.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Payment received" not in page


def test_a_child_on_a_route_pays_each_activitys_child_price(client, route):
    page = client.get(f"/routes/{route.slug}/book", headers=EN).get_data(as_text=True)
    assert 'name="tickets_child"' in page and "Of them: Child (5–12)" in page
    data = form_for(route, people="3", tickets_child="1")
    response = client.post(f"/routes/{route.slug}/book", data=data, headers=EN)
    assert response.status_code == 303, response.get_data(as_text=True)
    rb = db.session.scalars(select(RouteBooking)).one()
    assert rb.people == 3
    for booking_leg in rb.legs:
        assert sorted(
            (line.price_category.code, line.quantity) for line in booking_leg.booking.lines
        ) == [
            ("adult", 2),
            ("child", 1),
        ]
    # Three activities: two adults and a child at 45.00 and 25.00; nights per person.
    nights = sum(n.amount_cents for n in rb.nights)
    assert rb.total_cents == 3 * (2 * 4500 + 2500) + nights + 900 + rb.curator_fee_cents


def test_more_children_than_people_is_refused(client, route):
    before = counts()
    data = form_for(route, people="2", tickets_child="3")
    for headers, message in (
        (EN, "There are more tickets of a kind than people."),
        (ES, "Hay más entradas de un tipo que personas."),
    ):
        response = client.post(f"/routes/{route.slug}/book", data=data, headers=headers)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert counts() == before


def test_cancelling_a_route_through_its_page(client, route):
    response = client.post(f"/routes/{route.slug}/book", data=form_for(route), headers=EN)
    manage = response.headers["Location"]
    cancelled = client.post(manage + "/cancel", headers=EN)
    assert cancelled.status_code == 303
    db.session.rollback()
    rb = db.session.scalars(select(RouteBooking)).one()
    assert rb.status == BookingStatus.CANCELLED
    # Nothing is left to pay in cash to any community.
    page = client.get(manage, headers=EN).get_data(as_text=True)
    table = page.split('<table class="prices">', 1)[1].split("</tbody>", 1)[0]
    cash = re.findall(r"<td>([^<]*)</td></tr>", table)
    assert cash and set(cash) == {"$0.00"}, cash
    again = client.post(manage + "/cancel", headers=EN)
    assert again.status_code == 409
    assert "can no longer be cancelled" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"people": "0"}, "Choose between 1 and 8 people"),
        ({"people": "9" * 400}, "Choose between 1 and 8 people"),
        ({"people": "dos"}, "People"),
        ({"start_date": "2001-01-01"}, "Start date"),
        ({"email": "nope"}, "valid email"),
        ({"extra_999999": "1", "people": "-1"}, "Choose between 1 and 8 people"),
    ],
)
def test_bad_input_gets_a_message_and_writes_nothing(client, route, changes, message):
    before = counts()
    response = client.post(
        f"/routes/{route.slug}/book", data=form_for(route, **changes), headers=EN
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert counts() == before


def test_extras_over_stock_are_refused_in_spanish(client, route):
    before = counts()
    extra = route.extras[0]
    response = client.post(
        f"/routes/{route.slug}/book",
        data=form_for(route, **{f"extra_{extra.id}": "6"}),
        headers=ES,
    )
    assert response.status_code == 409
    assert "solo quedan 5 de Almuerzo" in response.get_data(as_text=True)
    assert counts() == before


def test_a_full_route_offers_no_date(client, make):
    route = make.route(beds=(1, 1))
    db.session.commit()
    page = client.get(f"/routes/{route.slug}/book", headers=EN).get_data(as_text=True)
    assert "No start date has room" not in page  # one person fits: the date is offered
    full = make.route(beds=(0, 0))
    db.session.commit()
    page = client.get(f"/routes/{full.slug}/book", headers=EN).get_data(as_text=True)
    assert "No start date has room" in page and 'name="people"' not in page
    page_one = client.get(f"/routes/{route.slug}", headers=EN).get_data(as_text=True)
    assert "/book?start=" in page_one


def test_unknown_route_and_token_are_not_found(client, route):
    assert client.get("/routes/nowhere", headers=EN).status_code == 404
    assert client.get("/routes/nowhere/book", headers=EN).status_code == 404
    assert client.get("/route-bookings/" + "x" * 43, headers=EN).status_code == 404
    assert client.post("/route-bookings/" + "x" * 43 + "/cancel").status_code == 404
