"""The split-rule page: staff see the versions, admins preview and approve a new one; the
form turns percentages and dollars into basis points and cents; bad input is a translated
message with status 400 and nothing stored; another association's experience is 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.routes import test_manage_access as shared
from tests.routes.test_manage_access import EN, ES
from tourism.extensions import db
from tourism.forms.split_rules import format_percent, parse_percent
from tourism.models import SplitRule
from tourism.timefmt import local_today

admin, app, kallari, make, staff, winak = (
    shared.admin,
    shared.app,
    shared.kallari,
    shared.make,
    shared.staff,
    shared.winak,
)


@pytest.fixture
def experience(make, kallari):
    experience = make.experience(kallari, prices={"adult": 4500, "child": 2500})
    make.stop(experience, make.family(kallari, name="Familia Grefa"))
    make.stop(experience, make.family(kallari, name="Familia Tapuy"))
    make.stop(experience)  # the chocolate workshop: no host family
    db.session.commit()
    return experience


def url(experience) -> str:
    return f"/manage/experiences/{experience.id}/split-rules"


def shares(**changes) -> dict:
    data = {
        "percent_families": "60",
        "percent_guides": "20",
        "percent_association_fund": "10",
        "percent_conservation_fund": "5",
        "percent_platform": "5",
        "fixed_guides": "",
    }
    return data | changes


def weights(experience, *values) -> dict:
    hosted = [stop for stop in experience.stops if stop.family_id is not None]
    return {f"weight_{stop.id}": str(value) for stop, value in zip(hosted, values, strict=True)}


def rule_count() -> int:
    return db.session.scalar(select(func.count()).select_from(SplitRule))


@pytest.mark.parametrize(
    ("text", "points"),
    [("0", 0), ("100", 10_000), ("12.5", 1_250), ("12,5", 1_250), ("0.01", 1), (" 7 %", 700)],
)
def test_percentages_become_basis_points(text, points):
    assert parse_percent(text) == points
    assert parse_percent(format_percent(points)) == points


@pytest.mark.parametrize("text", ["100.01", "-1", "1e2", "12.345", "", "doce", "١٢", "1 000"])
def test_other_percentages_are_refused(text):
    with pytest.raises(ValueError):
        parse_percent(text)


def test_an_admin_previews_then_approves_a_version(client, admin, experience):
    page = client.get(url(experience), headers=EN)
    assert page.status_code == 200
    assert "No split rule yet" in page.get_data(as_text=True)

    data = shares() | weights(experience, 2, 1)
    preview = client.post(url(experience), data=data | {"action": "preview"}, headers=EN)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    # One adult ticket of $45.00: families 60% = $27.00, by weights 2:1 → $18.00 and $9.00.
    assert "Familia Grefa" in html and "$18.00" in html and "$9.00" in html
    assert rule_count() == 0  # a preview stores nothing

    approved = client.post(url(experience), data=data | {"action": "approve"}, headers=EN)
    assert approved.status_code == 303
    rule = db.session.scalars(select(SplitRule)).one()
    assert rule.version == 1 and rule.approved_by_id == admin.id
    assert {p["party"]: p["basis_points"] for p in rule.parts} == {
        "families": 6_000,
        "guides": 2_000,
        "association_fund": 1_000,
        "conservation_fund": 500,
        "platform": 500,
    }
    hosted = [s.id for s in experience.stops if s.family_id is not None]
    assert rule.stop_weights == [[hosted[0], 2], [hosted[1], 1]]
    page = client.get(url(experience), headers=EN).get_data(as_text=True)
    assert "in force" in page and 'value="60"' in page  # the form starts from the latest


def test_equal_weights_and_fixed_amounts_are_stored_plainly(client, admin, experience):
    data = shares(fixed_guides="5.50") | weights(experience, 1, 1) | {"action": "approve"}
    assert client.post(url(experience), data=data).status_code == 303
    rule = db.session.scalars(select(SplitRule)).one()
    assert rule.stop_weights == []
    guides = next(p for p in rule.parts if p["party"] == "guides")
    assert guides["cents_per_participant"] == 550


def test_a_later_day_schedules_the_version(client, admin, experience):
    day = local_today() + timedelta(days=10)
    data = shares() | weights(experience, 1, 1) | {"effective_on": day.isoformat()}
    assert client.post(url(experience), data=data | {"action": "approve"}).status_code == 303
    rule = db.session.scalars(select(SplitRule)).one()
    assert rule.effective_from.date() in (day, day + timedelta(days=1))  # local midnight, UTC
    assert "scheduled" in client.get(url(experience), headers=EN).get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "english"),
    [
        ({"percent_platform": "6"}, "add up to 101%"),
        ({"percent_platform": "abc"}, "Write a percentage from 0 to 100"),
        ({"percent_platform": "101"}, "Write a percentage from 0 to 100"),
        ({"fixed_guides": "-3"}, "Write an amount like 5 or 2.50"),
        ({"effective_on": "2001-01-01"}, "Choose"),
        ({"effective_on": "yesterday"}, ""),
    ],
)
def test_bad_input_is_a_message_and_nothing_stored(client, admin, experience, changes, english):
    data = shares(**changes) | weights(experience, 1, 1) | {"action": "approve"}
    response = client.post(url(experience), data=data, headers=EN)
    assert response.status_code == 400
    assert english in response.get_data(as_text=True)
    assert rule_count() == 0


def test_bad_input_is_explained_in_spanish(client, admin, experience):
    data = shares(percent_platform="6") | weights(experience, 1, 1) | {"action": "approve"}
    response = client.post(url(experience), data=data, headers=ES)
    assert response.status_code == 400
    assert "deben sumar 100" in response.get_data(as_text=True)


def test_stop_weights_must_be_whole_and_not_all_zero(client, admin, experience):
    for values in (("x", 1), (-1, 1), (101, 1)):
        data = shares() | weights(experience, *values) | {"action": "approve"}
        assert client.post(url(experience), data=data).status_code == 400
    data = shares() | weights(experience, 0, 0) | {"action": "approve"}
    response = client.post(url(experience), data=data, headers=EN)
    assert response.status_code == 400
    assert "At least one stop needs a weight above zero" in response.get_data(as_text=True)
    assert rule_count() == 0


def test_staff_see_the_rules_but_cannot_approve(client, staff, experience):
    page = client.get(url(experience), headers=EN)
    assert page.status_code == 200
    assert "Only an admin of the association" in page.get_data(as_text=True)
    data = shares() | weights(experience, 1, 1) | {"action": "approve"}
    assert client.post(url(experience), data=data, headers=EN).status_code == 403
    assert rule_count() == 0


def test_another_associations_experience_is_not_found(client, admin, make, winak):
    theirs = make.experience(winak)
    db.session.commit()
    assert client.get(url(theirs)).status_code == 404
    assert client.post(url(theirs), data=shares() | {"action": "approve"}).status_code == 404
    assert rule_count() == 0
