"""Curators compose routes from the management pages; the associations asked answer; bad
input gets a translated message, 400, and nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD
from tourism.extensions import db
from tourism.models import (
    ExperienceStatus,
    ParticipationStatus,
    Role,
    Route,
    RouteLeg,
    RouteParticipation,
)

EN = {"Accept-Language": "en"}
ES = {"Accept-Language": "es"}


def login(client, user):
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code in (302, 303)


@pytest.fixture
def world(make):
    curator = make.association()
    other = make.association()
    mine = make.experience(curator, duration_minutes=180)
    theirs = make.experience(other, duration_minutes=120)
    night = make.homestay(make.family(curator))
    staff = make.user(memberships=[(curator, Role.STAFF)])
    other_staff = make.user(memberships=[(other, Role.STAFF)])
    db.session.commit()
    return dict(
        curator=curator,
        other=other,
        mine=mine,
        theirs=theirs,
        night=night,
        staff=staff,
        other_staff=other_staff,
    )


ROUTE_FORM = {
    "slug": "selva-two-days",
    "title_es": "Dos días en la selva",
    "summary_es": "Cacao y guayusa",
    "title_en": "Two days in the forest",
    "curator_fee": "2.50",
    "max_people_per_booking": "6",
    "policy-0-hours": "72",
    "policy-0-percent": "100",
}


def _new_route(client, world) -> Route:
    url = f"/manage/associations/{world['curator'].id}/routes/new"
    assert client.get(url, headers=EN).status_code == 200
    response = client.post(url, data=ROUTE_FORM, headers=EN)
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.rollback()
    return db.session.scalars(select(Route).where(Route.slug == "selva-two-days")).one()


def _state(route_id):
    db.session.rollback()
    legs = db.session.scalars(
        select(RouteLeg).where(RouteLeg.route_id == route_id).order_by(RouteLeg.position)
    ).all()
    route = db.session.get(Route, route_id)
    parts = db.session.scalars(
        select(RouteParticipation).where(RouteParticipation.route_id == route_id)
    ).all()
    return (
        route.status,
        [(leg.position, leg.day, leg.kind, leg.experience_id, leg.homestay_id) for leg in legs],
        sorted((p.association_id, p.status) for p in parts),
    )


def _activity(client, route, experience, day, at, headers=EN):
    return client.post(
        f"/manage/routes/{route.id}/activities",
        data={
            "activity-experience_id": experience.id,
            "activity-day": day,
            "activity-start_time": at,
        },
        headers=headers,
    )


def test_a_curator_composes_and_publishes_a_route(client, world):
    login(client, world["staff"])
    route = _new_route(client, world)
    assert route.curator_association_id == world["curator"].id
    assert route.curator_fee_cents == 250 and route.status == ExperienceStatus.DRAFT
    assert route.cancellation_policy == [{"hours": 72, "percent": 100}]
    assert _activity(client, route, world["mine"], 1, "08:30").status_code == 303
    response = client.post(
        f"/manage/routes/{route.id}/nights",
        data={"night-homestay_id": world["night"].id, "night-day": 1},
    )
    assert response.status_code == 303
    assert _activity(client, route, world["theirs"], 2, "09:00").status_code == 303
    status, legs, parts = _state(route.id)
    assert [leg[1] for leg in legs] == [1, 1, 2]
    # The curator's own legs need no request; the other association is asked.
    assert parts == sorted(
        [
            (world["curator"].id, ParticipationStatus.APPROVED),
            (world["other"].id, ParticipationStatus.PENDING),
        ]
    )
    # Not approved yet: publishing is refused with the reason, and nothing changes.
    response = client.post(f"/manage/routes/{route.id}/publish", headers=EN)
    assert response.status_code == 400
    assert "has not approved taking part" in response.get_data(as_text=True)
    assert _state(route.id)[0] == ExperienceStatus.DRAFT

    # The other association sees the request and approves it.
    client.post("/logout")
    login(client, world["other_staff"])
    page = client.get(f"/manage/associations/{world['other'].id}/routes", headers=EN)
    assert "Two days in the forest" in page.get_data(as_text=True)
    assert "Waiting for your answer" in page.get_data(as_text=True)
    response = client.post(
        f"/manage/associations/{world['other'].id}/routes/{route.id}/answer",
        data={"answer": "approve"},
    )
    assert response.status_code == 303
    # It cannot edit the route, which is not its own.
    assert client.get(f"/manage/routes/{route.id}/edit").status_code == 404

    client.post("/logout")
    login(client, world["staff"])
    assert client.post(f"/manage/routes/{route.id}/publish").status_code == 303
    assert _state(route.id)[0] == ExperienceStatus.PUBLISHED
    assert client.get("/routes/selva-two-days", headers=EN).status_code == 200
    # Published: the legs are frozen until it is withdrawn.
    before = _state(route.id)
    response = _activity(client, route, world["mine"], 2, "15:00")
    assert response.status_code == 400 and "withdraw it first" in response.get_data(as_text=True)
    assert _state(route.id) == before
    assert client.post(f"/manage/routes/{route.id}/withdraw").status_code == 303
    assert _state(route.id)[0] == ExperienceStatus.DRAFT
    # Withdrawn already: nothing to withdraw, and the page says so rather than "withdrawn".
    again = client.post(f"/manage/routes/{route.id}/withdraw", headers=EN)
    assert again.status_code == 409
    assert "This route is not on sale: there is nothing to withdraw." in again.get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    "day, at, message",
    [
        (1, "10:00", "Two activities of this route overlap in time."),
        (2, "09:00", "Dos actividades de esta ruta se superponen en el tiempo."),
    ],
)
def test_overlapping_activities_are_refused(client, world, day, at, message):
    login(client, world["staff"])
    route = _new_route(client, world)
    _activity(client, route, world["mine"], 1, "08:30")
    if day == 2:
        _activity(client, route, world["mine"], 2, "08:00")
    before = _state(route.id)
    headers = EN if message.startswith("Two") else ES
    response = _activity(client, route, world["theirs"], day, at, headers=headers)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _state(route.id) == before


def test_legs_out_of_order_and_nights_that_do_not_join_are_refused(client, world):
    login(client, world["staff"])
    route = _new_route(client, world)
    _activity(client, route, world["mine"], 2, "08:30")
    before = _state(route.id)
    # A leg before the last leg's day.
    response = _activity(client, route, world["theirs"], 1, "08:30")
    assert response.status_code == 400
    assert "order of the days" in response.get_data(as_text=True)
    # Publishing without the night of day 1.
    response = client.post(f"/manage/routes/{route.id}/publish", headers=EN)
    assert response.status_code == 400
    assert "do not join its days up" in response.get_data(as_text=True)
    # An activity after the night of its day.
    client.post(
        f"/manage/routes/{route.id}/nights",
        data={"night-homestay_id": world["night"].id, "night-day": 2},
    )
    after_night = _state(route.id)
    response = _activity(client, route, world["theirs"], 2, "18:00")
    assert response.status_code == 400 and "do not join" in response.get_data(as_text=True)
    assert _state(route.id) == after_night != before


def test_a_declined_association_cannot_be_added_again(client, world):
    login(client, world["staff"])
    route = _new_route(client, world)
    _activity(client, route, world["theirs"], 1, "08:30")
    client.post("/logout")
    login(client, world["other_staff"])
    client.post(
        f"/manage/associations/{world['other'].id}/routes/{route.id}/answer",
        data={"answer": "decline"},
    )
    client.post("/logout")
    login(client, world["staff"])
    before = _state(route.id)
    response = _activity(client, route, world["theirs"], 1, "14:00")
    assert response.status_code == 400
    assert "declined taking part" in response.get_data(as_text=True)
    assert _state(route.id) == before


def test_remove_and_move_legs(client, world):
    login(client, world["staff"])
    route = _new_route(client, world)
    _activity(client, route, world["mine"], 1, "06:00")
    _activity(client, route, world["theirs"], 1, "13:00")
    _status, legs, parts = _state(route.id)
    first, second = db.session.scalars(
        select(RouteLeg.id).where(RouteLeg.route_id == route.id).order_by(RouteLeg.position)
    ).all()
    # Moving the second up swaps them (same day).
    assert (
        client.post(
            f"/manage/routes/{route.id}/legs/{second}/move", data={"direction": "up"}
        ).status_code
        == 303
    )
    _status, legs, _parts = _state(route.id)
    assert [leg[3] for leg in legs] == [world["theirs"].id, world["mine"].id]
    # Moving the first up is refused.
    response = client.post(
        f"/manage/routes/{route.id}/legs/{second}/move", data={"direction": "up"}, headers=EN
    )
    assert response.status_code == 400
    # Removing the other association's only leg withdraws the request to it.
    assert client.post(f"/manage/routes/{route.id}/legs/{second}/remove").status_code == 303
    _status, legs, parts = _state(route.id)
    assert [(leg[0], leg[3]) for leg in legs] == [(0, world["mine"].id)]
    assert [p[0] for p in parts] == [world["curator"].id]
    assert first


def test_bad_route_form_is_refused(client, world):
    login(client, world["staff"])
    route = _new_route(client, world)
    url = f"/manage/associations/{world['curator'].id}/routes/new"
    # The same web address again.
    response = client.post(url, data=ROUTE_FORM, headers=EN)
    assert response.status_code == 400
    assert "Another route already has this web address." in response.get_data(as_text=True)
    response = client.post(url, data=ROUTE_FORM | {"slug": "x y", "curator_fee": "abc"}, headers=EN)
    assert response.status_code == 400
    assert db.session.scalars(select(Route.id)).all() == [route.id]


def test_a_route_without_a_curators_fee_is_saved_and_saved_again(client, world):
    """The form shows "0.00" for a route without a fee and says "0 for none": both go."""
    login(client, world["staff"])
    url = f"/manage/associations/{world['curator'].id}/routes/new"
    for slug, fee in (("sin-tarifa", "0.00"), ("sin-tarifa-2", "0"), ("sin-tarifa-3", "")):
        response = client.post(url, data=ROUTE_FORM | {"slug": slug, "curator_fee": fee})
        assert response.status_code == 303, (fee, response.get_data(as_text=True)[:300])
    route = db.session.scalars(select(Route).where(Route.slug == "sin-tarifa")).one()
    assert route.curator_fee_cents == 0
    edit = client.get(f"/manage/routes/{route.id}/edit", headers=EN).get_data(as_text=True)
    assert 'value="0.00"' in edit
    again = client.post(
        f"/manage/routes/{route.id}/edit",
        data=ROUTE_FORM | {"slug": "sin-tarifa", "curator_fee": "0.00"},
    )
    assert again.status_code == 303


def test_platform_routes_are_for_platform_admins(client, make, world):
    admin = make.user(is_platform_admin=True)
    db.session.commit()
    login(client, admin)
    response = client.post("/manage/platform-routes/new", data=ROUTE_FORM, headers=EN)
    assert response.status_code == 303
    db.session.rollback()
    route = db.session.scalars(select(Route)).one()
    assert route.curator_association_id is None
    assert "Two days in the forest" in client.get("/manage/platform-routes", headers=EN).get_data(
        as_text=True
    )
    client.post("/logout")
    login(client, world["staff"])
    assert client.get(f"/manage/routes/{route.id}/edit").status_code == 404
    assert client.get("/manage/platform-routes").status_code in (403, 404)
