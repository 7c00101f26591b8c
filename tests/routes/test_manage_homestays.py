"""A family's homestay kept by the association's staff, coordinates kept by its admins, and
the list of who sleeps at a family's home; bad input: a message, 400, nothing changed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.routes.test_manage_route_composing import login
from tests.services.routes.helpers import contact, request_for, start_of
from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import Homestay, HomestayBlackout, Role
from tourism.services.routes import booking
from tourism.timefmt import local_today

EN = {"Accept-Language": "en"}

FORM = {
    "name": "Casa Grefa",
    "capacity": "4",
    "price": "25.50",
    "meals_included": "y",
    "is_active": "y",
    "description_es": "Dos cuartos",
}


@pytest.fixture
def world(make):
    association = make.association()
    family = make.family(association, name="Familia Grefa")
    staff = make.user(memberships=[(association, Role.STAFF)])
    admin = make.user(memberships=[(association, Role.ADMIN)])
    db.session.commit()
    return dict(association=association, family=family, staff=staff, admin=admin)


def _homestays():
    db.session.rollback()
    return [
        (h.name, h.capacity, h.price_cents_per_person_night, h.meals_included, h.latitude)
        for h in db.session.scalars(select(Homestay).order_by(Homestay.id))
    ]


def test_staff_create_and_edit_a_homestay(client, world):
    login(client, world["staff"])
    url = f"/manage/families/{world['family'].id}/homestays/new"
    assert client.get(url, headers=EN).status_code == 200
    response = client.post(url, data=FORM)
    assert response.status_code == 303
    (homestay_id,) = db.session.scalars(select(Homestay.id)).all()
    assert response.headers["Location"].endswith(f"/manage/homestays/{homestay_id}")
    assert _homestays() == [("Casa Grefa", 4, 2550, True, None)]
    edit = f"/manage/homestays/{homestay_id}"
    assert client.get(edit, headers=EN).status_code == 200
    assert client.post(edit, data=FORM | {"capacity": "6", "meals_included": ""}).status_code == 303
    assert _homestays() == [("Casa Grefa", 6, 2550, False, None)]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"capacity": "0"}, "Choose a number from 1 to 100."),
        ({"price": "free"}, "Write an amount like 45 or 45.50."),
        ({"price": ""}, "This information is required."),
        ({"price": "   "}, "This information is required."),
        ({"name": ""}, "This information is required."),
    ],
)
def test_bad_homestay_input(client, world, change, message):
    login(client, world["staff"])
    url = f"/manage/families/{world['family'].id}/homestays/new"
    client.post(url, data=FORM)
    before = _homestays()
    response = client.post(url, data=FORM | change, headers=EN)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert _homestays() == before


def test_blackout_nights(client, make, world):
    homestay = make.homestay(world["family"])
    db.session.commit()
    login(client, world["staff"])
    url = f"/manage/homestays/{homestay.id}/blackouts"
    night = local_today() + timedelta(days=10)
    assert client.post(url, data={"night": night.isoformat()}).status_code == 303
    for bad, message in (
        (night, "That night is already closed."),
        (local_today() - timedelta(days=1), "Choose a night from today on."),
        ("tomorrow", "Write a date like 2025-06-14."),
    ):
        response = client.post(url, data={"night": str(bad)}, headers=EN)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    db.session.rollback()
    (blackout,) = db.session.scalars(select(HomestayBlackout)).all()
    assert blackout.night == night
    response = client.post(f"{url}/{blackout.id}/remove")
    assert response.status_code == 303
    db.session.rollback()
    assert db.session.scalars(select(HomestayBlackout)).all() == []


def test_a_booked_night_cannot_be_closed(client, make, world):
    route = make.route()
    homestay = route.legs[1].homestay
    staff = make.user(memberships=[(homestay.family.association, Role.STAFF)])
    db.session.commit()
    with write_transactions():
        booking.book_route(db.session, request_for(route, start_of(route)), utcnow(), ["es", "en"])
    db.session.commit()
    login(client, staff)
    response = client.post(
        f"/manage/homestays/{homestay.id}/blackouts",
        data={"night": start_of(route).isoformat()},
        headers=EN,
    )
    assert response.status_code == 400
    assert "Guests are booked that night" in response.get_data(as_text=True)


def test_only_admins_change_coordinates(client, make, world):
    homestay = make.homestay(world["family"], latitude=None, longitude=None)
    db.session.commit()
    url = f"/manage/homestays/{homestay.id}/coordinates"
    login(client, world["staff"])
    assert client.post(url, data={"latitude": "-1", "longitude": "-77"}).status_code in (403, 404)
    client.post("/logout")
    login(client, world["admin"])
    response = client.post(
        url, data={"latitude": "-0.990123", "longitude": "-77.81", "approximate": "y"}
    )
    assert response.status_code == 303
    db.session.rollback()
    homestay = db.session.get(Homestay, homestay.id)
    assert (homestay.latitude, homestay.longitude) == (Decimal("-0.990123"), Decimal("-77.810000"))
    assert homestay.location_is_approximate
    page = client.get(f"/manage/homestays/{homestay.id}", headers=EN)
    assert "(approximate)" in page.get_data(as_text=True)
    for bad in (
        {"latitude": "91", "longitude": "0"},
        {"latitude": "-1", "longitude": ""},
        {"latitude": "nan", "longitude": "1"},
        {"latitude": "x", "longitude": "y"},
    ):
        response = client.post(url, data=bad, headers=EN)
        assert response.status_code == 400
        assert "decimal degrees" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Homestay, homestay.id).latitude == Decimal("-0.990123")


def test_stop_coordinates(client, make, world):
    experience = make.experience(world["association"])
    stop = make.stop(experience, family=world["family"])
    db.session.commit()
    login(client, world["staff"])
    page = client.get(f"/manage/experiences/{experience.id}/places", headers=EN)
    assert page.status_code == 200 and "Only the association's admins" in page.get_data(
        as_text=True
    )
    assert client.post(f"/manage/stops/{stop.id}/coordinates", data={}).status_code in (403, 404)
    client.post("/logout")
    login(client, world["admin"])
    response = client.post(
        f"/manage/stops/{stop.id}/coordinates", data={"latitude": "-1.05", "longitude": "-77.6"}
    )
    assert response.status_code == 303
    response = client.post(
        f"/manage/stops/{stop.id}/coordinates",
        data={"latitude": "1e400", "longitude": "0"},
        headers=EN,
    )
    assert response.status_code == 400
    db.session.rollback()
    assert db.session.get(type(stop), stop.id).latitude == Decimal("-1.050000")


def test_a_family_sees_who_sleeps_at_home_with_their_needs(client, make, world):
    route = make.route()
    homestay = route.legs[1].homestay
    staff = make.user(memberships=[(homestay.family.association, Role.STAFF)])
    db.session.commit()
    needs = contact(special_needs="Vegetarian, no peanuts", special_needs_consent=True)
    with write_transactions():
        request = request_for(route, start_of(route), people=3)
        request = type(request)(**(request.__dict__ | {"contact": needs}))
        rb = booking.book_route(db.session, request, utcnow(), ["es", "en"])
    db.session.commit()
    login(client, staff)
    page = client.get(f"/manage/families/{homestay.family_id}/guests", headers=EN)
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert rb.reference in body and "Vegetarian, no peanuts" in body and "3 people" in body
    assert homestay.name in body
