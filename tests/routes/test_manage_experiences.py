"""Experiences through the management pages: create, edit, publish, archive; prices typed
in dollars become cents; stops only with the association's own families; bad input is a
clear message, the right status, and nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.routes import test_manage_access as shared
from tests.routes.test_manage_access import EN, ES
from tourism.extensions import db
from tourism.models import Experience, ExperienceStatus, PriceCategory, Stop

#: Fixtures shared with the other management tests (found by pytest under these names).
admin, app, kallari, make, staff, winak = (
    shared.admin,
    shared.app,
    shared.kallari,
    shared.make,
    shared.staff,
    shared.winak,
)


@pytest.fixture
def family(make, kallari):
    return make.family(kallari, name="Familia Grefa")


def form_data(family=None, **changes) -> dict:
    data = {
        "slug": "ruta-del-cacao",
        "province": "napo",
        "themes": ["cacao", "chakra"],
        "languages": ["es", "en", "qu"],
        "duration_minutes": "240",
        "max_tickets_per_booking": "8",
        "es-title": "Ruta del Cacao",
        "es-summary": "Del árbol a la tableta",
        "es-description": "Visita tres chakras.",
        "es-what_to_bring": "Botas de caucho",
        "es-meeting_point": "Plaza de Tena",
        "en-title": "Cacao Route",
        "en-summary": "From tree to bar",
        "price_adult": "45.50",
        "active_adult": "y",
        "price_child": "25",
        "active_child": "y",
        "stops-0-family_id": str(family.id) if family else "",
        "stops-0-name_es": "Chakra de la familia Grefa",
        "stops-0-name_en": "The Grefa family's chakra",
        "stops-0-duration_minutes": "60",
        "stops-1-name_es": "Planta de chocolate",
        "stops-2-name_es": "",
        "policy-0-hours": "48",
        "policy-0-percent": "100",
        "policy-1-hours": "24",
        "policy-1-percent": "50",
        "payment_options": ["on_arrival", "deposit"],
        "deposit_percent": "30",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_creating_an_experience_saves_everything_as_a_draft(client, staff, kallari, family):
    response = client.post(
        f"/manage/associations/{kallari.id}/experiences/new", data=form_data(family)
    )
    assert response.status_code == 303
    experience = db.session.scalars(select(Experience)).one()
    assert response.headers["Location"].endswith(f"/manage/experiences/{experience.id}/edit")
    assert experience.association_id == kallari.id
    assert experience.status == ExperienceStatus.DRAFT
    assert experience.theme_codes == ["cacao", "chakra"]
    assert experience.language_codes == ["es", "en", "qu"]
    assert experience.payment_option_codes == ["deposit", "on_arrival"] or set(
        experience.payment_option_codes
    ) == {"deposit", "on_arrival"}
    assert experience.deposit_percent == 30
    assert experience.cancellation_policy == [
        {"hours": 48, "percent": 100},
        {"hours": 24, "percent": 50},
    ]
    assert experience.text("es").title == "Ruta del Cacao"
    assert experience.text("en").title == "Cacao Route"
    prices = {pc.code: (pc.price_cents, pc.is_active) for pc in experience.price_categories}
    assert prices == {"adult": (4550, True), "child": (2500, True)}
    assert all(isinstance(pc.price_cents, int) for pc in experience.price_categories)
    stops = experience.stops
    assert [s.position for s in stops] == [0, 1]
    assert stops[0].family_id == family.id and stops[0].duration_minutes == 60
    assert stops[0].text("en").name == "The Grefa family's chakra"
    assert stops[1].family_id is None and stops[1].text("es").name == "Planta de chocolate"


@pytest.mark.parametrize(
    ("typed", "cents"), [("45", 4500), ("45.5", 4550), ("45,50", 4550), ("$ 12.05", 1205)]
)
def test_prices_typed_in_dollars_become_cents(client, staff, kallari, typed, cents):
    response = client.post(
        f"/manage/associations/{kallari.id}/experiences/new",
        data=form_data(price_adult=typed, price_child=""),
    )
    assert response.status_code == 303
    [category] = db.session.scalars(select(PriceCategory)).all()
    assert (category.code, category.price_cents) == ("adult", cents)


@pytest.mark.parametrize("typed", ["45.505", "abc", "-3", "0", "1e3", "4 5", "1_000", "NaN"])
def test_bad_prices_are_refused_and_nothing_is_written(client, staff, kallari, typed):
    response = client.post(
        f"/manage/associations/{kallari.id}/experiences/new",
        data=form_data(price_adult=typed),
        headers=EN,
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "like 45 or 45.50" in html
    assert count(Experience) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"es-title": ""}, "This information is required."),
        ({"en-title": "", "en-summary": "From tree to bar"}, "Give the English title too"),
        ({"slug": "Ruta Del Cacao"}, "lowercase letters, digits and single hyphens"),
        ({"province": "guayas"}, "Choose an option from the list."),
        ({"themes": ["cacao", "surfing"]}, "Choose an option from the list."),
        ({"languages": None}, "This information is required."),
        ({"payment_options": None}, "This information is required."),
        ({"deposit_percent": "0"}, "Choose a number from 1 to 100."),
        ({"policy-0-percent": "101"}, "Choose a number from 0 to 100."),
        ({"policy-1-hours": ""}, "Give both the hours and the refund, or neither."),
        ({"policy-1-percent": ""}, "Give both the hours and the refund, or neither."),
        ({"policy-1-percent": "100", "policy-0-percent": "50"}, "cannot get more back"),
        ({"duration_minutes": "four hours"}, "Write a whole number."),
        ({"stops-1-name_es": "", "stops-1-description_es": "Sin nombre"}, "Spanish name"),
    ],
)
def test_bad_experience_input_is_explained_and_nothing_is_written(
    client, staff, kallari, changes, message
):
    response = client.post(
        f"/manage/associations/{kallari.id}/experiences/new",
        data=form_data(**changes),
        headers=EN,
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(Experience) == 0


def test_pages_follow_the_visitors_language(client, staff, kallari):
    response = client.post(
        f"/manage/associations/{kallari.id}/experiences/new",
        data=form_data(price_adult="abc"),
        headers=ES,
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<html lang="es">' in html and "Adulto" in html


def test_a_stop_cannot_name_another_associations_family(client, staff, kallari, winak, make):
    theirs = make.family(winak, name="Familia Ajena")
    response = client.post(
        f"/manage/associations/{kallari.id}/experiences/new",
        data=form_data(theirs),
        headers=EN,
    )
    assert response.status_code == 400
    assert count(Experience) == 0 and count(Stop) == 0
    # The form never offers it either.
    page = client.get(f"/manage/associations/{kallari.id}/experiences/new", headers=EN)
    assert "Familia Ajena" not in page.get_data(as_text=True)


def test_a_taken_address_is_a_conflict(client, staff, kallari, make):
    make.experience(kallari, slug="ruta-del-cacao")
    response = client.post(
        f"/manage/associations/{kallari.id}/experiences/new", data=form_data(), headers=EN
    )
    assert response.status_code == 409
    assert "already uses the address" in response.get_data(as_text=True)
    assert count(Experience) == 1


def test_the_edit_page_shows_what_is_saved(client, staff, kallari, make):
    experience = make.experience(kallari, prices={"adult": 4550})
    page = client.get(f"/manage/experiences/{experience.id}/edit", headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="45.50"' in html
    assert experience.slug in html and "Ruta de prueba" in html


def test_editing_reorders_and_removes_stops_keeping_their_ids(client, staff, kallari, make):
    experience = make.experience(kallari)
    first, second, third = (make.stop(experience) for _ in range(3))
    db.session.commit()
    data = form_data(
        slug=experience.slug,
        **{
            "stops-0-stop_id": str(third.id),
            "stops-0-name_es": "Tercera, ahora primera",
            "stops-1-stop_id": str(first.id),
            "stops-1-name_es": "Primera, ahora segunda",
            "stops-2-stop_id": str(second.id),
            "stops-2-name_es": "Se va",
            "stops-2-remove": "y",
        },
    )
    response = client.post(f"/manage/experiences/{experience.id}/edit", data=data)
    assert response.status_code == 303
    db.session.expire_all()
    stops = db.session.scalars(
        select(Stop).where(Stop.experience_id == experience.id).order_by(Stop.position)
    ).all()
    assert [(s.id, s.position, s.text("es").name) for s in stops] == [
        (third.id, 0, "Tercera, ahora primera"),
        (first.id, 1, "Primera, ahora segunda"),
    ]


def test_a_stop_id_of_another_experience_is_refused(client, staff, kallari, make):
    experience = make.experience(kallari)
    other_stop = make.stop(make.experience(kallari))
    response = client.post(
        f"/manage/experiences/{experience.id}/edit",
        data=form_data(slug=experience.slug, **{"stops-0-stop_id": str(other_stop.id)}),
        headers=EN,
    )
    assert response.status_code == 400
    assert "not part of this experience" in response.get_data(as_text=True)
    db.session.expire_all()
    assert other_stop.experience_id != experience.id


def test_clearing_a_price_takes_it_off_sale_but_keeps_it(client, staff, kallari, make):
    experience = make.experience(kallari, prices={"adult": 4500, "child": 2500})
    response = client.post(
        f"/manage/experiences/{experience.id}/edit",
        data=form_data(slug=experience.slug, price_adult="50", price_child=""),
    )
    assert response.status_code == 303
    db.session.expire_all()
    prices = {pc.code: (pc.price_cents, pc.is_active) for pc in experience.price_categories}
    assert prices == {"adult": (5000, True), "child": (2500, False)}


def test_publishing_needs_an_active_price(client, staff, kallari, make):
    experience = make.experience(kallari, prices={}, status=ExperienceStatus.DRAFT)
    response = client.post(f"/manage/experiences/{experience.id}/publish", headers=EN)
    assert response.status_code == 409
    assert "at least one ticket price" in response.get_data(as_text=True)
    db.session.expire_all()
    assert experience.status == ExperienceStatus.DRAFT


def test_publish_archive_and_publish_again(client, staff, kallari, make):
    experience = make.experience(kallari, status=ExperienceStatus.DRAFT)
    assert client.post(f"/manage/experiences/{experience.id}/publish").status_code == 303
    db.session.expire_all()
    assert experience.status == ExperienceStatus.PUBLISHED
    assert client.get(f"/experiences/{experience.slug}").status_code == 200
    assert client.post(f"/manage/experiences/{experience.id}/archive").status_code == 303
    db.session.expire_all()
    assert experience.status == ExperienceStatus.ARCHIVED
    assert client.get(f"/experiences/{experience.slug}").status_code == 404
    assert client.post(f"/manage/experiences/{experience.id}/publish").status_code == 303
    db.session.expire_all()
    assert experience.status == ExperienceStatus.PUBLISHED


def test_the_list_shows_the_associations_experiences_only(client, staff, kallari, winak, make):
    make.experience(kallari, slug="mine")
    make.experience(winak, slug="theirs")
    html = client.get(f"/manage/associations/{kallari.id}/experiences", headers=EN).get_data(
        as_text=True
    )
    assert "mine" in html and "theirs" not in html


def test_add_a_stop_without_saving_then_save_them_all(client, staff, kallari, family):
    """Without JavaScript, "Add a stop" sends the form and gets it back as typed with one
    more row, saving nothing; a new row ticked for removal is dropped; then saving keeps
    every stop. There is no limit of three empty rows."""
    url = f"/manage/associations/{kallari.id}/experiences/new"
    data = form_data(family, **{"stops-2-name_es": "Río Napo", "add_stop": "1"})
    for n in range(3, 6):
        grown = client.post(url, data=data, headers=EN)
        assert grown.status_code == 200
        html = grown.get_data(as_text=True)
        assert count(Experience) == 0
        assert 'value="Río Napo"' in html and "is not valid" not in html
        assert f'name="stops-{n}-name_es"' in html
        assert f'name="stops-{n + 1}-name_es"' not in html
        data[f"stops-{n}-name_es"] = f"Parada {n}"
    # A new row ticked for removal disappears at the next "Add a stop".
    data["stops-5-remove"] = "y"
    shrunk = client.post(url, data=data, headers=EN).get_data(as_text=True)
    assert 'value="Parada 5"' not in shrunk and 'value="Parada 4"' in shrunk
    del data["stops-5-remove"], data["stops-5-name_es"], data["add_stop"]
    saved = client.post(url, data=data)
    assert saved.status_code == 303
    experience = db.session.scalars(select(Experience)).one()
    names = [stop.text("es").name for stop in experience.stops]
    assert names == [
        "Chakra de la familia Grefa",
        "Planta de chocolate",
        "Río Napo",
        "Parada 3",
        "Parada 4",
    ]


def test_headings_show_the_title_not_the_web_address(client, staff, kallari, make):
    experience = make.experience(kallari)
    experience.texts[0].title = "Ruta del Cacao Kallari"
    db.session.commit()
    for path in ("edit", "schedules", "photos"):
        html = client.get(f"/manage/experiences/{experience.id}/{path}", headers=ES).get_data(
            as_text=True
        )
        heading = html.split("<h1>", 1)[1].split("</h1>", 1)[0]
        assert "Ruta del Cacao Kallari" in heading and experience.slug not in heading, path
