"""Guides for many departures through the management pages: a schedule saved with default
guides gives them to its departures; one guide for ticked departures or a date range, with one
result line per departure; default guides changed later; bad input refused, nothing changed."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from tests.routes import test_manage_access as shared
from tests.routes.test_manage_access import EN, member
from tourism.extensions import db
from tourism.models import (
    Departure,
    DepartureGuide,
    GuideRole,
    GuideTimeOff,
    Role,
    Schedule,
    ScheduleGuide,
)
from tourism.services.operations import recurrence
from tourism.timefmt import display_zone, local_to_utc, local_today

app, kallari, make, staff, winak = (
    shared.app,
    shared.kallari,
    shared.make,
    shared.staff,
    shared.winak,
)


@pytest.fixture
def experience(make, kallari):
    return make.experience(kallari, duration_minutes=180)


@pytest.fixture
def team(make, kallari):
    return {
        "rosa": make.guide(kallari, name="Rosa Grefa"),
        "luis": make.guide(kallari, name="Luis Tanguila"),
    }


def assigned(user) -> int:
    return db.session.scalar(
        select(func.count(DepartureGuide.id)).where(DepartureGuide.user_id == user.id)
    )


def schedule_form(**changes) -> dict:
    today = local_today()
    data = {
        "weekdays": ["TU", "TH", "SA"],
        "start_time": "08:30",
        "duration_minutes": "180",
        "capacity": "12",
        "valid_from": (today + timedelta(days=1)).isoformat(),
        "valid_until": "",
        "window_from": (today + timedelta(days=1)).isoformat(),
        "window_until": (today + timedelta(days=60)).isoformat(),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_a_schedule_saved_with_default_guides_gives_them_to_its_departures(
    client, staff, experience, team
):
    rosa, luis = team["rosa"], team["luis"]
    first_tuesday = next(
        local_today() + timedelta(days=n)
        for n in range(1, 8)
        if (local_today() + timedelta(days=n)).weekday() == 1
    )
    # Rosa is away the first Tuesday: that departure is made without her, and said so.
    db.session.add(
        GuideTimeOff(
            user_id=rosa.id,
            association_id=experience.association_id,
            starts_at=local_to_utc(first_tuesday, time(0)),
            ends_at=local_to_utc(first_tuesday + timedelta(days=1), time(0)),
        )
    )
    db.session.commit()
    url = f"/manage/experiences/{experience.id}/schedules/new"
    form = client.get(url, headers=EN).get_data(as_text=True)
    assert "Default guides" in form and "Rosa Grefa" in form
    saved = client.post(
        url,
        data=schedule_form(save="Save", lead_id=str(rosa.id), assistant_ids=[str(luis.id)]),
        headers=EN,
    )
    assert saved.status_code == 303
    schedule = db.session.scalars(select(Schedule)).one()
    defaults = db.session.scalars(select(ScheduleGuide).order_by(ScheduleGuide.id)).all()
    assert [(d.user_id, d.role) for d in defaults] == [
        (rosa.id, GuideRole.LEAD),
        (luis.id, GuideRole.ASSISTANT),
    ]
    made = db.session.scalar(
        select(func.count(Departure.id)).where(Departure.schedule_id == schedule.id)
    )
    assert 24 <= made <= 27
    assert assigned(luis) == made
    assert assigned(rosa) == made - 1
    page = client.get(f"/manage/experiences/{experience.id}/schedules", headers=EN)
    html = page.get_data(as_text=True)
    assert "Rosa Grefa was not given the departure of" in html
    assert "has time off" in html
    assert "Rosa Grefa (lead), Luis Tanguila (assistant)" in html


def test_a_lead_cannot_be_an_assistant_too(client, staff, experience, team):
    rosa = team["rosa"]
    response = client.post(
        f"/manage/experiences/{experience.id}/schedules/new",
        data=schedule_form(save="Save", lead_id=str(rosa.id), assistant_ids=[str(rosa.id)]),
        headers=EN,
    )
    assert response.status_code == 400
    assert "The lead guide cannot be an assistant as well." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Schedule.id))) == 0


@pytest.fixture
def route(make, experience):
    schedule = make.schedule(experience, weekdays="TU,TH,SA")
    today = local_today()
    departures = recurrence.generate_departures(
        db.session, schedule, today + timedelta(days=1), today + timedelta(days=60), display_zone()
    )
    db.session.commit()
    return {"schedule": schedule, "departures": departures}


def bulk_url(experience) -> str:
    return f"/manage/experiences/{experience.id}/departures/guides"


def test_one_guide_for_a_date_range_with_a_line_per_departure(
    client, staff, experience, team, route, make
):
    rosa = team["rosa"]
    busy = route["departures"][1]
    make.assign(busy, team["luis"], "lead")
    db.session.commit()
    today = local_today()
    response = client.post(
        bulk_url(experience),
        data={
            "guide_id": str(rosa.id),
            "role": "lead",
            "scope": "range",
            "first_day": today.isoformat(),
            "last_day": (today + timedelta(days=60)).isoformat(),
        },
        headers=EN,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    lines = re.findall(r'<li class="result--(\w+)">', html)
    assert len(lines) == len(route["departures"])
    assert lines.count("skipped") == 1 and lines.count("assigned") == len(lines) - 1
    assert "already has a lead guide: Luis Tanguila" in html
    assert f"Assigned: {len(lines) - 1} · already there: 0 · skipped: 1" in html
    assert assigned(rosa) == len(lines) - 1


def test_one_guide_for_ticked_departures(client, staff, experience, team, route):
    luis = team["luis"]
    page = client.get(f"/manage/experiences/{experience.id}/schedules", headers=EN)
    html = page.get_data(as_text=True)
    assert html.count('name="departure_ids"') == len(route["departures"])
    ticked = [str(d.id) for d in route["departures"][:3]]
    response = client.post(
        bulk_url(experience),
        data={
            "guide_id": str(luis.id),
            "role": "assistant",
            "scope": "range",  # the button under the list wins over the radio
            "departure_ids": ticked,
            "assign_ticked": "Assign to the ticked departures",
        },
        headers=EN,
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('class="result--assigned"') == 3
    roles = db.session.scalars(
        select(DepartureGuide.role).where(DepartureGuide.user_id == luis.id)
    ).all()
    assert roles == [GuideRole.ASSISTANT] * 3


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"scope": "selected"}, "Tick at least one departure in the list."),
        ({"scope": "range", "first_day": ""}, "Give the first and the last day."),
        ({"scope": "range", "last_day": "2000-01-01"}, "Choose a date within the next five years."),
        ({"guide_id": "999999"}, "Choose an option from the list."),
        ({"role": "boss"}, "Choose an option from the list."),
        ({"departure_ids": ["999999"]}, "Choose an option from the list."),
        (
            {"scope": "range", "last_day": "OFFSET-400"},
            "Choose at most 366 days or 400 departures at once.",
        ),
    ],
)
def test_bad_batches_are_refused_and_change_nothing(
    client, staff, experience, team, route, changes, message
):
    today = local_today()
    data = {
        "guide_id": str(team["rosa"].id),
        "role": "lead",
        "scope": "range",
        "first_day": today.isoformat(),
        "last_day": (today + timedelta(days=30)).isoformat(),
    } | changes
    if data.get("last_day") == "OFFSET-400":
        data["last_day"] = (today + timedelta(days=400)).isoformat()
    response = client.post(bulk_url(experience), data=data, headers=EN)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(DepartureGuide.id))) == 0


def test_a_guide_of_another_association_cannot_be_chosen(
    client, staff, experience, route, make, winak
):
    stranger = make.guide(winak)
    db.session.commit()
    response = client.post(
        bulk_url(experience),
        data={
            "guide_id": str(stranger.id),
            "role": "lead",
            "scope": "selected",
            "departure_ids": [str(route["departures"][0].id)],
        },
        headers=EN,
    )
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(DepartureGuide.id))) == 0


def test_changing_a_schedules_default_guides(client, staff, experience, team, route):
    url = f"/manage/schedules/{route['schedule'].id}/guides"
    page = client.get(url, headers=EN)
    assert page.status_code == 200
    assert "Also give them to this schedule" in page.get_data(as_text=True)
    response = client.post(
        url, data={"lead_id": str(team["rosa"].id), "give_to_coming": "y"}, headers=EN
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('class="result--assigned"') == len(route["departures"])
    again = client.get(url, headers=EN).get_data(as_text=True)
    assert re.search(
        rf'<option selected value="{team["rosa"].id}">|<option value="{team["rosa"].id}" selected>',
        again,
    )
    assert db.session.scalars(select(ScheduleGuide.user_id)).all() == [team["rosa"].id]


def test_staff_of_another_association_find_nothing(client, make, winak, experience, route):
    shared.login(client, member(make, winak, Role.ADMIN))
    assert client.get(f"/manage/schedules/{route['schedule'].id}/guides").status_code == 404
    assert client.post(bulk_url(experience), data={}).status_code == 404


def test_an_empty_guide_or_departure_value_is_refused_not_a_500(
    client, staff, experience, team, route
):
    """``assistant_ids=`` (an empty checkbox value) once slipped past the choice check."""
    url = f"/manage/schedules/{route['schedule'].id}/guides"
    response = client.post(url, data={"lead_id": "", "assistant_ids": ""}, headers=EN)
    assert response.status_code == 400
    assert db.session.scalars(select(ScheduleGuide.user_id)).all() == []
    response = client.post(
        bulk_url(experience),
        data={"guide_id": str(team["rosa"].id), "scope": "selected", "departure_ids": ""},
        headers=EN,
    )
    assert response.status_code == 400
