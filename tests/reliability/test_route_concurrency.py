"""Route bookings race ordinary bookings for the last seats of a shared leg: nobody may be
oversold, no route may be half booked, and nobody may deadlock.

Each round makes a three-day route whose day-2 activity has K free seats, then fires, at the
same moment, ROUTE_ATTEMPTS route bookings (the service, each thread with its own session
and unit of work) and SINGLE_ATTEMPTS ordinary booking POSTs for that activity (the real
route). Exactly K seats must be sold over both kinds, every route booking that succeeded
must hold all its legs and nights, every failure must be a clear domain error (a deadlock or
a lock timeout would be another exception), and no request may answer 500.

The negative control runs the same race with the departure lock switched off and must
oversell at least once, which proves the test can fail (on SQLite, where one writer at a
time runs from its first insert to its commit, the control takes the counts away instead,
as the single-booking race does). Both kinds of booking are written held and confirmed only
after the counts, so the confirmed-seat counter's ``UPDATE`` (``models/seat_counter.py``)
never serialises them before the count and hides a missing lock.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from tourism import database
from tourism.database import utcnow
from tourism.errors import DomainError
from tourism.extensions import db
from tourism.models import (
    Booking,
    BookingLine,
    BookingStatus,
    Departure,
    Route,
    RouteBooking,
    RouteBookingLeg,
    RouteBookingNight,
)
from tourism.services.booking import availability, hold_rows
from tourism.services.booking import caps as hold_caps
from tourism.services.booking.contact_details import ContactDetails
from tourism.services.routes import booking as route_service
from tourism.services.routes import claims as route_claims
from tourism.timefmt import local
from tourism.unit_of_work import unit_of_work

ROUTE_ATTEMPTS = 12
SINGLE_ATTEMPTS = 12
ROUNDS = 3
CONTROL_ROUNDS = 10

pytestmark = pytest.mark.slow


def _single_form(departure: Departure) -> dict:
    adult = departure.experience.price_categories[0]
    return {
        f"qty_{adult.id}": "1",
        "name": "Racing Tourist",
        "email": "race@example.org",
        "phone": "+593 99 555 0000",
        "country": "EC",
        "language": "es",
        "payment_method": "on_arrival",
    }


def _setup(make, free_on_shared: int) -> dict:
    """A route whose day-2 activity has ``free_on_shared`` seats left (beds for everyone)."""
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
    setup = {
        "route_id": route.id,
        "start": local(first.starts_at).date(),
        "shared_id": shared.id,
        "form": _single_form(shared),
    }
    db.session.commit()
    return setup


def _race(app, setup: dict) -> Counter:
    """Route bookings and ordinary bookings at once; count what each attempt ended with."""
    attempts = ROUTE_ATTEMPTS + SINGLE_ATTEMPTS
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []
    lock = threading.Lock()

    def book_route() -> None:
        with app.app_context():
            request = route_service.RouteBookingRequest(
                route_id=setup["route_id"],
                start_date=setup["start"],
                people=1,
                contact=ContactDetails(
                    "Racing Walker", "walk@example.org", "+593 99 555 0001", "EC", "es"
                ),
            )
            barrier.wait()
            try:
                with unit_of_work():
                    route_service.book_route(db.session, request, utcnow(), ["es", "en"])
                outcome = "route ok"
            except DomainError:
                outcome = "route refused"
            except Exception as error:  # noqa: BLE001 — a deadlock or timeout lands here
                outcome = f"route failed: {type(error).__name__}: {error}"
            finally:
                db.session.remove()
        with lock:
            outcomes.append(outcome)

    def book_single() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/departures/{setup['shared_id']}/book", data=setup["form"])
        with lock:
            outcomes.append(f"single {response.status_code}")

    threads = [threading.Thread(target=book_route) for _ in range(ROUTE_ATTEMPTS)]
    threads += [threading.Thread(target=book_single) for _ in range(SINGLE_ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert len(outcomes) == attempts, "some attempts never finished"
    return Counter(outcomes)


def _sold(departure_id: int) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(BookingLine.quantity), 0))
        .join(Booking)
        .where(Booking.departure_id == departure_id, Booking.status == BookingStatus.CONFIRMED)
    )


def _route_bookings_are_whole(route_id: int) -> None:
    route_bookings = db.session.scalars(
        select(RouteBooking).where(RouteBooking.route_id == route_id)
    ).all()
    for rb in route_bookings:
        assert rb.status == BookingStatus.CONFIRMED
        assert len(rb.legs) == 3 and len(rb.nights) == 2
        assert {bl.booking.status for bl in rb.legs} == {BookingStatus.CONFIRMED}
    ids = [rb.id for rb in route_bookings]
    legs = db.session.scalar(select(func.count()).where(RouteBookingLeg.route_booking_id.in_(ids)))
    nights = db.session.scalar(
        select(func.count()).where(RouteBookingNight.route_booking_id.in_(ids))
    )
    assert (legs, nights) == (3 * len(route_bookings), 2 * len(route_bookings))


@pytest.mark.parametrize("last_seats", [1, 3])
def test_route_and_single_bookings_share_the_last_seats_exactly(app, make, last_seats):
    for _ in range(ROUNDS):
        setup = _setup(make, last_seats)
        outcomes = _race(app, setup)
        db.session.rollback()  # read after the race, not from a snapshot taken before it
        failures = [o for o in outcomes if o.startswith("route failed") or o == "single 500"]
        assert failures == [], outcomes
        won = outcomes["route ok"] + outcomes["single 303"]
        assert won == last_seats, outcomes
        assert outcomes["route refused"] + outcomes["single 409"] == (
            ROUTE_ATTEMPTS + SINGLE_ATTEMPTS - last_seats
        ), outcomes
        assert _sold(setup["shared_id"]) == last_seats + 2
        shared = db.session.get(Departure, setup["shared_id"])
        assert availability.seats_left(db.session, shared, utcnow()) == 0
        _route_bookings_are_whole(setup["route_id"])
        # Every route that won took a seat on the other two legs as well, and nothing else did.
        route = db.session.get(Route, setup["route_id"])
        for leg in (route.legs[0], route.legs[4]):
            departure = db.session.scalars(
                select(Departure).where(Departure.experience_id == leg.experience_id)
            ).one()
            assert _sold(departure.id) == outcomes["route ok"]


def test_negative_control_without_the_lock_a_shared_leg_oversells(app, make, monkeypatch):
    def no_lock(session, departure_id):
        return session.execute(select(Departure).where(Departure.id == departure_id)).scalar_one()

    monkeypatch.setattr(availability, "lock_departure", no_lock)
    # The hold reads the row it locks without an ORM object, and checks a confirmed
    # booking's seats in the UPDATE that claims them: both go, as the lock does.
    monkeypatch.setattr(availability, "lock_departure_state", availability.read_departure_state)
    monkeypatch.setattr(hold_rows, "CHECK_IN_UPDATE", False)
    # The racers may share an email or address: the open-bookings cap's lock would
    # serialise them too.
    monkeypatch.setattr(hold_caps, "lock_params", lambda *args: None)
    monkeypatch.setattr(database, "sqlite_begin_statement", lambda: None)
    if db.engine.dialect.name == "sqlite":
        # No count: every hold fits (and still moves the confirmed-seat counter).
        monkeypatch.setattr(availability, "seats_taken_on", lambda *args: 0)
        monkeypatch.setattr(route_claims, "claim_all", lambda *args: None)

    oversold = 0
    for round_number in range(1, CONTROL_ROUNDS + 1):
        setup = _setup(make, 1)
        _race(app, setup)
        db.session.rollback()
        oversold = _sold(setup["shared_id"]) - 2
        if oversold > 1:
            print(f"negative control: {oversold} seats sold of 1 in round {round_number}")
            break
    assert oversold > 1, "without the lock the race never oversold: the test cannot fail"
