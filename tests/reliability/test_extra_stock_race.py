"""Visitors race for the last units of an extra with a limited stock, each booking a
different departure of the same experience (so no departure lock serialises them): exactly
the stock is sold, the others get a clear 409, nobody gets a 500.

The negative control runs the same race with the extra's row lock switched off and must
oversell at least once, which proves the test can fail. PostgreSQL only: SQLite runs one
writer at a time from the first statement, so nothing races there.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tourism import database
from tourism.extensions import db
from tourism.models import Booking, BookingExtra, BookingStatus, Extra
from tourism.services.booking import availability
from tourism.services.booking import caps as hold_caps

ATTEMPTS = 12
CONTROL_ROUNDS = 10

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def postgresql_only(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("racing transactions need PostgreSQL (SQLite runs one writer)")


def _setup(make, stock: int) -> dict:
    experience = make.experience(prices={"adult": 4500})
    box = make.route_extra(experience.association, price=1200, stock=stock)
    experience.extras = [box]
    departures = [
        make.departure(experience, capacity=10, starts_in=timedelta(days=5, hours=n))
        for n in range(ATTEMPTS)
    ]
    adult = experience.price_categories[0]
    forms = [
        {
            f"qty_{adult.id}": "1",
            f"extra_{box.id}": "1",
            "name": "Racing Tourist",
            "email": f"race{n}@example.org",
            "phone": "+593 99 555 0000",
            "country": "EC",
            "language": "es",
            "payment_method": "on_arrival",
        }
        for n in range(ATTEMPTS)
    ]
    setup = {"extra_id": box.id, "departure_ids": [d.id for d in departures], "forms": forms}
    db.session.commit()
    return setup


def _race(app, setup: dict) -> Counter:
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def book(number: int, departure_id: int, form: dict) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(
            f"/departures/{departure_id}/book",
            data=form,
            environ_base={"REMOTE_ADDR": f"10.0.0.{number + 1}"},
        )
        with lock:
            outcomes.append(f"single {response.status_code}")

    threads = [
        threading.Thread(target=book, args=(n, *args))
        for n, args in enumerate(zip(setup["departure_ids"], setup["forms"], strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert len(outcomes) == ATTEMPTS, "some attempts never finished"
    return Counter(outcomes)


def _units_sold(extra_id: int) -> int:
    db.session.rollback()  # read after the race, not from a snapshot taken before it
    return db.session.scalar(
        select(func.coalesce(func.sum(BookingExtra.quantity), 0))
        .join(Booking, Booking.id == BookingExtra.booking_id)
        .where(BookingExtra.extra_id == extra_id, Booking.status == BookingStatus.CONFIRMED)
    )


@pytest.mark.parametrize("stock", [1, 3])
def test_an_extra_is_never_sold_beyond_its_stock(app, make, stock):
    setup = _setup(make, stock)
    outcomes = _race(app, setup)
    assert outcomes == Counter({"single 303": stock, "single 409": ATTEMPTS - stock}), outcomes
    assert _units_sold(setup["extra_id"]) == stock
    extra = db.session.get(Extra, setup["extra_id"])
    assert extra.stock == stock


def test_negative_control_without_the_extra_lock_it_oversells(app, make, monkeypatch):
    def no_lock(session, extra_id):
        statement = select(Extra).where(Extra.id == extra_id)
        return session.execute(statement.execution_options(populate_existing=True)).scalar_one()

    monkeypatch.setattr(availability, "lock_extra", no_lock)
    monkeypatch.setattr(hold_caps, "lock_params", lambda *args: None)
    monkeypatch.setattr(database, "sqlite_begin_statement", lambda: None)
    oversold = 0
    for round_number in range(1, CONTROL_ROUNDS + 1):
        setup = _setup(make, 1)
        _race(app, setup)
        oversold = _units_sold(setup["extra_id"])
        if oversold > 1:
            print(f"negative control: {oversold} units sold of 1 in round {round_number}")
            break
    assert oversold > 1, "without the lock the race never oversold: the test cannot fail"
