"""The minimum visitors of an experience, set on its management page; what visitors see of
it ("needs N more to run"); and another association's experience is not found."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.routes import test_manage_access as shared
from tests.routes.test_manage_access import EN, ES
from tourism.extensions import db
from tourism.models import Experience, ExperienceStatus

app, kallari, make, staff, winak = (
    shared.app,
    shared.kallari,
    shared.make,
    shared.staff,
    shared.winak,
)


@pytest.fixture
def experience(make, kallari):
    return make.experience(kallari)


def _saved(experience_id: int) -> tuple[int, int]:
    db.session.expire_all()
    found = db.session.get(Experience, experience_id)
    return found.min_participants, found.min_cutoff_hours


def test_the_edit_page_offers_the_minimum(client, staff, experience):
    html = client.get(f"/manage/experiences/{experience.id}/edit", headers=ES).get_data(
        as_text=True
    )
    assert "Mínimo de visitantes" in html
    assert f"/manage/experiences/{experience.id}/minimum" in html


def test_setting_the_minimum(client, staff, experience):
    response = client.post(
        f"/manage/experiences/{experience.id}/minimum",
        data={"min_participants": "4", "min_cutoff_hours": "36"},
    )
    assert response.status_code == 303
    assert _saved(experience.id) == (4, 36)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"min_participants": "-1", "min_cutoff_hours": "48"},
            "El mínimo debe estar entre 0 y 500.",
        ),
        (
            {"min_participants": "501", "min_cutoff_hours": "48"},
            "El mínimo debe estar entre 0 y 500.",
        ),
        ({"min_participants": "3", "min_cutoff_hours": "0"}, "de 1 a 336"),
        ({"min_participants": "tres", "min_cutoff_hours": "48"}, "No es un valor entero válido"),
        ({"min_participants": "3"}, "Este campo es obligatorio"),
        ({"min_participants": "9" * 400, "min_cutoff_hours": "48"}, "entre 0 y 500"),
    ],
)
def test_bad_minimums_are_explained_and_nothing_changes(client, staff, experience, data, message):
    response = client.post(f"/manage/experiences/{experience.id}/minimum", data=data, headers=ES)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _saved(experience.id) == (0, 48)


def test_another_associations_experience_is_not_found(client, staff, make, winak):
    theirs = make.experience(winak)
    db.session.commit()
    response = client.post(
        f"/manage/experiences/{theirs.id}/minimum",
        data={"min_participants": "4", "min_cutoff_hours": "36"},
    )
    assert response.status_code == 404
    assert _saved(theirs.id) == (0, 48)


def test_visitors_see_how_many_more_a_departure_needs(client, make, kallari):
    experience = make.experience(kallari, status=ExperienceStatus.PUBLISHED)
    experience.min_participants = 5
    departure = make.departure(experience, capacity=10, starts_in=timedelta(days=3))
    make.booking(departure, quantities={"adult": 2})
    full = make.departure(experience, capacity=10, starts_in=timedelta(days=4))
    make.booking(full, quantities={"adult": 6})
    db.session.commit()
    html = client.get(f"/experiences/{experience.slug}", headers=EN).get_data(as_text=True)
    assert html.count("Needs 3 more visitors to run") == 1
    assert "more visitor to run" not in html.replace("Needs 3 more visitors to run", "")
    booking_page = client.get(f"/departures/{departure.id}/book", headers=ES).get_data(as_text=True)
    assert "Necesita 3 visitantes más para realizarse" in booking_page
