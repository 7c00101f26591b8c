"""The staff's "Change date" page of one booking: the open dates with room, the move, bad
input refused with a translated message and nothing changed, another association 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.routes.test_manage_access import EN, ES, app, login, make, member  # noqa: F401
from tourism.extensions import db
from tourism.models import AuditEvent, Booking, Departure, DepartureStatus, Notification
from tourism.services.booking import seat_check


@pytest.fixture
def shop(make):  # noqa: F811
    association = make.association()
    experience = make.experience(association)
    first = make.departure(experience, capacity=6, starts_in=timedelta(days=3))
    second = make.departure(experience, capacity=2, starts_in=timedelta(days=9))
    full = make.departure(experience, capacity=1, starts_in=timedelta(days=12))
    make.booking(full)
    booking = make.booking(first, quantities={"adult": 2}, language="es")
    staff = member(make, association)
    outsider = member(make, make.association())
    db.session.commit()
    return dict(
        booking_id=booking.id,
        first=first.id,
        second=second.id,
        full=full.id,
        experience=experience,
        staff=staff,
        outsider=outsider,
        make=make,
    )


def _departure_of(booking_id: int) -> int:
    db.session.rollback()
    return db.session.get(Booking, booking_id).departure_id


def test_staff_see_the_dates_with_room_and_move_the_booking(client, shop):
    login(client, shop["staff"])
    url = f"/manage/bookings/{shop['booking_id']}/date"
    page = client.get(url, headers=EN)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f'value="{shop["second"]}"' in text and f'value="{shop["full"]}"' not in text
    response = client.post(url, data={"departure_id": str(shop["second"])}, headers=EN)
    assert response.status_code == 303
    assert _departure_of(shop["booking_id"]) == shop["second"]
    assert db.session.scalars(select(Notification).where(Notification.kind == "date_changed")).one()
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "booking.date_changed")
    ).one()
    assert event.actor == shop["staff"].email
    assert seat_check.mismatches(db.session) == []


def test_another_association_gets_404_and_nothing_moves(client, shop):
    login(client, shop["outsider"])
    url = f"/manage/bookings/{shop['booking_id']}/date"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"departure_id": str(shop["second"])}).status_code == 404
    assert _departure_of(shop["booking_id"]) == shop["first"]


@pytest.mark.parametrize(
    "value, status",
    [
        ("abc", 400),
        ("", 400),
        ("99999999", 400),
        ("own", 400),
        ("other", 400),
        ("full", 409),
        ("past", 409),
        ("cancelled", 409),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(client, shop, value, status):
    factories = shop["make"]
    experience = db.session.merge(shop["experience"])
    targets = {
        "own": shop["first"],
        "full": shop["full"],
        "other": lambda: factories.departure(factories.experience(experience.association)).id,
        "past": lambda: factories.departure(experience, starts_in=timedelta(hours=-3)).id,
        "cancelled": lambda: (
            factories.departure(
                experience, status=DepartureStatus.CANCELLED, starts_in=timedelta(days=20)
            ).id
        ),
    }
    target = targets.get(value, value)
    if callable(target):
        target = target()
        db.session.commit()
    login(client, shop["staff"])
    url = f"/manage/bookings/{shop['booking_id']}/date"
    response = client.post(url, data={"departure_id": str(target)}, headers=EN)
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    assert _departure_of(shop["booking_id"]) == shop["first"]
    assert (
        db.session.scalars(select(Notification).where(Notification.kind == "date_changed")).all()
        == []
    )
    assert db.session.get(Departure, shop["first"]).seats_confirmed == 2


def test_the_refusal_is_in_spanish(client, shop):
    login(client, shop["staff"])
    url = f"/manage/bookings/{shop['booking_id']}/date"
    response = client.post(url, data={"departure_id": "abc"}, headers=ES)
    assert response.status_code == 400
    assert "Elige una fecha" in response.get_data(as_text=True)
    response = client.post(url, data={"departure_id": str(shop["full"])}, headers=ES)
    assert response.status_code == 409
    assert "agotad" in response.get_data(as_text=True)


def test_staff_find_the_change_date_link_on_the_manifest(client, shop):
    login(client, shop["staff"])
    text = client.get(f"/guide/departures/{shop['first']}", headers=EN).get_data(as_text=True)
    assert f"/manage/bookings/{shop['booking_id']}/date" in text
