"""Staff move bookings into the last seat of a departure while website visitors book it.

Each round fires, at the same moment, staff moving single-seat bookings from another date
to a departure with one seat left and website bookings for that seat. The move locks both
departures (by id) with the lock every hold takes, then counts, so exactly one wins,
whoever it is; the others get a clear refusal (409 on the website, ``SoldOut`` for staff),
none a 500, and the seat counters stay true. The negative control runs the race with the
departure lock off and must oversell.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tourism import database
from tourism.errors import DomainError
from tourism.extensions import db
from tourism.models import Booking, BookingLine, BookingStatus, Departure
from tourism.services.booking import availability, hold_rows, rebooking, seat_check
from tourism.unit_of_work import unit_of_work

PAIRS = 10
ROUNDS = 2
CONTROL_ROUNDS = 10

pytestmark = pytest.mark.slow


@pytest.fixture
def app(make_app):
    app = make_app(
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 40, "pool_timeout": 60},
    )
    with app.app_context():
        yield app


def _world(make, seats_left: int = 1):
    experience = make.experience(prices={"adult": 4500})
    source = make.departure(experience, capacity=PAIRS, starts_in=timedelta(days=2))
    target = make.departure(experience, capacity=4, starts_in=timedelta(days=6))
    make.booking(target, quantities={"adult": 4 - seats_left})
    movers = [make.booking(source, quantities={"adult": 1}) for _ in range(PAIRS)]
    adult = experience.price_categories[0]
    db.session.commit()
    form = {
        f"qty_{adult.id}": "1",
        "name": "Racing Tourist",
        "phone": "+593 99 555 0000",
        "country": "EC",
        "language": "es",
        "payment_method": "on_arrival",
    }
    return target.id, [b.id for b in movers], form


def _race(app, target_id: int, mover_ids: list[int], form: dict) -> Counter:
    barrier = threading.Barrier(2 * PAIRS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def move(booking_id: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                with unit_of_work():
                    booking = db.session.get(Booking, booking_id)
                    rebooking.change_date(db.session, booking, target_id, None, database.utcnow())
                outcome = "move ok"
            except DomainError as error:
                outcome = f"move {error.status_code}"
            except Exception as error:  # noqa: BLE001 — anything else is a 500
                outcome = f"move 500 {type(error).__name__}"
        with lock:
            outcomes.append(outcome)

    def book(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        data = dict(form, email=f"race{n}@example.org")
        response = client.post(
            f"/departures/{target_id}/book",
            data=data,
            environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"},
        )
        with lock:
            outcomes.append(f"web {response.status_code}")

    threads = [threading.Thread(target=move, args=(i,)) for i in mover_ids]
    threads += [threading.Thread(target=book, args=(n,)) for n in range(PAIRS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == 2 * PAIRS, "some attempts never finished"
    return Counter(outcomes)


def _seats_taken(departure_id: int) -> int:
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


def test_a_move_and_web_bookings_share_the_last_seat(app, make):
    for _ in range(ROUNDS):
        target_id, mover_ids, form = _world(make)
        outcomes = _race(app, target_id, mover_ids, form)
        db.session.rollback()
        won = outcomes["move ok"] + outcomes["web 303"]
        refused = outcomes["move 409"] + outcomes["web 409"]
        assert won == 1, outcomes
        assert refused == 2 * PAIRS - 1, outcomes
        assert _seats_taken(target_id) == 4
        assert db.session.get(Departure, target_id).seats_confirmed == 4
        assert seat_check.mismatches(db.session) == []


def test_negative_control_without_the_lock_oversells(app, make, monkeypatch):
    """Without the lock (on SQLite: without the count, as in test_channel_race.py) the same
    race must oversell at least once, or the test above could not fail."""

    def no_lock(session, departure_id):
        return session.execute(select(Departure).where(Departure.id == departure_id)).scalar_one()

    monkeypatch.setattr(availability, "lock_departure", no_lock)
    monkeypatch.setattr(availability, "lock_departure_state", availability.read_departure_state)
    monkeypatch.setattr(hold_rows, "CHECK_IN_UPDATE", False)
    monkeypatch.setattr(database, "sqlite_begin_statement", lambda: None)
    if db.engine.dialect.name == "sqlite":
        monkeypatch.setattr(availability, "seats_taken_on", lambda *args: 0)
    taken = 0
    for _ in range(CONTROL_ROUNDS):
        target_id, mover_ids, form = _world(make)
        _race(app, target_id, mover_ids, form)
        db.session.rollback()
        taken = _seats_taken(target_id)
        if taken > 4:
            break
    assert taken > 4, "without the lock the race never oversold: the test cannot fail"
