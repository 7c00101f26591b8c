"""A family with several homestays (two houses, separate cabins): the association adds,
edits and retires each on its own; another association's staff get 404 and change nothing;
bad input is a translated message, 400, and nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.routes.test_manage_route_composing import login
from tourism.extensions import db
from tourism.models import ExperienceStatus, Homestay, Role, Route, RouteLeg

EN = {"Accept-Language": "en"}
ES = {"Accept-Language": "es"}

HOUSE = {"name": "Casa Grefa", "capacity": "4", "price": "25", "is_active": "y"}
CABIN = {"name": "Cabaña del río", "capacity": "2", "price": "40", "meals_included": "y"}
CABIN |= {"is_active": "y"}


@pytest.fixture
def world(make):
    association = make.association()
    family = make.family(association, name="Familia Grefa")
    staff = make.user(memberships=[(association, Role.STAFF)])
    outsider = make.user(memberships=[(make.association(), Role.ADMIN)])
    db.session.commit()
    return dict(family=family, staff=staff, outsider=outsider)


def _rows():
    db.session.rollback()
    return [
        (h.name, h.capacity, h.price_cents_per_person_night, h.meals_included, h.is_active)
        for h in db.session.scalars(select(Homestay).order_by(Homestay.id))
    ]


def _add(client, family, data, headers=None):
    return client.post(
        f"/manage/families/{family.id}/homestays/new", data=data, headers=headers or {}
    )


def test_a_family_keeps_two_homestays_each_edited_and_retired_apart(client, world):
    family = world["family"]
    login(client, world["staff"])
    assert _add(client, family, HOUSE).status_code == 303
    assert _add(client, family, CABIN).status_code == 303
    assert _rows() == [
        ("Casa Grefa", 4, 2500, False, True),
        ("Cabaña del río", 2, 4000, True, True),
    ]
    house, cabin = db.session.scalars(select(Homestay).order_by(Homestay.id))
    listing = client.get(f"/manage/families/{family.id}/homestays", headers=EN)
    body = listing.get_data(as_text=True)
    assert listing.status_code == 200 and "Casa Grefa" in body and "Cabaña del río" in body

    # Editing the cabin leaves the house as it was.
    changed = CABIN | {"capacity": "3", "price": "42.50"}
    assert client.post(f"/manage/homestays/{cabin.id}", data=changed).status_code == 303
    assert _rows() == [
        ("Casa Grefa", 4, 2500, False, True),
        ("Cabaña del río", 3, 4250, True, True),
    ]

    # Retiring the house: it takes no new guests, the cabin still does.
    response = client.post(f"/manage/homestays/{house.id}/retire")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/manage/families/{family.id}/homestays")
    assert [row[-1] for row in _rows()] == [False, True]
    body = client.get(f"/manage/families/{family.id}/homestays", headers=EN).get_data(as_text=True)
    assert body.index("Cabaña del río") < body.index("Casa Grefa")  # taking guests first
    assert "(retired)" in body
    page = client.get(f"/manage/homestays/{house.id}", headers=EN).get_data(as_text=True)
    assert "This homestay is retired" in page
    # Opened again by saving it with "takes guests".
    assert client.post(f"/manage/homestays/{house.id}", data=HOUSE).status_code == 303
    assert [row[-1] for row in _rows()] == [True, True]


@pytest.mark.parametrize(
    ("data", "headers", "message"),
    [
        (HOUSE | {"name": "casa grefa"}, EN, "This family already has a homestay with that name."),
        (
            HOUSE | {"name": "Casa Grefa "},
            ES,
            "Esta familia ya tiene una casa de familia con ese nombre.",
        ),
        (HOUSE | {"name": "Otra", "capacity": "101"}, EN, "Choose a number from 1 to 100."),
        (HOUSE | {"name": "Otra", "price": "-3"}, EN, "Write an amount like 45 or 45.50."),
    ],
)
def test_a_second_homestay_with_bad_input_is_refused(client, world, data, headers, message):
    login(client, world["staff"])
    assert _add(client, world["family"], HOUSE).status_code == 303
    before = _rows()
    response = _add(client, world["family"], data, headers)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _rows() == before


def test_renaming_a_homestay_to_its_sisters_name_is_refused(client, world):
    login(client, world["staff"])
    _add(client, world["family"], HOUSE)
    _add(client, world["family"], CABIN)
    cabin = db.session.scalars(select(Homestay).order_by(Homestay.id.desc())).first()
    before = _rows()
    response = client.post(f"/manage/homestays/{cabin.id}", data=HOUSE, headers=EN)
    assert response.status_code == 400
    assert "already has a homestay with that name" in response.get_data(as_text=True)
    assert _rows() == before


def test_another_association_gets_404_and_changes_nothing(client, make, world):
    family = world["family"]
    homestay = make.homestay(family, name="Casa Grefa")
    db.session.commit()
    before = _rows()
    login(client, world["outsider"])
    for method, url, data in [
        ("GET", f"/manage/families/{family.id}/homestays", None),
        ("GET", f"/manage/families/{family.id}/homestays/new", None),
        ("POST", f"/manage/families/{family.id}/homestays/new", CABIN),
        ("GET", f"/manage/homestays/{homestay.id}", None),
        ("POST", f"/manage/homestays/{homestay.id}", CABIN),
        ("POST", f"/manage/homestays/{homestay.id}/retire", {}),
    ]:
        response = client.open(url, method=method, data=data)
        assert response.status_code == 404, (method, url)
        assert "Casa Grefa" not in response.get_data(as_text=True)
    assert _rows() == before


def test_a_route_composer_offers_each_homestay_of_a_family_apart(client, make, world):
    family = world["family"]
    house = make.homestay(family, name="Casa Grefa")
    cabin = make.homestay(family, name="Cabaña del río")
    retired = make.homestay(family, name="Casa vieja", is_active=False)
    route = make._add(
        Route(
            slug="selva-grefa",
            status=ExperienceStatus.DRAFT,
            curator=family.association,
            cancellation_policy=[{"hours": 72, "percent": 100}],
        )
    )
    db.session.commit()
    login(client, world["staff"])
    page = client.get(f"/manage/routes/{route.id}/edit", headers=EN).get_data(as_text=True)
    assert "Casa Grefa (Familia Grefa)" in page and "Cabaña del río (Familia Grefa)" in page
    assert "Casa vieja" not in page  # retired: no new guests
    url = f"/manage/routes/{route.id}/nights"
    for homestay, day in ((house, 1), (cabin, 2)):
        data = {"night-homestay_id": str(homestay.id), "night-day": str(day)}
        assert client.post(url, data=data).status_code == 303
    response = client.post(url, data={"night-homestay_id": str(retired.id), "night-day": "3"})
    assert response.status_code == 400
    db.session.rollback()
    legs = db.session.scalars(select(RouteLeg).where(RouteLeg.route_id == route.id)).all()
    assert [(leg.homestay_id, leg.day) for leg in legs] == [(house.id, 1), (cabin.id, 2)]
