"""Resellers and website visitors race for the last seats: nobody may be oversold.

Each round fires 50 simultaneous requests at a departure with K free seats: half are OCTO
reservations (``POST /octo/bookings``) from two resellers, half website bookings. Both go
through the same locked hold, so exactly K succeed, whoever they are; every other request
gets its channel's clear refusal (409 on the website, ``UNPROCESSABLE_ENTITY`` on the API),
none a 500. The negative control runs the race with the departure lock off and must oversell.
"""

from __future__ import annotations

import threading
import time
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
ROUNDS = 3
CONTROL_ROUNDS = 12

pytestmark = pytest.mark.slow


def _world(make, capacity: int, sold: int):
    experience = make.experience(prices={"adult": 4500})
    departure = make.departure(experience, capacity=capacity, starts_in=timedelta(days=3))
    if sold:
        make.booking(departure, quantities={"adult": sold})
    keys = [make.reseller(experiences=[experience])[1] for _ in range(2)]
    adult = experience.price_categories[0]
    web_form = {
        f"qty_{adult.id}": "1",
        "name": "Racing Tourist",
        "email": "race@example.org",
        "phone": "+593 99 555 0000",
        "country": "EC",
        "language": "es",
        "payment_method": "on_arrival",
    }
    octo_body = {
        "productId": experience.slug,
        "optionId": "DEFAULT",
        "availabilityId": str(departure.id),
        "unitItems": [{"unitId": "adult"}],
    }
    departure_id = departure.id
    db.session.commit()
    return departure_id, web_form, octo_body, keys


def _race(app, departure_id: int, web_form: dict, octo_body: dict, keys: list[str]) -> Counter:
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        if n % 2:
            response = client.post(f"/departures/{departure_id}/book", data=web_form)
            outcome = f"web {response.status_code}"
        else:
            response = client.post(
                "/octo/bookings",
                json=octo_body,
                headers={"Authorization": f"Bearer {keys[n % 4 // 2]}"},
            )
            data = response.get_json() or {}
            outcome = f"octo {response.status_code} {data.get('status') or data.get('error')}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == ATTEMPTS, "some attempts never finished"
    return Counter(outcomes)


def _seats_taken(departure_id: int) -> int:
    """Confirmed seats and live holds: what counts against capacity."""
    now = database.utcnow()
    return db.session.scalar(
        select(func.coalesce(func.sum(BookingLine.quantity), 0))
        .join(Booking)
        .where(
            Booking.departure_id == departure_id,
            (Booking.status == BookingStatus.CONFIRMED)
            | ((Booking.status == BookingStatus.HELD) & (Booking.hold_expires_at > now)),
        )
    )


@pytest.mark.parametrize("last_seats", [1, 3])
def test_channels_and_the_website_share_the_last_seats(app, make, last_seats):
    for _ in range(ROUNDS):
        departure_id, web_form, octo_body, keys = _world(make, last_seats + 4, sold=4)
        outcomes = _race(app, departure_id, web_form, octo_body, keys)
        db.session.rollback()
        won = outcomes["web 303"] + outcomes["octo 200 ON_HOLD"]
        refused = outcomes["web 409"] + outcomes["octo 400 UNPROCESSABLE_ENTITY"]
        assert won == last_seats, outcomes
        assert refused == ATTEMPTS - last_seats, outcomes
        assert _seats_taken(departure_id) == last_seats + 4
        departure = db.session.get(Departure, departure_id)
        assert availability.seats_left(db.session, departure, database.utcnow()) == 0


def test_negative_control_without_the_lock_oversells(app, make, monkeypatch):
    """Without the lock (on SQLite: without the count, see test_concurrency.py) the same race
    must oversell at least once, or the test above could not fail."""

    def no_lock(session, departure_id):
        return session.execute(select(Departure).where(Departure.id == departure_id)).scalar_one()

    monkeypatch.setattr(availability, "lock_departure", no_lock)
    # The hold reads the row it locks without an ORM object, and checks a confirmed
    # booking's seats in the UPDATE that claims them: both go, as the lock does.
    monkeypatch.setattr(availability, "lock_departure_state", availability.read_departure_state)
    monkeypatch.setattr(hold_rows, "CHECK_IN_UPDATE", False)
    # The website's racers share one email: the open-bookings cap's lock would serialise them.
    monkeypatch.setattr(hold_caps, "lock_params", lambda *args: None)
    monkeypatch.setattr(database, "sqlite_begin_statement", lambda: None)
    if db.engine.dialect.name == "sqlite":
        # No count: every hold fits (and still moves the confirmed-seat counter).
        monkeypatch.setattr(availability, "seats_taken_on", lambda *args: 0)
    else:
        # The gap between counting the seats and claiming them, which the lock closes, held
        # open a moment: on a busy machine the racers could otherwise pass it one by one, and
        # the control would fail for want of a race rather than show the lock matters.
        count = availability.seats_taken_on

        def count_then_wait(*args, **kwargs):
            taken = count(*args, **kwargs)
            time.sleep(0.05)
            return taken

        monkeypatch.setattr(availability, "seats_taken_on", count_then_wait)
    taken = 0
    for _ in range(CONTROL_ROUNDS):
        departure_id, web_form, octo_body, keys = _world(make, 1, sold=0)
        _race(app, departure_id, web_form, octo_body, keys)
        db.session.rollback()
        taken = _seats_taken(departure_id)
        if taken > 1:
            break
    assert taken > 1, "without the lock the race never oversold: the test cannot fail"
