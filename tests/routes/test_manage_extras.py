"""An association's extras kept by its staff: create, edit, retire; bad input gets a
translated message, 400, and changes nothing; another association's staff cannot touch them
(they are simply not found)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.routes.test_manage_route_composing import login
from tourism.extensions import db
from tourism.models import Extra, Role

EN = {"Accept-Language": "en"}
ES = {"Accept-Language": "es"}


@pytest.fixture
def world(make):
    association = make.association()
    other = make.association()
    family = make.family(association, name="Familia Tapuy")
    tour = make.experience(association)
    foreign_family = make.family(other)
    foreign_tour = make.experience(other)
    staff = make.user(memberships=[(association, Role.STAFF)])
    stranger = make.user(memberships=[(other, Role.ADMIN)])
    db.session.commit()
    return dict(
        association=association,
        family=family,
        tour=tour,
        foreign_family=foreign_family,
        foreign_tour=foreign_tour,
        staff=staff,
        stranger=stranger,
    )


def form(world, **change) -> dict:
    return {
        "name_es": "Almuerzo de la chakra",
        "name_en": "Chakra lunch",
        "price": "7.50",
        "stock": "",
        "family_id": str(world["family"].id),
        "experience_ids": [str(world["tour"].id)],
        "is_active": "y",
    } | change


def _extras():
    db.session.rollback()
    return [
        (
            e.name_es,
            e.name_en,
            e.price_cents,
            e.stock,
            e.stock_per_departure,
            e.family_id,
            [x.id for x in e.experiences],
            e.is_active,
        )
        for e in db.session.scalars(select(Extra).order_by(Extra.id))
    ]


def test_staff_create_edit_and_retire_an_extra(client, world):
    login(client, world["staff"])
    association_id = world["association"].id
    listing = f"/manage/associations/{association_id}/extras"
    assert client.get(listing, headers=EN).status_code == 200
    assert client.get(f"{listing}/new", headers=EN).status_code == 200
    assert client.post(f"{listing}/new", data=form(world)).status_code == 303
    family_id, tour_id = world["family"].id, world["tour"].id
    assert _extras() == [
        ("Almuerzo de la chakra", "Chakra lunch", 750, None, False, family_id, [tour_id], True)
    ]
    extra_id = db.session.scalar(select(Extra.id))
    page = client.get(listing, headers=EN).get_data(as_text=True)
    assert "Chakra lunch" in page and "Familia Tapuy" in page

    edit = f"/manage/extras/{extra_id}/edit"
    assert client.get(edit, headers=EN).status_code == 200
    changed = form(
        world, price="8", stock="12", stock_per_departure="y", family_id="", experience_ids=[]
    )
    assert client.post(edit, data=changed).status_code == 303
    assert _extras() == [("Almuerzo de la chakra", "Chakra lunch", 800, 12, True, None, [], True)]

    assert client.post(f"/manage/extras/{extra_id}/retire").status_code == 303
    assert _extras()[0][-1] is False
    assert "retired" in client.get(listing, headers=EN).get_data(as_text=True)


@pytest.mark.parametrize(
    "change, english, spanish",
    [
        ({"price": "free"}, "Write an amount like 45 or 45.50.", "Escribe un monto"),
        ({"price": "0"}, "Write a price above zero", "Escribe un precio mayor que cero"),
        ({"price": "   "}, "This information is required.", "Este dato es obligatorio."),
        ({"price": "\u00a0"}, "This information is required.", "Este dato es obligatorio."),
        ({"name_es": ""}, "This information is required.", "Este dato es obligatorio."),
        ({"stock": "-1"}, "Choose a number from 0 to 10000.", "Elige un número"),
        ({"stock": "many"}, "Write a whole number.", "Escribe un número entero."),
        ({"family_id": "foreign"}, "Choose an option from the list.", "Elige una opción"),
        ({"experience_ids": ["foreign"]}, "Choose an option from the list.", "Elige una opción"),
        (
            {"stock": "", "stock_per_departure": "y"},
            "Give the stock that each departure has.",
            "Indica las unidades",
        ),
    ],
)
def test_bad_extra_input_is_refused_translated_and_changes_nothing(
    client, world, change, english, spanish
):
    login(client, world["staff"])
    url = f"/manage/associations/{world['association'].id}/extras/new"
    ids = {"foreign": str(world["foreign_family"].id)}
    if change.get("experience_ids"):
        change = {"experience_ids": [str(world["foreign_tour"].id)]}
    change = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in change.items()}
    for headers, message in ((EN, english), (ES, spanish)):
        response = client.post(url, data=form(world, **change), headers=headers)
        assert response.status_code == 400, change
        assert message in response.get_data(as_text=True)
    assert _extras() == []


def test_another_association_cannot_see_or_touch_an_extra(client, world, make):
    extra = make.route_extra(world["association"], price=500, name_es="Caja de chocolate")
    db.session.commit()
    extra_id = extra.id
    before = _extras()
    login(client, world["stranger"])
    association_id = world["association"].id
    for method, url in (
        ("get", f"/manage/associations/{association_id}/extras"),
        ("get", f"/manage/associations/{association_id}/extras/new"),
        ("post", f"/manage/associations/{association_id}/extras/new"),
        ("get", f"/manage/extras/{extra_id}/edit"),
        ("post", f"/manage/extras/{extra_id}/edit"),
        ("post", f"/manage/extras/{extra_id}/retire"),
    ):
        response = getattr(client, method)(url, data=form(world))
        assert response.status_code == 404, url
        assert "Caja de chocolate" not in response.get_data(as_text=True)
    assert _extras() == before
