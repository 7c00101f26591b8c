"""Nobody can sit on a departure's seats: one email may have a few open unpaid bookings at a
time (unpaid holds, pay-on-arrival bookings still to come), one client address a few more.
Beyond that: 429, a message in the visitor's language, and nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import Factories
from tests.routes.test_bookings import EN, ES, form_for
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import Booking, BookingLine, BookingStatus
from tourism.services.booking import caps as hold_caps


@pytest.fixture
def app(make_app):
    app = make_app(OPEN_BOOKINGS_PER_EMAIL=2, OPEN_BOOKINGS_PER_ADDRESS=3)
    with app.app_context():
        yield app


@pytest.fixture
def make(app):
    return Factories(db.session)


@pytest.fixture
def departures(make):
    experience = make.experience(prices={"adult": 4500, "child": 2500})
    return [
        make.departure(experience, capacity=20, starts_in=timedelta(days=3 + n)) for n in range(4)
    ]


def book(client, departure, email, address="203.0.113.5", headers=EN):
    return client.post(
        f"/departures/{departure.id}/book",
        data=form_for(departure, email=email),
        headers=headers,
        environ_base={"REMOTE_ADDR": address},
    )


def count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Booking.id)))


def test_one_email_gets_two_open_bookings_then_a_clear_429(client, departures):
    assert book(client, departures[0], "ana@example.org").status_code == 303
    assert book(client, departures[1], "ANA@example.org").status_code == 303
    third = book(client, departures[2], "ana@example.org")
    assert third.status_code == 429
    assert "You already have 2 unpaid bookings waiting" in third.get_data(as_text=True)
    spanish = book(client, departures[2], "ana@example.org", headers=ES)
    assert spanish.status_code == 429
    assert "You already have" not in spanish.get_data(as_text=True)
    assert count() == 2


def test_a_refused_booking_leaves_the_departure_as_it_was(client, departures):
    """The caps are counted with the departure's lock, after the booking's insert: a refusal
    takes the booking and its line away, and no seat is claimed."""
    assert book(client, departures[0], "ana@example.org").status_code == 303
    assert book(client, departures[0], "ana@example.org").status_code == 303
    db.session.expire_all()
    confirmed = db.session.get(type(departures[0]), departures[0].id).seats_confirmed
    lines = db.session.scalar(select(func.count(BookingLine.id)))
    assert book(client, departures[0], "ana@example.org").status_code == 429
    db.session.expire_all()
    assert db.session.get(type(departures[0]), departures[0].id).seats_confirmed == confirmed
    assert count() == 2
    assert db.session.scalar(select(func.count(BookingLine.id))) == lines


def test_one_address_gets_three_open_bookings(client, departures):
    for n in range(3):
        assert book(client, departures[n], f"visitor{n}@example.org").status_code == 303
    assert book(client, departures[3], "another@example.org").status_code == 429
    assert book(client, departures[3], "another@example.org", "198.51.100.9").status_code == 303
    assert count() == 4


def test_past_expired_and_cancelled_bookings_do_not_count(client, departures, make):
    past = make.departure(departures[0].experience, starts_in=timedelta(days=-1))
    make.booking(past, contact_email="ana@example.org", payment_method="on_arrival")
    expired = make.booking(
        departures[0], status=BookingStatus.HELD, contact_email="ana@example.org"
    )
    expired.hold_expires_at = utcnow() - timedelta(minutes=1)
    make.booking(departures[1], status=BookingStatus.CANCELLED, contact_email="ana@example.org")
    db.session.commit()
    assert book(client, departures[2], "ana@example.org").status_code == 303
    assert book(client, departures[3], "ana@example.org").status_code == 303


def test_addresses_are_stored_only_as_a_keyed_hash(client, departures):
    book(client, departures[0], "ana@example.org", "203.0.113.77")
    stored = db.session.scalars(select(Booking.held_from)).one()
    assert stored and "203.0.113.77" not in stored
    assert stored == hold_caps.address_key(client.application.config["SECRET_KEY"], "203.0.113.77")
    assert stored != hold_caps.address_key("another secret", "203.0.113.77")
