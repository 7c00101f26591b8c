"""Families and guides rosters, their optional facts shown only in aggregate, invitations,
and every management page answering 200 for the association's own objects."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.routes import test_manage_access as shared
from tests.routes.test_manage_access import EN, member
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import AuthToken, Family, Membership, Notification, Role
from tourism.services.access import accounts

#: Fixtures shared with the other management tests (found by pytest under these names).
admin, app, kallari, make, staff, winak = (
    shared.admin,
    shared.app,
    shared.kallari,
    shared.make,
    shared.staff,
    shared.winak,
)


def test_adding_and_editing_a_family(client, staff, kallari):
    response = client.post(
        f"/manage/associations/{kallari.id}/families/new",
        data={
            "name": "Familia Tapuy",
            "community": "Alto Tena",
            "contact_name": "Rosa Tapuy",
            "contact_phone": "+593 99 000 0000",
            "languages": ["qu", "es"],
            "representative_gender": "female",
            "is_active": "y",
        },
    )
    assert response.status_code == 303
    family = db.session.scalars(select(Family)).one()
    assert (family.association_id, family.languages, family.representative_gender) == (
        kallari.id,
        "qu,es",
        "female",
    )
    assert not family.is_demo
    edit = client.post(
        f"/manage/families/{family.id}/edit",
        data={"name": "Familia Tapuy Grefa", "representative_gender": "", "languages": ["qu"]},
    )
    assert edit.status_code == 303
    db.session.expire_all()
    assert (family.name, family.representative_gender, family.is_active) == (
        "Familia Tapuy Grefa",
        None,
        False,
    )


@pytest.mark.parametrize(
    "data",
    [
        {"name": ""},
        {"name": "X", "representative_gender": "unknown"},
        {"name": "X", "languages": ["klingon"]},
        {"name": "X" * 161},
    ],
)
def test_bad_family_input_is_refused(client, staff, kallari, data):
    response = client.post(f"/manage/associations/{kallari.id}/families/new", data=data)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Family.id))) == 0


def test_family_facts_are_shown_only_in_aggregate(client, staff, kallari, make):
    for n, gender in enumerate(["female", "female", "male", None]):
        make.family(kallari, name=f"Familia {n}", representative_gender=gender)
    html = client.get(f"/manage/associations/{kallari.id}/families", headers=EN).get_data(
        as_text=True
    )
    assert "2 of 4 families are represented by women." in html
    rows = html[html.index("<tbody>") : html.index("</tbody>")]
    assert rows.count("<tr>") == 4
    for word in ("female", "male", "Woman", "Man", "Other", "represented"):
        assert not re.search(rf"\b{word}\b", rows), word


def test_guides_roster_edit_and_aggregate(client, staff, kallari, make):
    guides = [member(make, kallari, Role.GUIDE, name=f"Guía {n}") for n in range(3)]
    membership = db.session.scalars(
        select(Membership).where(Membership.user_id == guides[0].id)
    ).one()
    response = client.post(
        f"/manage/guides/{membership.id}/edit",
        data={
            "phone": "+593 98 111 2222",
            "community": "Rukullakta",
            "languages": ["qu", "es", "en"],
            "under_30": "yes",
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert (membership.phone, membership.languages, membership.under_30) == (
        "+593 98 111 2222",
        "qu,es,en",
        True,
    )
    html = client.get(f"/manage/associations/{kallari.id}/guides", headers=EN).get_data(
        as_text=True
    )
    assert "1 of 3 guides are under 30." in html
    assert "Guía 0" in html and "Rukullakta" in html
    rows = html[html.index("<tbody>") : html.index("</tbody>")]
    assert "under 30" not in rows.lower() and not re.search(r"\b(Yes|No)\b", rows)


def test_a_staff_membership_is_not_editable_as_a_guide(client, staff, kallari, make):
    other_staff = member(make, kallari, Role.STAFF)
    membership = db.session.scalars(
        select(Membership).where(Membership.user_id == other_staff.id)
    ).one()
    assert client.get(f"/manage/guides/{membership.id}/edit").status_code == 404


def test_an_admin_invites_a_guide_by_email_and_sees_the_link(client, admin, kallari):
    response = client.post(
        f"/manage/associations/{kallari.id}/invitations/new",
        data={"email": "luis@example.org", "role": "guide"},
        headers=EN,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "We emailed an invitation to luis@example.org" in html
    [url] = re.findall(r'value="(https://[^"]+/invitations/[^"]+)"', html)
    token = url.rsplit("/", 1)[1]
    email = db.session.scalars(select(Notification).where(Notification.kind == "invitation")).one()
    assert email.recipient == "luis@example.org" and email.sent_at is not None
    invitation = accounts.open_invitation(db.session, token, utcnow())
    assert invitation.role == Role.GUIDE


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"email": "not-an-email", "role": "guide"}, 400),
        ({"email": "luis@example.org", "role": "admin"}, 400),  # not for association admins
        ({"email": "luis@example.org", "role": "owner"}, 400),
        ({"email": "", "role": "guide"}, 400),
    ],
)
def test_bad_invitations_are_refused(client, admin, kallari, data, status):
    response = client.post(f"/manage/associations/{kallari.id}/invitations/new", data=data)
    assert response.status_code == status
    assert db.session.scalar(select(func.count(AuthToken.id))) == 0


def test_inviting_someone_already_there_is_a_conflict(client, admin, kallari, make):
    member(make, kallari, Role.GUIDE, email="luis@example.org")
    response = client.post(
        f"/manage/associations/{kallari.id}/invitations/new",
        data={"email": "Luis@Example.org", "role": "guide"},
        headers=EN,
    )
    assert response.status_code == 409
    assert "already belongs to this association" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AuthToken.id))) == 0


def test_every_page_of_my_association_opens(client, admin, kallari, make):
    family = make.family(kallari)
    experience = make.experience(kallari)
    make.stop(experience, family=family)
    departure = make.departure(experience, starts_in=timedelta(days=1))
    make.booking(departure)
    make.schedule(experience)
    guide = member(make, kallari, Role.GUIDE)
    membership = db.session.scalars(select(Membership).where(Membership.user_id == guide.id)).one()
    for path in [
        "/manage/",
        "/manage/operations",
        "/manage/operations?view=week",
        f"/manage/operations?association={kallari.id}",
        f"/manage/associations/{kallari.id}/experiences",
        f"/manage/associations/{kallari.id}/experiences/new",
        f"/manage/associations/{kallari.id}/families",
        f"/manage/associations/{kallari.id}/families/new",
        f"/manage/associations/{kallari.id}/guides",
        f"/manage/associations/{kallari.id}/invitations/new",
        f"/manage/experiences/{experience.id}/edit",
        f"/manage/experiences/{experience.id}/photos",
        f"/manage/experiences/{experience.id}/schedules",
        f"/manage/experiences/{experience.id}/schedules/new",
        f"/manage/families/{family.id}/edit",
        f"/manage/guides/{membership.id}/edit",
        f"/manage/departures/{departure.id}/edit",
        f"/manage/departures/{departure.id}/cancel",
    ]:
        for headers in (EN, {"Accept-Language": "es"}):
            assert client.get(path, headers=headers).status_code == 200, path
