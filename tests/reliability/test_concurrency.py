"""Fifty people try to book the last seats at the same moment: nobody may be oversold.

Each round creates a departure with K free seats and fires 50 simultaneous booking POSTs at
the real route from 50 threads (each with its own client, session and connection). Exactly
K must succeed, every other one must get a clear 409, none a 500. The negative control runs
the same race with the departure lock switched off and must oversell at least once — proof
that this test can fail.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tourism import database
from tourism.extensions import db
from tourism.models import Booking, BookingLine, BookingStatus, Departure
from tourism.services.booking import availability, hold_rows
from tourism.services.booking import caps as hold_caps

ATTEMPTS = 50
ROUNDS = 4
CONTROL_ROUNDS = 12

pytestmark = pytest.mark.slow


def _form(departure: Departure, qty: int = 1) -> dict:
    adult = departure.experience.price_categories[0]
    return {
        f"qty_{adult.id}": str(qty),
        "name": "Racing Tourist",
        "email": "race@example.org",
        "phone": "+593 99 555 0000",
        "country": "EC",
        "language": "es",
        "payment_method": "on_arrival",
    }


def _race(app, departure_id: int, form: dict) -> Counter:
    """POST the same booking ATTEMPTS times at once; count the status codes."""
    barrier = threading.Barrier(ATTEMPTS)
    statuses: list[int] = []
    bodies: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/departures/{departure_id}/book", data=form)
        with lock:
            statuses.append(response.status_code)
            if response.status_code == 409:
                bodies.append(response.get_data(as_text=True))

    threads = [threading.Thread(target=attempt) for _ in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == ATTEMPTS, "some attempts never finished"
    _race.last_409_bodies = bodies
    return Counter(statuses)


def _seats_sold(departure_id: int) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(BookingLine.quantity), 0))
        .join(Booking)
        .where(Booking.departure_id == departure_id, Booking.status == BookingStatus.CONFIRMED)
    )


def _new_departure(make, capacity: int) -> tuple[int, dict]:
    departure = make.departure(capacity=capacity, starts_in=timedelta(days=3))
    departure_id, form = departure.id, _form(departure)
    db.session.commit()
    return departure_id, form


@pytest.mark.parametrize("last_seats", [1, 3])
def test_last_seats_are_sold_exactly_once(app, make, last_seats):
    for _ in range(ROUNDS):
        # K free seats left: a bigger departure already mostly sold.
        departure = make.departure(capacity=last_seats + 4, starts_in=timedelta(days=3))
        make.booking(departure, quantities={"adult": 4})
        departure_id, form = departure.id, _form(departure)
        db.session.commit()
        statuses = _race(app, departure_id, form)
        db.session.rollback()  # read after the race, not from a snapshot taken before it
        assert statuses[303] == last_seats, statuses
        assert statuses[409] == ATTEMPTS - last_seats, statuses
        assert statuses[500] == 0
        assert _seats_sold(departure_id) == last_seats + 4
        assert (
            availability.seats_left(
                db.session, db.session.get(Departure, departure_id), database.utcnow()
            )
            == 0
        )
        assert all("sold out" in body or "agotad" in body for body in _race.last_409_bodies)


def test_negative_control_without_the_lock_oversells(app, make, monkeypatch):
    """The same race with the lock off must oversell at least once, or the test above is moot.

    On PostgreSQL each hold inserts its booking, then counts the seats: without the lock two
    holds each count their own booking and the committed ones, miss each other, and both
    commit. SQLite lets one writer at a time, from its first insert to its commit, so a hold
    that counts after inserting cannot race there even without the lock (nor without
    ``BEGIN IMMEDIATE``); the control there takes the count away instead, which shows that
    the race's assertions catch an oversold departure."""

    def no_lock(session, departure_id):
        return session.execute(select(Departure).where(Departure.id == departure_id)).scalar_one()

    monkeypatch.setattr(availability, "lock_departure", no_lock)
    # The hold reads the row it locks without an ORM object, and checks a confirmed
    # booking's seats in the UPDATE that claims them: both go, as the lock does.
    monkeypatch.setattr(availability, "lock_departure_state", availability.read_departure_state)
    monkeypatch.setattr(hold_rows, "CHECK_IN_UPDATE", False)
    # The racers share one email: the open-bookings cap's lock would serialise them too.
    monkeypatch.setattr(hold_caps, "lock_params", lambda *args: None)
    monkeypatch.setattr(database, "sqlite_begin_statement", lambda: None)
    if db.engine.dialect.name == "sqlite":
        # No count: every hold fits (and still moves the confirmed-seat counter).
        monkeypatch.setattr(availability, "seats_taken_on", lambda *args: 0)

    oversold = 0
    for round_number in range(1, CONTROL_ROUNDS + 1):
        departure_id, form = _new_departure(make, capacity=1)
        _race(app, departure_id, form)
        db.session.rollback()
        oversold = _seats_sold(departure_id)
        if oversold > 1:
            print(f"negative control: {oversold} seats sold of 1 in round {round_number}")
            break
    assert oversold > 1, "without the lock the race never oversold: the test cannot fail"
