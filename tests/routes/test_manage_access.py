"""Who may open the management pages, and tenancy: staff of one association never reach
another's experiences, families, guides, schedules or departures (404, never 403).

The fixtures and ``login`` here are shared by the other ``test_manage_*`` modules.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from tests.factories import Factories
from tourism.extensions import db
from tourism.models import Association, Experience, Membership, Role
from tourism.services.access.accounts import start_session

EN = {"Accept-Language": "en"}
ES = {"Accept-Language": "es"}


@pytest.fixture
def app(make_app, tmp_path):
    """The app with uploads and emails in this test's temporary folder."""
    app = make_app(
        UPLOAD_DIR=str(tmp_path / "uploads"),
        MAIL_BACKEND="folder",
        MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
        PUBLIC_URL="https://chakra.example",
    )
    with app.app_context():
        yield app


@pytest.fixture
def make(app):
    return Factories(db.session)


def login(client, user) -> None:
    """Sign ``user`` in by planting the Flask-Login session a real sign-in would create."""
    token = start_session(user)
    db.session.commit()
    app = client.application
    with app.test_request_context(environ_base=client.environ_base):
        identifier = app.login_manager._session_identifier_generator()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
        session["_id"] = identifier


def member(make, association, role=Role.STAFF, **kw):
    return make.user(password="", memberships=[(association, role)], **kw)


@pytest.fixture
def kallari(make):
    return make.association(name="Kallari")


@pytest.fixture
def winak(make):
    return make.association(name="Wiñak")


@pytest.fixture
def staff(make, client, kallari):
    """A signed-in staff member of Kallari."""
    user = member(make, kallari, Role.STAFF)
    login(client, user)
    return user


@pytest.fixture
def admin(make, client, kallari):
    """A signed-in admin of Kallari."""
    user = member(make, kallari, Role.ADMIN)
    login(client, user)
    return user


# --- Signing in ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/manage/",
        "/manage/operations",
        "/manage/associations/1/experiences",
        "/manage/experiences/1/edit",
        "/manage/departures/1/cancel",
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].split("?")[0].endswith("/login")


def test_a_guide_without_a_management_role_gets_not_found(client, make, kallari):
    login(client, member(make, kallari, Role.GUIDE))
    assert client.get("/manage/").status_code == 404
    assert client.get(f"/manage/associations/{kallari.id}/experiences").status_code == 404


def test_the_dashboard_lists_only_my_associations(client, staff, kallari, winak, make):
    make.experience(kallari, slug="ruta-del-cacao")
    page = client.get("/manage/", headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Kallari" in html and "Wiñak" not in html
    assert f"/manage/associations/{kallari.id}/experiences" in html
    assert "Add an association" not in html
    assert "Invite someone" not in html  # staff, not admin


def test_a_platform_admin_sees_every_association_and_creates_one(client, make, kallari, winak):
    login(client, make.user(password="", is_platform_admin=True))
    html = client.get("/manage/", headers=EN).get_data(as_text=True)
    assert "Kallari" in html and "Wiñak" in html
    response = client.post(
        "/manage/associations/new",
        data={"name": "ASOPROMÁS", "slug": "asopromas", "code": "aso", "province": "pastaza"},
    )
    assert response.status_code == 303
    created = db.session.scalars(select(Association).where(Association.slug == "asopromas")).one()
    assert created.code == "ASO"
    assert response.headers["Location"].endswith(
        f"/manage/associations/{created.id}/invitations/new"
    )


def test_creating_an_association_with_a_taken_code_is_refused(client, make, kallari):
    login(client, make.user(password="", is_platform_admin=True))
    before = db.session.scalar(select(func.count(Association.id)))
    response = client.post(
        "/manage/associations/new",
        data={"name": "Copy", "slug": "copy", "code": kallari.code, "province": "napo"},
        headers=EN,
    )
    assert response.status_code == 409
    assert "already uses that address or code" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Association.id))) == before


def test_only_platform_admins_may_create_associations(client, admin):
    assert client.get("/manage/associations/new").status_code == 404
    response = client.post(
        "/manage/associations/new",
        data={"name": "X", "slug": "x", "code": "XXX", "province": "napo"},
    )
    assert response.status_code == 404
    assert db.session.scalar(select(func.count(Association.id)).where(Association.slug == "x")) == 0


# --- Tenancy: another association's objects are not found ----------------------------------


@pytest.fixture
def theirs(make, winak):
    """Wiñak's experience, family, guide, schedule and departure."""
    experience = make.experience(winak)
    guide = member(make, winak, Role.GUIDE)
    membership = db.session.scalars(select(Membership).where(Membership.user_id == guide.id)).one()
    return {
        "experience": experience,
        "family": make.family(winak),
        "membership": membership,
        "schedule": make.schedule(experience),
        "departure": make.departure(experience),
    }


def test_staff_get_not_found_for_another_associations_pages(client, staff, winak, theirs):
    experience, departure = theirs["experience"], theirs["departure"]
    for path in [
        f"/manage/associations/{winak.id}/experiences",
        f"/manage/associations/{winak.id}/experiences/new",
        f"/manage/associations/{winak.id}/families",
        f"/manage/associations/{winak.id}/families/new",
        f"/manage/associations/{winak.id}/guides",
        f"/manage/associations/{winak.id}/invitations/new",
        f"/manage/experiences/{experience.id}/edit",
        f"/manage/experiences/{experience.id}/photos",
        f"/manage/experiences/{experience.id}/schedules",
        f"/manage/experiences/{experience.id}/schedules/new",
        f"/manage/families/{theirs['family'].id}/edit",
        f"/manage/guides/{theirs['membership'].id}/edit",
        f"/manage/departures/{departure.id}/edit",
        f"/manage/departures/{departure.id}/cancel",
        f"/manage/operations?association={winak.id}",
    ]:
        assert client.get(path).status_code == 404, path


def test_staff_cannot_change_another_associations_objects(client, staff, winak, theirs):
    experience, departure = theirs["experience"], theirs["departure"]
    posts = [
        (f"/manage/experiences/{experience.id}/publish", {}),
        (f"/manage/experiences/{experience.id}/archive", {}),
        (f"/manage/experiences/{experience.id}/departures/generate", {}),
        (f"/manage/families/{theirs['family'].id}/edit", {"name": "Renamed"}),
        (f"/manage/departures/{departure.id}/edit", {"capacity": "1"}),
        (f"/manage/departures/{departure.id}/cancel", {"reason": "Lluvia"}),
        (f"/manage/associations/{winak.id}/families/new", {"name": "Intrusos"}),
    ]
    for path, data in posts:
        assert client.post(path, data=data).status_code == 404, path
    db.session.expire_all()
    assert experience.status.value == "published"
    assert departure.status.value == "scheduled" and departure.capacity == 10
    assert theirs["family"].name != "Renamed"


def test_unknown_ids_are_not_found_not_errors(client, staff):
    for path in [
        "/manage/experiences/999999/edit",
        "/manage/departures/2147483647/edit",
        "/manage/departures/99999999999/edit",
        "/manage/photos/999999/delete",
    ]:
        method = client.post if path.endswith("delete") else client.get
        assert method(path).status_code == 404, path


def test_staff_may_not_invite_only_admins_may(client, staff, kallari):
    assert client.get(f"/manage/associations/{kallari.id}/invitations/new").status_code == 404


def test_a_platform_admin_reaches_any_association(client, make, winak, theirs):
    login(client, make.user(password="", is_platform_admin=True))
    assert client.get(f"/manage/experiences/{theirs['experience'].id}/edit").status_code == 200
    assert client.get(f"/manage/associations/{winak.id}/families").status_code == 200


def test_dashboard_counts_departures_of_the_coming_week(client, staff, kallari, make):
    experience = make.experience(kallari)
    make.departure(experience, starts_in=timedelta(days=2))
    make.departure(experience, starts_in=timedelta(days=3))
    make.departure(experience, starts_in=timedelta(days=20))
    assert current_app.config["UPLOAD_DIR"]
    html = client.get("/manage/", headers=EN).get_data(as_text=True)
    assert "Departures in the next 7 days</dt><dd>2</dd>" in html
    assert db.session.scalar(select(func.count(Experience.id))) == 1
