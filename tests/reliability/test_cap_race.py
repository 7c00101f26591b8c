"""Thirty holds with one email at the same moment against a cap of three open unpaid bookings:
exactly three get through, the others a clear 429, none a 500.

The negative control runs the same race without the cap's serialisation on PostgreSQL and
must break the rule at least once. SQLite has no control: there the serialisation is the
write lock every hold takes before it counts, the same one that keeps seats from being
oversold, and without it the app refuses to change seats at all.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import Factories
from tests.routes.test_bookings import form_for
from tourism.extensions import db
from tourism.models import Booking
from tourism.services.booking import caps as hold_caps

ATTEMPTS = 30
CAP = 3
CONTROL_ROUNDS = 8

pytestmark = pytest.mark.slow


@pytest.fixture
def app(make_app):
    app = make_app(
        OPEN_BOOKINGS_PER_EMAIL=CAP,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 40, "pool_timeout": 60},
    )
    with app.app_context():
        yield app


def _race(app, form: dict, departure_id: int) -> Counter:
    barrier = threading.Barrier(ATTEMPTS)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        try:
            status = client.post(
                f"/departures/{departure_id}/book",
                data=form,
                # Every attempt from its own address: only the per-email cap can stop them.
                environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"},
            ).status_code
        except Exception:  # noqa: BLE001 — the testing app lets a failure through: a 500
            status = 500
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == ATTEMPTS, "some attempts never finished"
    return Counter(statuses)


def _round(app, email: str) -> tuple[Counter, int]:
    make = Factories(db.session)
    departure = make.departure(capacity=ATTEMPTS * 3, starts_in=timedelta(days=4))
    form = form_for(departure, email=email)
    departure_id = departure.id
    db.session.commit()
    statuses = _race(app, form, departure_id)
    db.session.rollback()
    stored = db.session.scalar(
        select(func.count(Booking.id)).where(func.lower(Booking.contact_email) == email)
    )
    return statuses, stored


def test_thirty_simultaneous_holds_with_one_email_give_exactly_the_cap(app):
    for n in range(2):
        statuses, stored = _round(app, f"racer{n}@example.org")
        assert statuses[303] == CAP, statuses
        assert statuses[429] == ATTEMPTS - CAP, statuses
        assert stored == CAP


def test_negative_control_without_serialising_the_cap_leaks(app, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises holds by its write lock (see the module doc)")
    # The hold of tickets takes the caps' locks within its booking's insert (lock_params).
    monkeypatch.setattr(hold_caps, "lock_params", lambda *args: None)
    broken = False
    for n in range(CONTROL_ROUNDS):
        statuses, stored = _round(app, f"leak{n}@example.org")
        if stored > CAP or statuses[303] != CAP or statuses[429] != ATTEMPTS - CAP:
            print(f"negative control: {statuses} with {stored} stored in round {n + 1}")
            broken = True
            break
    assert broken, "without serialising, the race never beat the cap: the test cannot fail"
