"""A reseller's route reservations and website bookings race for the last seats of one leg:
nobody may be oversold, no route may be held half-way, and nobody may deadlock.

Each round makes a three-day route whose day-2 activity has K free seats, then fires at the
same moment ROUTE_ATTEMPTS OCTO route reservations (``POST /octo/bookings`` with the route
product, two resellers) and WEB_ATTEMPTS website bookings of that activity. A route
reservation is one locked hold over every leg (``routes.booking.book_route``), a website
booking locks the leg's departure: exactly K seats are taken over both kinds, every refusal
is its channel's clear answer (409 on the website, ``UNPROCESSABLE_ENTITY`` on the API), and
nothing answers 500. Run it on PostgreSQL (``TEST_DATABASE_URL``) for real row locks. The
negative control runs the same race with the departure lock off and must oversell.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from tourism import database
from tourism.extensions import db
from tourism.models import Booking, BookingLine, BookingStatus, Departure, RouteBooking
from tourism.services.booking import availability, hold_rows
from tourism.services.booking import caps as hold_caps
from tourism.services.routes import claims as route_claims
from tourism.timefmt import local

ROUTE_ATTEMPTS = 12
WEB_ATTEMPTS = 12
ROUNDS = 3
CONTROL_ROUNDS = 10

pytestmark = pytest.mark.slow


def _setup(make, free_on_shared: int) -> dict:
    route = make.route(
        capacities=(40, free_on_shared + 2, 40), beds=(40, 40), max_people_per_booking=8
    )
    shared = db.session.scalars(
        select(Departure).where(Departure.experience_id == route.legs[2].experience_id)
    ).one()
    make.booking(shared, quantities={"adult": 2})
    first = db.session.scalars(
        select(Departure).where(Departure.experience_id == route.legs[0].experience_id)
    ).one()
    association = route.legs[0].experience.association
    keys = [make.reseller(association=association)[1] for _ in range(2)]
    adult = shared.experience.price_categories[0]
    setup = {
        "route_id": route.id,
        "shared_id": shared.id,
        "keys": keys,
        "octo_body": {
            "productId": f"route:{route.slug}",
            "optionId": "DEFAULT",
            "availabilityId": local(first.starts_at).date().isoformat(),
            "unitItems": [{"unitId": "adult"}],
        },
        "web_form": {
            f"qty_{adult.id}": "1",
            "name": "Racing Tourist",
            "email": "race@example.org",
            "phone": "+593 99 555 0000",
            "country": "EC",
            "language": "es",
            "payment_method": "on_arrival",
        },
    }
    db.session.commit()
    return setup


def _race(app, setup: dict) -> Counter:
    attempts = ROUTE_ATTEMPTS + WEB_ATTEMPTS
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        if n < ROUTE_ATTEMPTS:
            response = client.post(
                "/octo/bookings",
                json=setup["octo_body"],
                headers={"Authorization": f"Bearer {setup['keys'][n % 2]}"},
            )
            data = response.get_json() or {}
            outcome = f"octo {response.status_code} {data.get('status') or data.get('error')}"
        else:
            response = client.post(f"/departures/{setup['shared_id']}/book", data=setup["web_form"])
            outcome = f"web {response.status_code}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert len(outcomes) == attempts, "some attempts never finished"
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
def test_route_reservations_and_web_bookings_share_a_legs_last_seats(app, make, last_seats):
    for _ in range(ROUNDS):
        setup = _setup(make, last_seats)
        outcomes = _race(app, setup)
        db.session.rollback()  # read after the race, not from a snapshot taken before it
        won = outcomes["octo 200 ON_HOLD"] + outcomes["web 303"]
        refused = outcomes["octo 400 UNPROCESSABLE_ENTITY"] + outcomes["web 409"]
        assert won == last_seats, outcomes
        assert refused == ROUTE_ATTEMPTS + WEB_ATTEMPTS - last_seats, outcomes
        assert _seats_taken(setup["shared_id"]) == last_seats + 2
        shared = db.session.get(Departure, setup["shared_id"])
        assert availability.seats_left(db.session, shared, database.utcnow()) == 0
        # Every route held is held whole: all three legs, one hold, nothing half-way.
        held = db.session.scalars(
            select(RouteBooking).where(RouteBooking.route_id == setup["route_id"])
        ).all()
        assert len(held) == outcomes["octo 200 ON_HOLD"]
        for route_booking in held:
            assert route_booking.status == BookingStatus.HELD and len(route_booking.legs) == 3
            assert {bl.booking.status for bl in route_booking.legs} == {BookingStatus.HELD}


def test_negative_control_without_the_lock_a_legs_last_seat_oversells(app, make, monkeypatch):
    def no_lock(session, departure_id):
        return session.execute(select(Departure).where(Departure.id == departure_id)).scalar_one()

    monkeypatch.setattr(availability, "lock_departure", no_lock)
    # The website's hold reads the row it locks without an ORM object, and checks a
    # confirmed booking's seats in the UPDATE that claims them: both go, as the lock does.
    monkeypatch.setattr(availability, "lock_departure_state", availability.read_departure_state)
    monkeypatch.setattr(hold_rows, "CHECK_IN_UPDATE", False)
    monkeypatch.setattr(hold_caps, "lock_params", lambda *args: None)
    monkeypatch.setattr(database, "sqlite_begin_statement", lambda: None)
    if db.engine.dialect.name == "sqlite":
        # No count: every hold fits (and still moves the confirmed-seat counter).
        monkeypatch.setattr(availability, "seats_taken_on", lambda *args: 0)
        monkeypatch.setattr(route_claims, "claim_all", lambda *args: None)
    oversold = 0
    for _ in range(CONTROL_ROUNDS):
        setup = _setup(make, 1)
        _race(app, setup)
        db.session.rollback()
        oversold = _seats_taken(setup["shared_id"]) - 2
        if oversold > 1:
            break
    assert oversold > 1, "without the lock the race never oversold: the test cannot fail"
