"""``bench/raw_hold_wsgi.py``, the hold's ceiling in ``bench/http_bench.py``, does the hold's
real work on today's schema: it books, claims the seat, queues the email and refuses a seat
that is not there, changing nothing then. A ceiling that skipped the checks, or SQL that no
longer matches the tables, would make the benchmark's ratio meaningless. PostgreSQL only:
its statements are PostgreSQL's (advisory locks, ``FOR NO KEY UPDATE``)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from werkzeug.test import Client

from bench import raw_hold_wsgi
from tests.conftest import is_postgres
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import Booking, BookingStatus, Departure, Notification
from tourism.models.jobs import Job
from tourism.services.ledger import split_rules

pytestmark = pytest.mark.skipif(
    not is_postgres(), reason="the raw hold's SQL is PostgreSQL's; the PostgreSQL pass runs it"
)


@pytest.fixture
def raw_hold(monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr(raw_hold_wsgi, "_connection", None)
    yield Client(raw_hold_wsgi.app)
    if raw_hold_wsgi._connection is not None:
        raw_hold_wsgi._connection.close()


def _post(client: Client, departure, email: str, address: str):
    adult = departure.experience.price_categories[0]
    body = {
        f"qty_{adult.id}": "1",
        "name": "Bench Tourist",
        "email": email,
        "phone": "+593 99 000 0000",
        "country": "EC",
        "language": "es",
        "payment_method": "on_arrival",
    }
    return client.post(
        f"/departures/{departure.id}/book",
        data=urlencode(body),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Forwarded-For": address},
    )


def test_the_raw_hold_books_claims_and_queues_like_the_app(app, make, raw_hold):
    departure = make.departure(make.experience(prices={"adult": 4500}), capacity=1)
    db.session.commit()

    first = _post(raw_hold, departure, "Ana@Example.org", "10.0.0.1")
    assert first.status_code == 303, first.text
    db.session.expire_all()  # the departure object read before the hold is out of date
    booking = db.session.scalars(select(Booking).where(Booking.departure_id == departure.id)).one()
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.total_cents == 4500
    # The rule in force at the sale, as the app's insert takes it.
    in_force = split_rules.rule_id_in_force(db.session, departure.experience_id, utcnow())
    assert booking.split_rule_id == in_force
    assert first.headers["Location"] == f"/bookings/{booking.manage_token}"
    assert db.session.get(Departure, departure.id).seats_confirmed == 1
    assert db.session.scalar(select(func.count()).where(Notification.booking_id == booking.id)) == 1
    key = f"email:booking:{booking.id}:confirmed"
    assert db.session.scalar(select(func.count()).where(Job.key == key)) == 1

    # The one seat is taken: refused, and nothing of the second hold is left.
    second = _post(raw_hold, departure, "ben@example.org", "10.0.0.2")
    assert second.status_code == 409
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(Booking.departure_id == departure.id)) == 1
    assert db.session.get(Departure, departure.id).seats_confirmed == 1
