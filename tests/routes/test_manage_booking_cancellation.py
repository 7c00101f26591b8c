"""The staff's "Cancel booking" page of one booking: what was paid and what each refund
choice gives, the cancellation back to the manifest, bad input refused in the visitor's
language with nothing changed, another association 404, the link on the manifest."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.routes.test_manage_access import EN, ES, app, login, make, member  # noqa: F401
from tourism.extensions import db
from tourism.models import AuditEvent, Booking, BookingStatus, Notification, Refund
from tourism.services.payments.staff_cancellation import STAFF_CANCELLED_ACTION


@pytest.fixture
def shop(make):  # noqa: F811
    association = make.association()
    experience = make.experience(association)
    experience.cancellation_policy = [{"hours": 48, "percent": 100}, {"hours": 24, "percent": 50}]
    departure = make.departure(experience, capacity=6, starts_in=timedelta(hours=30))
    booking = make.booking(departure, quantities={"adult": 2}, language="es")
    booking.payment_method = "card"
    make.card_payment(booking)
    staff = member(make, association)
    outsider = member(make, make.association())
    db.session.commit()
    return dict(
        booking_id=booking.id,
        departure_id=departure.id,
        total=booking.total_cents,
        staff=staff,
        outsider=outsider,
        make=make,
    )


def _url(shop) -> str:
    return f"/manage/bookings/{shop['booking_id']}/cancel"


def _booking(shop) -> Booking:
    db.session.rollback()
    return db.session.get(Booking, shop["booking_id"])


def _told() -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.kind == "cancelled")
    )


def _unchanged(shop) -> None:
    booking = _booking(shop)
    assert booking.status == BookingStatus.CONFIRMED and booking.cancel_reason == ""
    assert _told() == 0
    assert db.session.scalar(select(func.count(Refund.id))) == 0
    events = select(func.count(AuditEvent.id)).where(AuditEvent.action == STAFF_CANCELLED_ACTION)
    assert db.session.scalar(events) == 0


def test_staff_see_both_refunds_and_cancel_back_to_the_manifest(client, shop):
    login(client, shop["staff"])
    page = client.get(_url(shop), headers=EN)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    half, full = shop["total"] // 2, shop["total"]
    assert f"What the cancellation policy gives now: ${half / 100:,.2f}" in text
    assert f"Everything paid: ${full / 100:,.2f}" in text
    response = client.post(
        _url(shop), data={"reason": "Our guide is ill", "refund": "full"}, headers=EN
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/guide/departures/{shop['departure_id']}")
    booking = _booking(shop)
    assert booking.status == BookingStatus.CANCELLED
    assert booking.cancel_reason == "Our guide is ill"
    assert db.session.scalars(select(Refund.amount_cents)).all() == [full]
    [note] = db.session.scalars(select(Notification).where(Notification.kind == "cancelled"))
    assert json.loads(note.context) == {
        "by_association": True,
        "reason": "Our guide is ill",
        "refund_cents": full,
    }
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == STAFF_CANCELLED_ACTION)
    ).one()
    assert event.actor == shop["staff"].email
    # The second submission of the same form is refused and changes nothing more.
    again = client.post(
        _url(shop), data={"reason": "Our guide is ill", "refund": "full"}, headers=EN
    )
    assert again.status_code == 409
    assert "can no longer be cancelled" in again.get_data(as_text=True)
    assert _told() == 1 and db.session.scalar(select(func.count(Refund.id))) == 1


def test_another_association_gets_404_and_nothing_changes(client, shop):
    login(client, shop["outsider"])
    assert client.get(_url(shop)).status_code == 404
    response = client.post(_url(shop), data={"reason": "x", "refund": "full"})
    assert response.status_code == 404
    _unchanged(shop)


@pytest.mark.parametrize(
    "data, status",
    [
        ({"reason": "", "refund": "policy"}, 400),
        ({"reason": "   ", "refund": "policy"}, 400),
        ({"reason": "Guide\nill", "refund": "policy"}, 400),
        ({"reason": "Guide \x07ill", "refund": "policy"}, 400),
        ({"reason": "x" * 301, "refund": "policy"}, 400),
        ({"reason": "Guide ill", "refund": "half"}, 400),
        ({"reason": "Guide ill"}, 400),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(client, shop, data, status):
    login(client, shop["staff"])
    response = client.post(_url(shop), data=data, headers=EN)
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    _unchanged(shop)


@pytest.mark.parametrize("state", ["cancelled", "started"])
def test_a_booking_past_cancelling_is_409_and_changes_nothing(client, shop, state):
    booking = _booking(shop)
    if state == "cancelled":
        booking.status = BookingStatus.CANCELLED
    else:
        booking.departure.starts_at -= timedelta(hours=31)
    db.session.commit()
    login(client, shop["staff"])
    page = client.get(_url(shop), headers=EN)
    assert page.status_code == 200 and "can no longer be cancelled" in page.get_data(as_text=True)
    response = client.post(_url(shop), data={"reason": "Guide ill", "refund": "full"}, headers=EN)
    assert response.status_code == 409
    assert _told() == 0 and db.session.scalar(select(func.count(Refund.id))) == 0


def test_the_refusal_is_in_spanish(client, shop):
    login(client, shop["staff"])
    response = client.post(_url(shop), data={"reason": "Guía enfermo", "refund": "?"}, headers=ES)
    assert response.status_code == 400
    assert "Elige el reembolso" in response.get_data(as_text=True)
    response = client.post(_url(shop), data={"reason": "", "refund": "full"}, headers=ES)
    assert response.status_code == 400
    _unchanged(shop)


def test_the_manifest_links_to_the_page_for_a_party_still_to_come(client, shop):
    login(client, shop["staff"])
    manifest = f"/guide/departures/{shop['departure_id']}"
    assert _url(shop) in client.get(manifest, headers=EN).get_data(as_text=True)
    booking = _booking(shop)
    booking.no_show_at = booking.created_at
    db.session.commit()
    assert _url(shop) not in client.get(manifest, headers=EN).get_data(as_text=True)


@pytest.mark.parametrize("reason", ["", "   ", "\u200b", "\u200b\u200d \u2060"])
def test_a_reason_nobody_can_read_is_refused(client, shop, reason):
    """The reason is shown to the visitor: spaces or zero-width characters alone say nothing."""
    login(client, shop["staff"])
    response = client.post(_url(shop), data={"reason": reason, "refund": "full"}, headers=ES)
    assert response.status_code == 400
    assert "Este dato es obligatorio." in response.get_data(as_text=True)
    assert _told() == 0 and db.session.scalar(select(func.count(Refund.id))) == 0
